// The schema migrations compiled into the controller (generated from schema/NNN_*.sql by
// controller/embed_migrations.py). Versions are 1, 2, ... without gaps, in order.
#pragma once

#include <span>
#include <string_view>

namespace zhsm {

struct Migration {
  int version;            // the NNN of the file name
  std::string_view name;  // the file name, e.g. "001_initial.sql"
  std::string_view sql;   // the whole file, applied in one transaction
};

// Every migration this binary knows, ascending by version. Static storage.
std::span<const Migration> builtin_migrations();

}  // namespace zhsm
