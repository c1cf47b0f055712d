// Unit tests of zhsm-admin's table printer and human-readable formats.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "tools/admin/table.h"

namespace zhsm::admin {
namespace {

TEST(Table, AlignsColumnsTwoSpacesApartWithoutTrailingBlanks) {
  Table t({{"NAME"}, {"TIER"}, {"USED", Table::Align::right}});
  t.add_row({"fs1-b1", "ssd", "1.5 KiB"});
  t.add_row({"b", "archive", "7 B"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "NAME    TIER        USED\n"
            "fs1-b1  ssd      1.5 KiB\n"
            "b       archive      7 B\n");
}

TEST(Table, EmptyTableSaysNone) {
  Table t({{"NAME"}, {"STATE"}});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(), "NAME  STATE\n(none)\n");
}

TEST(Table, EmptyCellsKeepTheColumnsInPlace) {
  Table t({{"A"}, {"B", Table::Align::right}, {"C"}});
  t.add_row({"", "", "x"});
  t.add_row({"long", "22", ""});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "A      B  C\n"
            "          x\n"
            "long  22\n");
}

TEST(Table, WidthCountsCodePointsNotBytes) {
  Table t({{"N"}, {"X"}});
  t.add_row({"größe", "1"});
  t.add_row({"abc", "2"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "N      X\n"
            "größe  1\n"
            "abc    2\n");
}

TEST(Table, ControlCharactersAreEscaped) {
  Table t({{"NAME"}});
  t.add_row({"evil\nname\x1b[31m"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "NAME\n"
            "evil\\x0aname\\x1b[31m\n");
}

TEST(Fields, ValuesLineUpAfterTheLongestKey) {
  std::ostringstream out;
  print_fields(out, {{"inode", "42"}, {"chunk size", "16.0 MiB"}, {"empty", ""}});
  EXPECT_EQ(out.str(),
            "inode       42\n"
            "chunk size  16.0 MiB\n"
            "empty\n");
}

TEST(Human, Bytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(16 * 1024 * 1024), "16.0 MiB");
  EXPECT_EQ(human_bytes(1024 * 1024 - 1), "1.0 MiB");  // never "1024.0 KiB"
  EXPECT_EQ(human_bytes(5ull * 1024 * 1024 * 1024 + 300ull * 1024 * 1024), "5.3 GiB");
  EXPECT_EQ(human_bytes(3ull << 40), "3.0 TiB");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(Human, Age) {
  EXPECT_EQ(human_age(0), "0 ms");
  EXPECT_EQ(human_age(999), "999 ms");
  EXPECT_EQ(human_age(1000), "1.0 s");
  EXPECT_EQ(human_age(4290), "4.2 s");
  EXPECT_EQ(human_age(59'999), "59.9 s");
  EXPECT_EQ(human_age(192'000), "3m 12s");
  EXPECT_EQ(human_age(2 * 3'600'000 + 5 * 60'000), "2h 05m");
  EXPECT_EQ(human_age(3 * 86'400'000ull + 4 * 3'600'000), "3d 04h");
}

TEST(Human, Mode) {
  EXPECT_EQ(human_mode(0644, '-'), "0644 (-rw-r--r--)");
  EXPECT_EQ(human_mode(0755, 'd'), "0755 (drwxr-xr-x)");
  EXPECT_EQ(human_mode(04755, '-'), "4755 (-rwsr-xr-x)");
  EXPECT_EQ(human_mode(02644, '-'), "2644 (-rw-r-Sr--)");
  EXPECT_EQ(human_mode(01777, 'd'), "1777 (drwxrwxrwt)");
  EXPECT_EQ(human_mode(0, 'l'), "0000 (l---------)");
}

TEST(Human, TimeIsLocalWithNanoseconds) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(human_time_ns(0), "1970-01-01 00:00:00.000000000 +0000");
  EXPECT_EQ(human_time_ns(1'700'000'000'123'456'789), "2023-11-14 22:13:20.123456789 +0000");
  EXPECT_EQ(human_time_ns(-1), "1969-12-31 23:59:59.999999999 +0000");
}

}  // namespace
}  // namespace zhsm::admin
