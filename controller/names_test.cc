// Unit tests of name validation and path splitting.
#include <gtest/gtest.h>

#include "common/error.h"
#include "controller/names.h"

namespace zhsm {
namespace {

Errc code_of(std::string_view name) {
  try {
    check_name(name);
    return Errc::ok;
  } catch (const Error& e) {
    return e.code();
  }
}

TEST(Names, ValidNames) {
  EXPECT_EQ(code_of("a"), Errc::ok);
  EXPECT_EQ(code_of("..."), Errc::ok);
  EXPECT_EQ(code_of(".hidden"), Errc::ok);
  EXPECT_EQ(code_of(std::string(255, 'x')), Errc::ok);
  EXPECT_EQ(code_of("\xff\xfe"), Errc::ok);  // names are bytes, not UTF-8
}

TEST(Names, InvalidNames) {
  EXPECT_EQ(code_of(""), Errc::invalid);
  EXPECT_EQ(code_of("."), Errc::invalid);
  EXPECT_EQ(code_of(".."), Errc::invalid);
  EXPECT_EQ(code_of("a/b"), Errc::invalid);
  EXPECT_EQ(code_of(std::string("a\0b", 3)), Errc::invalid);
  EXPECT_EQ(code_of(std::string(256, 'x')), Errc::name_too_long);
}

TEST(Names, SplitPath) {
  EXPECT_TRUE(split_path("/").empty());
  EXPECT_EQ(split_path("/a//b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_path("/a/./b/../c"), (std::vector<std::string>{"a", "b", "..", "c"}));
  EXPECT_THROW(split_path("a/b"), Error);
  EXPECT_THROW(split_path(""), Error);
  try {
    split_path("/" + std::string(300, 'y'));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::name_too_long);
  }
}

TEST(Names, PrintableName) {
  EXPECT_EQ(printable_name("abc"), "abc");
  EXPECT_EQ(printable_name("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable_name(std::string(100, 'z')).size(), 83u);
}

}  // namespace
}  // namespace zhsm
