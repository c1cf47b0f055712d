// CachingMetaStore: see meta_cache.h for why the cache is safe.
#include "controller/meta_cache.h"

#include <type_traits>

#include "common/error.h"
#include "common/metrics.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {
namespace {

// Errors a store throws before anything is committed: the change did not happen. Any
// other error (the database went away, an internal fault) leaves the outcome unknown.
bool nothing_committed(Errc code) {
  switch (code) {
    case Errc::io:
    case Errc::disconnected:
    case Errc::overloaded:
    case Errc::timeout:
    case Errc::internal:
      return false;
    default:
      return true;
  }
}

}  // namespace

size_t CachingMetaStore::EntryHash::operator()(const EntryKey& k) const {
  return std::hash<std::string>()(k.name) ^ (std::hash<uint64_t>()(k.parent) * 0x9e3779b97f4a7c15ULL);
}

CachingMetaStore::CachingMetaStore(std::unique_ptr<MetaStore> inner, MetaCacheOptions options)
    : inner_(std::move(inner)),
      options_(options),
      attrs_(options.attrs),
      entries_(options.entries),
      xattrs_(options.xattrs),
      bare_(options.xattrs),
      complete_dirs_(options.xattrs),
      inline_(options.inline_files + 1) {}

void CachingMetaStore::expose(Metrics& metrics) {
  metrics.describe("zhsm_controller_meta_cache_hits_total", "counter",
                   "Lookups, stats, xattr reads and tokenless opens answered from memory");
  metrics.describe("zhsm_controller_meta_cache_misses_total", "counter",
                   "Lookups, stats, xattr reads and tokenless opens that asked the database");
  metrics.describe("zhsm_controller_meta_cache_entries", "gauge",
                   "Attributes, names and xattrs held in memory");
  metrics.describe("zhsm_controller_meta_cache_inline_files", "gauge",
                   "Small files whose inline bytes are held in memory");
  metrics.describe("zhsm_controller_meta_cache_inline_bytes", "gauge",
                   "Inline bytes of small files held in memory");
  metrics.on_scrape([this](Metrics& m) {
    Stats s = stats();
    m.set("zhsm_controller_meta_cache_inline_files", static_cast<double>(s.inline_files));
    m.set("zhsm_controller_meta_cache_inline_bytes", static_cast<double>(s.inline_bytes));
    m.set("zhsm_controller_meta_cache_hits_total", static_cast<double>(s.hits));
    m.set("zhsm_controller_meta_cache_misses_total", static_cast<double>(s.misses));
    m.set("zhsm_controller_meta_cache_entries", static_cast<double>(s.entries));
  });
}

CachingMetaStore::Stats CachingMetaStore::stats() const {
  std::lock_guard lock(mu_);
  return Stats{hits_.load(), misses_.load(),
               attrs_.size() + entries_.size() + xattrs_.size() + bare_.size() +
                   complete_dirs_.size(),
               inline_.size(), inline_held_};
}

void CachingMetaStore::keep_attr(const InodeAttr& attr) {
  if (attr.nlink == 0) {
    attrs_.erase(attr.ino);
    return;
  }
  attrs_.put(attr.ino, attr);
}

void CachingMetaStore::keep_new(const InodeAttr& attr) {
  keep_attr(attr);
  if (attr.version != 1) return;  // changed since it was made (every change bumps it)
  bare_.put(attr.ino, true);
  if (attr.type == proto::FileType::DIRECTORY) complete_dirs_.put(attr.ino, true);
}

void CachingMetaStore::keep_dirs(const TouchedDirs& dirs) {
  for (const auto& dir : dirs) keep_attr(dir);
}

void CachingMetaStore::put_name(const EntryKey& key, uint64_t ino) {
  if (auto evicted = entries_.put(key, ino)) complete_dirs_.erase(evicted->parent);
}

void CachingMetaStore::drop_name(const EntryKey& key) {
  entries_.erase(key);
  complete_dirs_.erase(key.parent);
}

void CachingMetaStore::keep_inline(const InodeAttr& attr, std::string bytes) {
  if (attr.type != proto::FileType::REGULAR || attr.nlink == 0 || bytes.size() != attr.size ||
      bytes.size() > options_.inline_bytes || options_.inline_files == 0)
    return;
  if (InlineBytes* held = inline_.find(attr.ino)) {
    if (held->version >= attr.version) return;  // as new already
    inline_held_ -= held->bytes.size();
    inline_.erase(attr.ino);
  }
  while (inline_held_ + bytes.size() > options_.inline_bytes ||
         inline_.size() >= options_.inline_files) {
    auto oldest = inline_.pop_oldest();
    if (!oldest) break;
    inline_held_ -= oldest->second.bytes.size();
  }
  inline_held_ += bytes.size();
  inline_.put(attr.ino, InlineBytes{attr.fsid, attr.version, std::move(bytes)});
}

std::optional<OpenResult> CachingMetaStore::open_from_memory(const OpenArgs& args) {
  const InodeAttr* attr = attrs_.find(args.ino);
  if (attr == nullptr || attr->type != proto::FileType::REGULAR || attr->nlink == 0)
    return std::nullopt;
  const InlineBytes* held = inline_.find(args.ino);
  if (held == nullptr || held->version != attr->version || held->fsid != attr->fsid ||
      held->bytes.size() != attr->size)
    return std::nullopt;
  OpenResult out;
  out.attr = *attr;
  out.token = TokenInfo{0, attr->fsid, args.ino, args.mode, 0, args.client_id};
  out.is_inline = true;
  out.inline_data = held->bytes;
  return out;
}

void CachingMetaStore::forget_everything() {
  std::lock_guard lock(mu_);
  clear();
  ++epoch_;
}

void CachingMetaStore::clear() {
  attrs_.clear();
  entries_.clear();
  xattrs_.clear();
  bare_.clear();
  complete_dirs_.clear();
}

uint64_t CachingMetaStore::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

void CachingMetaStore::keep_if_unchanged(uint64_t since, const std::function<void()>& keep) {
  std::lock_guard lock(mu_);
  if (epoch_ == since) keep();
}

void CachingMetaStore::changed(uint64_t since, const std::function<void(bool alone)>& update) {
  std::lock_guard lock(mu_);
  const bool alone = epoch_ == since;
  update(alone);
  ++epoch_;
}

template <class F>
auto CachingMetaStore::run_change(F&& fn, const std::function<void()>& forget)
    -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    std::lock_guard lock(mu_);
    if (nothing_committed(e.code()))
      forget();
    else
      clear();
    ++epoch_;
    throw;
  } catch (...) {
    std::lock_guard lock(mu_);
    clear();
    ++epoch_;
    throw;
  }
}

// ---- reads

std::optional<InodeAttr> CachingMetaStore::peek_lookup(uint64_t parent, std::string_view name) {
  check_name(name);
  std::lock_guard lock(mu_);
  if (const uint64_t* ino = entries_.find(EntryKey{parent, std::string(name)})) {
    if (*ino == 0) {
      ++hits_;
      throw no_entry(parent, name);
    }
    if (const InodeAttr* attr = attrs_.find(*ino)) {
      ++hits_;
      return *attr;
    }
  } else if (complete_dirs_.find(parent)) {
    ++hits_;
    throw no_entry(parent, name);
  }
  return std::nullopt;
}

InodeAttr CachingMetaStore::lookup(uint64_t parent, std::string_view name) {
  if (auto attr = peek_lookup(parent, name)) return *attr;
  ++misses_;
  EntryKey key{parent, std::string(name)};
  const uint64_t since = epoch();
  try {
    InodeAttr attr = inner_->lookup(parent, name);
    keep_if_unchanged(since, [&] {
      put_name(key, attr.ino);
      keep_attr(attr);
    });
    return attr;
  } catch (const Error& e) {
    if (e.code() == Errc::not_found) keep_if_unchanged(since, [&] { put_name(key, 0); });
    throw;
  }
}

std::optional<OpenResult> CachingMetaStore::peek_open(const OpenArgs& args) {
  if (args.truncate || !wants_no_token(args)) return std::nullopt;
  std::lock_guard lock(mu_);
  auto r = open_from_memory(args);
  if (r) ++hits_;
  return r;
}

std::optional<InodeAttr> CachingMetaStore::peek_getattr(uint64_t ino) {
  std::lock_guard lock(mu_);
  const InodeAttr* attr = attrs_.find(ino);
  if (!attr) return std::nullopt;
  ++hits_;
  return *attr;
}

InodeAttr CachingMetaStore::getattr(uint64_t ino) {
  if (auto attr = peek_getattr(ino)) return *attr;
  ++misses_;
  const uint64_t since = epoch();
  InodeAttr attr = inner_->getattr(ino);
  keep_if_unchanged(since, [&] { keep_attr(attr); });
  return attr;
}

std::optional<std::string> CachingMetaStore::peek_getxattr(uint64_t ino, std::string_view name) {
  check_xattr_name(name);
  std::lock_guard lock(mu_);
  const auto* value = xattrs_.find(XattrKey{ino, std::string(name)});
  if (value && *value) {
    ++hits_;
    return **value;
  }
  if (value || bare_.find(ino)) {
    ++hits_;
    throw no_xattr(ino, name);
  }
  return std::nullopt;
}

std::string CachingMetaStore::getxattr(uint64_t ino, std::string_view name) {
  if (auto value = peek_getxattr(ino, name)) return *value;
  ++misses_;
  XattrKey key{ino, std::string(name)};
  const uint64_t since = epoch();
  try {
    std::string value = inner_->getxattr(ino, name);
    if (value.size() <= options_.max_xattr_value)
      keep_if_unchanged(since, [&] { xattrs_.put(key, value); });
    return value;
  } catch (const Error& e) {
    if (e.code() == Errc::no_data)
      keep_if_unchanged(since, [&] { xattrs_.put(key, std::nullopt); });
    throw;
  }
}

DirPage CachingMetaStore::readdir(uint64_t ino, uint64_t after, uint32_t max_entries) {
  const uint64_t since = epoch();
  DirPage page = inner_->readdir(ino, after, max_entries);
  keep_if_unchanged(since, [&] {
    for (const auto& e : page.entries) {
      if (e.name == "." || e.name == "..") continue;
      put_name(EntryKey{ino, e.name}, e.attr.ino);
      keep_attr(e.attr);
    }
  });
  return page;
}

// ---- changes
//
// Each change forgets what it made stale; when no other change completed while it ran
// (`alone`), it also keeps its own results. A name it cannot keep costs its directory the
// mark of being complete.

template <class F>
auto CachingMetaStore::change_attrs(uint64_t ino, F&& change) -> decltype(change()) {
  const uint64_t since = epoch();
  auto result = run_change(std::forward<F>(change), [&] { attrs_.erase(ino); });
  changed(since, [&](bool alone) {
    attrs_.erase(ino);
    if (!alone) return;
    if constexpr (std::is_same_v<decltype(result), OpenResult>)
      keep_attr(result.attr);
    else
      keep_attr(result);
  });
  return result;
}

InodeAttr CachingMetaStore::setattr(const SetattrArgs& args) {
  return change_attrs(args.ino, [&] { return inner_->setattr(args); });
}

template <class F>
NodeResult CachingMetaStore::add_node(const NodeArgs& args, F&& make) {
  const uint64_t since = epoch();
  EntryKey key{args.parent, args.name};
  auto forget = [&] {
    attrs_.erase(args.parent);
    drop_name(key);
  };
  NodeResult node = run_change(std::forward<F>(make), forget);
  changed(since, [&](bool alone) {
    attrs_.erase(args.parent);
    if (!alone) return drop_name(key);
    put_name(key, node.ino);
    keep_new(node);
    keep_dirs(node.dirs);
  });
  return node;
}

NodeResult CachingMetaStore::mknod(const NodeArgs& args) {
  return add_node(args, [&] { return inner_->mknod(args); });
}

NodeResult CachingMetaStore::mkdir(const NodeArgs& args) {
  return add_node(args, [&] { return inner_->mkdir(args); });
}

NodeResult CachingMetaStore::symlink(const NodeArgs& args) {
  return add_node(args, [&] { return inner_->symlink(args); });
}

NodeResult CachingMetaStore::link(uint64_t ino, uint64_t new_parent, std::string_view new_name) {
  const uint64_t since = epoch();
  EntryKey key{new_parent, std::string(new_name)};
  auto forget = [&] {
    attrs_.erase(ino);
    attrs_.erase(new_parent);
    drop_name(key);
  };
  NodeResult node = run_change([&] { return inner_->link(ino, new_parent, new_name); }, forget);
  changed(since, [&](bool alone) {
    attrs_.erase(ino);
    attrs_.erase(new_parent);
    if (!alone) return drop_name(key);
    put_name(key, node.ino);
    keep_attr(node);
    keep_dirs(node.dirs);
  });
  return node;
}

RemoveResult CachingMetaStore::remove_name(uint64_t parent, std::string_view name,
                                           const std::function<RemoveResult()>& remove) {
  const uint64_t since = epoch();
  EntryKey key{parent, std::string(name)};
  RemoveResult removed = run_change(remove, [&] {
    attrs_.erase(parent);
    drop_name(key);
  });
  changed(since, [&](bool alone) {
    attrs_.erase(parent);
    attrs_.erase(removed.ino);
    complete_dirs_.erase(removed.ino);
    if (!alone) return drop_name(key);
    put_name(key, 0);
    keep_dirs(removed.dirs);
  });
  return removed;
}

RemoveResult CachingMetaStore::unlink(uint64_t parent, std::string_view name) {
  return remove_name(parent, name, [&] { return inner_->unlink(parent, name); });
}

RemoveResult CachingMetaStore::rmdir(uint64_t parent, std::string_view name) {
  return remove_name(parent, name, [&] { return inner_->rmdir(parent, name); });
}

RenameResult CachingMetaStore::rename(const RenameArgs& args) {
  const uint64_t since = epoch();
  EntryKey from{args.parent, args.name};
  EntryKey to{args.new_parent, args.new_name};
  auto forget = [&] {
    attrs_.erase(args.parent);
    attrs_.erase(args.new_parent);
    drop_name(from);
    drop_name(to);
  };
  RenameResult r = run_change([&] { return inner_->rename(args); }, forget);
  changed(since, [&](bool alone) {
    forget();
    attrs_.erase(r.moved);
    attrs_.erase(r.other);
    if (!alone || r.moved == 0) return;  // (0: the names were links of one inode)
    put_name(to, r.moved);
    put_name(from, args.exchange ? r.other : 0);
    keep_dirs(r.dirs);
  });
  return r;
}

void CachingMetaStore::setxattr(uint64_t ino, std::string_view name, std::string_view value,
                                bool create, bool replace) {
  const uint64_t since = epoch();
  XattrKey key{ino, std::string(name)};
  auto forget = [&] {
    attrs_.erase(ino);
    xattrs_.erase(key);
    bare_.erase(ino);
  };
  run_change([&] { inner_->setxattr(ino, name, value, create, replace); }, forget);
  changed(since, [&](bool alone) {
    forget();
    if (alone && value.size() <= options_.max_xattr_value) xattrs_.put(key, std::string(value));
  });
}

void CachingMetaStore::removexattr(uint64_t ino, std::string_view name) {
  const uint64_t since = epoch();
  XattrKey key{ino, std::string(name)};
  auto forget = [&] {
    attrs_.erase(ino);
    xattrs_.erase(key);
  };
  run_change([&] { inner_->removexattr(ino, name); }, forget);
  changed(since, [&](bool alone) {
    forget();
    if (alone) xattrs_.put(key, std::nullopt);
  });
}

OpenResult CachingMetaStore::open(const OpenArgs& args) {
  if (!args.truncate) {
    const bool tokenless = wants_no_token(args);
    if (auto r = peek_open(args)) return std::move(*r);
    // Records a token (or nothing, see above); the attributes are a read.
    const uint64_t since = epoch();
    OpenArgs asked = args;
    if (tokenless) {
      ++misses_;
      // A file whose attributes show it is not small gets a token anyway: ask for one
      // at once, sparing the store its look at whether the file is inline.
      std::lock_guard lock(mu_);
      const InodeAttr* attr = attrs_.find(args.ino);
      if (attr && (attr->type != proto::FileType::REGULAR ||
                   attr->size > inner_->settings().inline_max))
        asked.inline_without_token = false;
    }
    OpenResult r = inner_->open(asked);
    std::lock_guard lock(mu_);
    if (epoch_ == since) keep_attr(r.attr);
    // Bytes with their version stay true whatever changed meanwhile.
    if (r.is_inline) keep_inline(r.attr, r.inline_data);
    return r;
  }
  return change_attrs(args.ino, [&] { return inner_->open(args); });
}

OpenResult CachingMetaStore::create(const CreateArgs& args) {
  const uint64_t since = epoch();
  EntryKey key{args.parent, args.name};
  OpenResult r = run_change([&] { return inner_->create(args); }, [&] {
    attrs_.erase(args.parent);
    drop_name(key);
  });
  changed(since, [&](bool alone) {
    attrs_.erase(args.parent);
    attrs_.erase(r.attr.ino);
    if (!alone) return drop_name(key);
    put_name(key, r.attr.ino);
    keep_new(r.attr);
    keep_dirs(r.dirs);
  });
  return r;
}

InodeAttr CachingMetaStore::commit_data(const CommitArgs& args) {
  InodeAttr attr = change_attrs(args.ino, [&] { return inner_->commit_data(args); });
  std::lock_guard lock(mu_);
  keep_committed_inline(args, attr);
  return attr;
}

void CachingMetaStore::keep_committed_inline(const CommitArgs& args, const InodeAttr& attr) {
  // What the store keeps for a commit that sets the inline bytes: the first `size` of
  // them, at the version the commit made.
  if (!args.set_inline || args.drop_inline || !args.chunks.empty() || attr.size != args.size ||
      attr.size > inner_->settings().inline_max || args.inline_data.size() < attr.size)
    return;
  keep_inline(attr, args.inline_data.substr(0, attr.size));
}

std::vector<CommitOutcome> CachingMetaStore::commit_data_batch(
    const std::vector<const CommitArgs*>& batch) {
  // change_attrs for several inodes: the batch is one change.
  const uint64_t since = epoch();
  auto forget = [&] {
    for (const CommitArgs* a : batch) attrs_.erase(a->ino);
  };
  auto out = run_change([&] { return inner_->commit_data_batch(batch); }, forget);
  bool unknown = false;  // a commit failed without saying whether it changed anything
  for (const auto& o : out) {
    if (!o.error) continue;
    try {
      std::rethrow_exception(o.error);
    } catch (const Error& e) {
      unknown = unknown || !nothing_committed(e.code());
    } catch (...) {
      unknown = true;
    }
  }
  changed(since, [&](bool alone) {
    if (unknown) return clear();
    forget();
    if (!alone) return;
    for (const auto& o : out)  // in order: of two commits of one inode, the later is kept
      if (o.attr) keep_attr(*o.attr);
  });
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].attr) keep_committed_inline(*batch[i], *out[i].attr);
  return out;
}

}  // namespace zhsm
