// The small text formatting zhsm-admin's subcommands share: an aligned table
// with a header row, a "key  value" field list, and the human-readable forms of
// sizes, ages, modes and times. Human output only; --json prints exact numbers.
// Cells are sanitized here (control characters become \xNN), so a hostile name
// reported by a server cannot break the layout or the operator's terminal.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zhsm::admin {

class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string header;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns);

  // Adds one row; it must have exactly as many cells as the table has columns.
  void add_row(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // Prints the header and the rows, columns two spaces apart, no trailing
  // blanks. A table without rows prints its header and "(none)".
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Prints "key  value" lines with the values aligned after the longest key.
void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields);

// Replaces control characters (and DEL) by \xNN; everything else is kept.
std::string sanitize(std::string_view text);
// Terminal columns the text takes: UTF-8 code points (continuation bytes do not count).
size_t display_width(std::string_view text);

// 512 B, 1.5 KiB, 16.0 MiB, 2.3 GiB ... (binary units).
std::string human_bytes(uint64_t bytes);
// 350 ms, 4.2 s, 3m 12s, 2h 05m, 3d 04h.
std::string human_age(uint64_t ms);
// "0644 (-rw-r--r--)" for permission bits plus the ls type letter.
std::string human_mode(uint32_t mode, char type_letter);
// Nanoseconds since the epoch as local "YYYY-MM-DD HH:MM:SS.nnnnnnnnn +ZZZZ".
std::string human_time_ns(int64_t ns);

}  // namespace zhsm::admin
