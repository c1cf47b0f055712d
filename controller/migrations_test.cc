// Unit tests of the migrations compiled into the controller: numbered without gaps, each
// non-empty, and the first one creates the tables the store relies on.
#include <gtest/gtest.h>

#include "controller/migrations.h"

namespace zhsm {
namespace {

TEST(Migrations, NumberedFromOneWithoutGaps) {
  auto all = builtin_migrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(all[i].sql.empty());
  }
  EXPECT_EQ(all[0].name, "001_initial.sql");
}

TEST(Migrations, InitialSchemaHasTheTables) {
  auto sql = builtin_migrations()[0].sql;
  for (const char* table : {"schema_version", "settings", "clients", "servers", "backends",
                            "inodes", "dentries", "xattrs", "chunks", "chunk_copies", "tokens",
                            "deletions"})
    EXPECT_NE(sql.find(std::string("CREATE TABLE ") + table + " ("), std::string_view::npos)
        << table;
}

}  // namespace
}  // namespace zhsm
