// The controller's lock table (see lock_table.h): conflicts, POSIX range merging and
// splitting, flock and append whole-file locks, and dropping by token or client.
#include "controller/lock_table.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace zhsm {
namespace {

using Kind = proto::LockKind;
using Type = proto::LockType;

bool same_holder(const LockSpec& a, const LockSpec& b) {
  return a.kind == b.kind && a.client == b.client && a.owner == b.owner;
}

bool overlaps(const LockSpec& l, uint64_t start, uint64_t end) {
  return l.start <= end && start <= l.end;
}

// Overlapping or adjacent: two ranges of one type that touch become one.
bool touches(const LockSpec& l, uint64_t start, uint64_t end) {
  return (l.end == kLockToEof || l.end + 1 >= start) && (end == kLockToEof || end + 1 >= l.start);
}

}  // namespace

std::string lock_kind_name(proto::LockKind kind) {
  switch (kind) {
    case Kind::POSIX: return "posix";
    case Kind::FLOCK: return "flock";
    case Kind::APPEND: return "append";
  }
  return "kind" + std::to_string(static_cast<int>(kind));
}

std::string lock_type_name(proto::LockType type) {
  switch (type) {
    case Type::READ: return "read";
    case Type::WRITE: return "write";
    case Type::UNLOCK: return "unlock";
  }
  return "type" + std::to_string(static_cast<int>(type));
}

LockOutcome LockTable::set(const LockSpec& r) {
  std::lock_guard lock(mu_);
  std::vector<LockSpec>& held = by_ino_[r.ino];
  const size_t before = held.size();
  LockOutcome out;
  if (r.kind == Kind::POSIX) {
    if (r.type != Type::UNLOCK) out.conflict = first_conflict(held, r);
    if (!out.conflict) {
      set_posix(held, r);
      out.granted = true;
    }
  } else {
    auto mine = std::find_if(held.begin(), held.end(),
                             [&](const LockSpec& l) { return same_holder(l, r); });
    if (r.type == Type::UNLOCK) {
      if (mine != held.end()) held.erase(mine);
      out.granted = true;
    } else if (mine != held.end() && mine->type == r.type) {
      mine->token = r.token;
      mine->pid = r.pid;
      out.granted = true;
    } else {
      if (mine != held.end()) {  // a conversion: the old lock goes first, as on Linux
        held.erase(mine);
        out.dropped_old = true;
      }
      out.conflict = first_conflict(held, r);
      if (!out.conflict) {
        held.push_back(r);
        out.granted = true;
      }
    }
  }
  count_ = count_ + held.size() - before;
  if (held.empty()) by_ino_.erase(r.ino);
  return out;
}

std::optional<LockSpec> LockTable::test(const LockSpec& probe) const {
  std::lock_guard lock(mu_);
  auto it = by_ino_.find(probe.ino);
  if (it == by_ino_.end()) return std::nullopt;
  return first_conflict(it->second, probe);
}

std::optional<LockSpec> LockTable::first_conflict(const std::vector<LockSpec>& held,
                                                  const LockSpec& probe) const {
  std::optional<LockSpec> found;
  for (const auto& l : held) {
    if (l.kind != probe.kind || same_holder(l, probe)) continue;
    if (!overlaps(l, probe.start, probe.end)) continue;
    if (l.type != Type::WRITE && probe.type != Type::WRITE) continue;  // readers share
    if (!found || l.start < found->start) found = l;
  }
  return found;
}

// Linux's posix_lock_inode for one holder: same-type ranges that touch the request merge
// into it; other ranges of the holder that overlap it keep only their parts outside it.
// The holder's ranges never overlap one another, so merging cannot swallow a range of
// the other type.
void LockTable::set_posix(std::vector<LockSpec>& held, const LockSpec& r) {
  std::vector<LockSpec> out;
  out.reserve(held.size() + 2);
  uint64_t start = r.start;
  uint64_t end = r.end;
  for (const auto& l : held) {
    if (!same_holder(l, r)) {
      out.push_back(l);
    } else if (r.type != Type::UNLOCK && l.type == r.type && touches(l, start, end)) {
      start = std::min(start, l.start);
      end = std::max(end, l.end);
    } else if (!overlaps(l, r.start, r.end)) {
      out.push_back(l);
    } else {
      if (l.start < r.start) {
        LockSpec left = l;
        left.end = r.start - 1;
        out.push_back(left);
      }
      if (l.end > r.end) {
        LockSpec right = l;
        right.start = r.end + 1;
        out.push_back(right);
      }
    }
  }
  if (r.type != Type::UNLOCK) {
    LockSpec merged = r;
    merged.start = start;
    merged.end = end;
    out.push_back(merged);
  }
  held = std::move(out);
}

size_t LockTable::drop_if(const std::function<bool(const LockSpec&)>& pred) {
  size_t dropped = 0;
  for (auto it = by_ino_.begin(); it != by_ino_.end();) {
    dropped += std::erase_if(it->second, pred);
    it = it->second.empty() ? by_ino_.erase(it) : std::next(it);
  }
  count_ -= dropped;
  return dropped;
}

size_t LockTable::drop_token(uint64_t token) {
  std::lock_guard lock(mu_);
  return drop_if([token](const LockSpec& l) { return l.token == token; });
}

size_t LockTable::drop_client(uint64_t client) {
  std::lock_guard lock(mu_);
  return drop_if([client](const LockSpec& l) { return l.client == client; });
}

std::vector<uint64_t> LockTable::tokens() const {
  std::lock_guard lock(mu_);
  std::set<uint64_t> ids;
  for (const auto& [ino, held] : by_ino_)
    for (const auto& l : held) ids.insert(l.token);
  return {ids.begin(), ids.end()};
}

size_t LockTable::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

std::vector<LockSpec> LockTable::locks_of(uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end()) return {};
  std::vector<LockSpec> out = it->second;
  std::sort(out.begin(), out.end(), [](const LockSpec& a, const LockSpec& b) {
    return std::tuple(a.kind, a.client, a.owner, a.start) <
           std::tuple(b.kind, b.client, b.owner, b.start);
  });
  return out;
}

}  // namespace zhsm
