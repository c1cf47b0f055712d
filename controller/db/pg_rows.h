// Conversions between libpqxx values and zhsm's plain types: bytea parameters and
// fields, UUID text, and the standard inode attribute column list every query that
// answers an Attr selects.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pqxx/binarystring>
#include <pqxx/field>
#include <pqxx/result>
#include <pqxx/row>

#include "common/uuid.h"
#include "controller/meta_types.h"

namespace zhsm {

// The columns attr_from_row() reads, in order, each prefixed with `table` ("i." or "").
std::string attr_columns(std::string_view table = "");
inline constexpr int kAttrColumnCount = 13;

// Reads kAttrColumnCount columns starting at `first`.
InodeAttr attr_from_row(const pqxx::row& row, int first = 0);

// A bytea parameter (sent in binary, no escaping).
pqxx::binarystring bytes_param(std::string_view bytes);
// A bytea field's raw bytes; empty for NULL.
std::string bytes_of(const pqxx::field& field);

// UUIDs travel to and from PostgreSQL in their canonical text form.
inline std::string uuid_param(const Uuid& id) { return id.str(); }
// Throws Error(internal) if the field is not a UUID.
Uuid uuid_of(const pqxx::field& field);

// A PostgreSQL array literal of integers ("{1,2,3}"), for `= ANY($1::bigint[])`.
std::string bigint_array(const std::vector<uint64_t>& ids);

}  // namespace zhsm
