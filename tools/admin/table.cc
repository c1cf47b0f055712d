// Table layout and human-readable number formatting for zhsm-admin.
#include "tools/admin/table.h"

#include <time.h>

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace zhsm::admin {

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size() && "Table::add_row: cell count differs from columns");
  cells.resize(columns_.size());
  for (auto& c : cells) c = sanitize(c);
  rows_.push_back(std::move(cells));
}

namespace {

void print_line(std::ostream& out, const std::vector<std::string>& cells,
                const std::vector<Table::Column>& columns, const std::vector<size_t>& widths) {
  // Trailing blanks are dropped: remember the pending padding and only write it
  // when something follows.
  std::string line;
  size_t pending = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    size_t w = display_width(cells[i]);
    size_t pad = widths[i] > w ? widths[i] - w : 0;
    if (i > 0) pending += 2;
    if (columns[i].align == Table::Align::right) pending += pad;
    if (!cells[i].empty()) {
      line.append(pending, ' ');
      pending = 0;
      line += cells[i];
    }
    if (columns[i].align == Table::Align::left) pending += pad;
  }
  out << line << '\n';
}

}  // namespace

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths(columns_.size());
  std::vector<std::string> header;
  for (size_t i = 0; i < columns_.size(); ++i) {
    header.push_back(sanitize(columns_[i].header));
    widths[i] = display_width(header[i]);
  }
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  print_line(out, header, columns_, widths);
  if (rows_.empty()) {
    out << "(none)\n";
    return;
  }
  for (const auto& row : rows_) print_line(out, row, columns_, widths);
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, display_width(key));
  for (const auto& [key, value] : fields) {
    std::string k = sanitize(key);
    std::string v = sanitize(value);
    out << k;
    if (!v.empty()) out << std::string(width - display_width(k) + 2, ' ') << v;
    out << '\n';
  }
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

std::string human_bytes(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  size_t u = 0;
  // Switch unit before the one-decimal rounding would print "1024.0".
  while (v >= 1023.95 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string human_age(uint64_t ms) {
  char buf[48];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms / 100) / 10.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 "m %02" PRIu64 "s", ms / 60'000, ms / 1000 % 60);
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 "h %02" PRIu64 "m", ms / 3'600'000,
                  ms / 60'000 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRIu64 "d %02" PRIu64 "h", ms / 86'400'000,
                  ms / 3'600'000 % 24);
  }
  return buf;
}

std::string human_mode(uint32_t mode, char type_letter) {
  char perms[11];
  perms[0] = type_letter;
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) perms[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
  // setuid, setgid, sticky replace the x of their class, upper case without x.
  if (mode & 04000) perms[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) perms[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) perms[9] = (mode & 0001) ? 't' : 'T';
  perms[10] = '\0';
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04o (%s)", mode & 07777u, perms);
  return buf;
}

std::string human_time_ns(int64_t ns) {
  int64_t sec = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --sec;
  }
  time_t t = static_cast<time_t>(sec);
  struct tm tm {};
  if (localtime_r(&t, &tm) == nullptr) return std::to_string(ns) + " ns";
  char date[64];
  char zone[16];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  std::strftime(zone, sizeof zone, "%z", &tm);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s.%09" PRId64 " %s", date, frac, zone);
  return buf;
}

}  // namespace zhsm::admin
