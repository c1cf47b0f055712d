// Tests of CachingMetaStore over the in-memory store: what it answers without asking the
// store, and that a change is never hidden by a stale entry, also when a read races it.
// (The conformance suite also runs whole behind the cache: mem_meta_store_test.cc.)
#include "controller/meta_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "common/error.h"
#include "controller/conformance/store_fixture.h"
#include "controller/mem_meta_store.h"

namespace zhsm {
namespace {

// The in-memory store, counting the reads that reach it; getattr can be held halfway
// (after reading, before answering) to stage a race.
class CountingStore : public MemMetaStore {
 public:
  CountingStore() : MemMetaStore(Settings{Uuid(), 1 << 20, 4096}, StoreOptions{}) {}

  InodeAttr lookup(uint64_t parent, std::string_view name) override {
    ++reads;
    return MemMetaStore::lookup(parent, name);
  }
  InodeAttr getattr(uint64_t ino) override {
    ++reads;
    InodeAttr attr = MemMetaStore::getattr(ino);
    if (hold_getattr.exchange(false)) {
      read_done.set_value();
      resume.get_future().wait();
    }
    return attr;
  }
  std::string getxattr(uint64_t ino, std::string_view name) override {
    ++reads;
    return MemMetaStore::getxattr(ino, name);
  }
  InodeAttr setattr(const SetattrArgs& args) override {
    if (fail_setattr) throw Error(fail_setattr_with, "injected");
    return MemMetaStore::setattr(args);
  }
  OpenResult open(const OpenArgs& args) override {
    ++opens;
    asked_without_token = args.inline_without_token;
    return MemMetaStore::open(args);
  }

  std::atomic<int> reads{0};
  std::atomic<int> opens{0};
  std::atomic<bool> asked_without_token{false};
  std::atomic<bool> hold_getattr{false};
  std::promise<void> read_done, resume;
  bool fail_setattr = false;
  Errc fail_setattr_with = Errc::disconnected;
};

class MetaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = std::make_unique<CountingStore>();
    inner_ = inner.get();
    cache_ = std::make_unique<CachingMetaStore>(std::move(inner), options());
  }
  virtual MetaCacheOptions options() { return {}; }

  InodeAttr file(const std::string& name, uint64_t parent = 1) {
    NodeArgs a;
    a.parent = parent;
    a.name = name;
    a.mode = 0644;
    return cache_->mknod(a);
  }
  InodeAttr dir(const std::string& name) {
    NodeArgs a;
    a.parent = 1;
    a.name = name;
    a.mode = 0755;
    return cache_->mkdir(a);
  }
  Errc code_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return Errc::ok;
  }

  CountingStore* inner_;
  std::unique_ptr<CachingMetaStore> cache_;
};

TEST_F(MetaCacheTest, RepeatedReadsDoNotReachTheStore) {
  auto f = file("f");
  inner_->reads = 0;
  EXPECT_EQ(cache_->getattr(f.ino).ino, f.ino);
  EXPECT_EQ(cache_->lookup(1, "f").ino, f.ino);
  EXPECT_EQ(code_of([&] { cache_->lookup(1, "missing"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { cache_->getxattr(f.ino, "security.capability"); }), Errc::no_data);
  const int first = inner_->reads;  // "missing" (the new file is known to have no xattrs)
  EXPECT_EQ(first, 1);
  for (int i = 0; i < 10; ++i) {
    cache_->getattr(f.ino);
    cache_->lookup(1, "f");
    EXPECT_EQ(code_of([&] { cache_->lookup(1, "missing"); }), Errc::not_found);
    EXPECT_EQ(code_of([&] { cache_->getxattr(f.ino, "security.capability"); }), Errc::no_data);
  }
  EXPECT_EQ(inner_->reads, first);
  EXPECT_GE(cache_->stats().hits, 40u);
}

// The kernel forgets a directory's attributes after every create or remove in it and asks
// again: the change's own report of the directory answers that getattr.
TEST_F(MetaCacheTest, DirectoriesAChangeTouchedAreKnownAfterIt) {
  auto d = dir("d");
  auto f = file("f", d.ino);
  auto check = [&](const char* what) {
    inner_->reads = 0;
    auto cached = cache_->getattr(d.ino);
    EXPECT_EQ(inner_->reads, 0) << what;
    auto truth = inner_->MemMetaStore::getattr(d.ino);
    EXPECT_EQ(cached.version, truth.version) << what;
    EXPECT_EQ(cached.mtime_ns, truth.mtime_ns) << what;
    EXPECT_EQ(cached.nlink, truth.nlink) << what;
    inner_->reads = 0;
    EXPECT_EQ(cache_->getattr(1).version, inner_->MemMetaStore::getattr(1).version) << what;
    EXPECT_EQ(inner_->reads, 0) << what;
  };
  check("mknod");
  NodeArgs sub;
  sub.parent = d.ino;
  sub.name = "sub";
  sub.mode = 0755;
  cache_->mkdir(sub);
  check("mkdir");
  cache_->link(f.ino, d.ino, "g");
  check("link");
  cache_->unlink(d.ino, "g");
  check("unlink");
  cache_->rmdir(d.ino, "sub");
  check("rmdir");
  RenameArgs r;
  r.parent = d.ino;
  r.name = "f";
  r.new_parent = 1;
  r.new_name = "f2";
  cache_->rename(r);
  check("rename");
  CreateArgs c;
  c.parent = d.ino;
  c.name = "c";
  c.mode = 0644;
  cache_->create(c);
  check("create");
}

TEST_F(MetaCacheTest, ChangesAreSeenAtOnce) {
  auto f = file("f");
  cache_->getattr(f.ino);
  EXPECT_EQ(code_of([&] { cache_->lookup(1, "g"); }), Errc::not_found);  // cached absent
  auto g = cache_->link(f.ino, 1, "g");
  EXPECT_EQ(cache_->lookup(1, "g").ino, f.ino);
  EXPECT_EQ(cache_->getattr(f.ino).nlink, 2u);
  cache_->unlink(1, "f");
  EXPECT_EQ(code_of([&] { cache_->lookup(1, "f"); }), Errc::not_found);
  EXPECT_EQ(cache_->lookup(1, "g").nlink, 1u);  // through the other name
  SetattrArgs s;
  s.ino = g.ino;
  s.mode = 0600;
  cache_->setattr(s);
  EXPECT_EQ(cache_->getattr(g.ino).mode, 0600u);
  cache_->setxattr(g.ino, "user.a", "1", false, false);
  EXPECT_EQ(cache_->getxattr(g.ino, "user.a"), "1");
  cache_->removexattr(g.ino, "user.a");
  EXPECT_EQ(code_of([&] { cache_->getxattr(g.ino, "user.a"); }), Errc::no_data);

  auto h = file("h");
  RenameArgs r;
  r.parent = 1;
  r.name = "g";
  r.new_parent = 1;
  r.new_name = "h";
  cache_->rename(r);  // replaces h
  EXPECT_EQ(code_of([&] { cache_->lookup(1, "g"); }), Errc::not_found);
  EXPECT_EQ(cache_->lookup(1, "h").ino, g.ino);
  EXPECT_EQ(code_of([&] { cache_->getattr(h.ino); }), Errc::not_found);  // replaced, reclaimed
  EXPECT_EQ(cache_->getattr(1).nlink, inner_->MemMetaStore::getattr(1).nlink);
}

TEST_F(MetaCacheTest, ANewDirectoryAndANewFileNeedNoReads) {
  auto d = dir("d");
  auto f = file("f", d.ino);
  inner_->reads = 0;
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(code_of([&] { cache_->lookup(d.ino, "x" + std::to_string(i)); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { cache_->getxattr(f.ino, "security.capability"); }), Errc::no_data);
  EXPECT_EQ(inner_->reads, 0);
  // A directory made elsewhere (here: behind the cache) is not taken as complete.
  NodeArgs a;
  a.parent = 1;
  a.name = "e";
  a.mode = 0755;
  auto e = inner_->MemMetaStore::mkdir(a);
  EXPECT_EQ(code_of([&] { cache_->lookup(e.ino, "x"); }), Errc::not_found);
  EXPECT_EQ(inner_->reads, 1);
}

TEST_F(MetaCacheTest, ASlowReadDoesNotPutBackWhatAChangeReplaced) {
  NodeArgs a;  // made behind the cache's back, so that the read misses
  a.parent = 1;
  a.name = "f";
  a.mode = 0644;
  auto f = inner_->MemMetaStore::mknod(a);
  inner_->hold_getattr = true;
  auto reader = std::async(std::launch::async, [&] { return cache_->getattr(f.ino); });
  inner_->read_done.get_future().wait();  // the reader holds the old attributes
  SetattrArgs s;
  s.ino = f.ino;
  s.mode = 0600;
  cache_->setattr(s);
  inner_->resume.set_value();
  EXPECT_EQ(reader.get().mode, 0644u);  // its own answer was right when read
  EXPECT_EQ(cache_->getattr(f.ino).mode, 0600u);
}

TEST_F(MetaCacheTest, AChangeOfUnknownOutcomeEmptiesTheCache) {
  auto f = file("f");
  cache_->getattr(f.ino);
  cache_->lookup(1, "f");
  inner_->fail_setattr = true;
  SetattrArgs s;
  s.ino = f.ino;
  s.mode = 0600;
  EXPECT_EQ(code_of([&] { cache_->setattr(s); }), Errc::disconnected);
  EXPECT_EQ(cache_->stats().entries, 0u);
  inner_->fail_setattr_with = Errc::not_found;  // refused: nothing changed, little forgotten
  cache_->getattr(f.ino);
  cache_->lookup(1, "f");
  EXPECT_EQ(code_of([&] { cache_->setattr(s); }), Errc::not_found);
  EXPECT_GE(cache_->stats().entries, 1u);  // the name stays
}

// A restarted PostgreSQL may have lost changes committed without a flush; the controller
// then empties the cache (ConnectionPool::on_replaced), so what the database no longer
// has is not answered from memory.
TEST_F(MetaCacheTest, ForgettingEverythingAsksTheStoreAgain) {
  auto f = file("lost");
  EXPECT_EQ(cache_->lookup(1, "lost").ino, f.ino);  // from memory: the create said so
  inner_->MemMetaStore::unlink(1, "lost");  // the database loses it behind the cache's back
  EXPECT_EQ(cache_->lookup(1, "lost").ino, f.ino) << "the cache was expected to still hold it";
  cache_->forget_everything();
  EXPECT_EQ(cache_->stats().entries, 0u);
  EXPECT_EQ(code_of([&] { cache_->lookup(1, "lost"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { cache_->getattr(f.ino); }), Errc::not_found);
}

class SmallMetaCacheTest : public MetaCacheTest {
  MetaCacheOptions options() override {
    MetaCacheOptions o;
    o.attrs = 4;
    o.entries = 4;
    o.xattrs = 4;
    return o;
  }
};

TEST_F(SmallMetaCacheTest, StaysWithinItsBounds) {
  for (int i = 0; i < 50; ++i) {
    auto f = file("f" + std::to_string(i));
    cache_->getattr(f.ino);
    EXPECT_EQ(code_of([&] { cache_->getxattr(f.ino, "user.x"); }), Errc::no_data);
  }
  EXPECT_LE(cache_->stats().entries, 20u);
  EXPECT_EQ(cache_->lookup(1, "f7").ino, inner_->MemMetaStore::lookup(1, "f7").ino);
}

TEST_F(SmallMetaCacheTest, AnEvictedNameIsNotTakenForAbsent) {
  auto d = dir("d");
  std::vector<uint64_t> inos;
  for (int i = 0; i < 10; ++i) inos.push_back(file("f" + std::to_string(i), d.ino).ino);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(cache_->lookup(d.ino, "f" + std::to_string(i)).ino, inos[i]);
}

// A small file written and read again: the reads that ask for no token come from memory
// while the attributes held show the version the bytes are of.
class InlineCacheTest : public MetaCacheTest {
 protected:
  MetaCacheOptions options() override {
    MetaCacheOptions o;
    o.inline_bytes = 10;
    return o;
  }
  OpenResult made(const std::string& name) {
    CreateArgs c;
    c.parent = 1;
    c.name = name;
    c.mode = 0644;
    c.client_id = 7;
    return cache_->create(c);
  }
  CommitArgs write(const OpenResult& f, const std::string& bytes) {
    return StoreTestKit::inline_commit(f, bytes);
  }
  OpenResult read(uint64_t ino) {
    OpenArgs a{ino, proto::AccessMode::READ, false, 7};
    a.inline_without_token = true;
    return cache_->open(a);
  }
};

TEST_F(InlineCacheTest, TokenlessOpensOfASmallFileComeFromMemoryAtItsVersion) {
  auto f = made("f");
  cache_->commit_data(write(f, "hello"));
  int opens = inner_->opens;
  auto r = read(f.attr.ino);
  EXPECT_EQ(inner_->opens, opens) << "the bytes the commit set were not kept";
  EXPECT_EQ(r.token.token_id, 0u);
  EXPECT_TRUE(r.is_inline);
  EXPECT_EQ(r.inline_data, "hello");
  EXPECT_EQ(r.attr.size, 5u);
  cache_->commit_data(write(f, "world!"));
  EXPECT_EQ(read(f.attr.ino).inline_data, "world!");
  EXPECT_EQ(inner_->opens, opens);

  // A change that does not say the bytes (a truncation) leaves the held ones at an older
  // version: the next read asks the store, and keeps what it answered.
  SetattrArgs cut;
  cut.ino = f.attr.ino;
  cut.size = 3;
  cache_->setattr(cut);
  EXPECT_EQ(read(f.attr.ino).inline_data, "wor");
  EXPECT_EQ(inner_->opens, opens + 1);
  EXPECT_EQ(read(f.attr.ino).inline_data, "wor");
  EXPECT_EQ(inner_->opens, opens + 1);

  // An open that asked for a token, or one that may write, always goes to the store.
  OpenArgs with_token{f.attr.ino, proto::AccessMode::READ, false, 7};
  auto t = cache_->open(with_token);
  EXPECT_NE(t.token.token_id, 0u);
  EXPECT_EQ(inner_->opens, opens + 2);
  cache_->release(t.token.token_id);

  // An unlinked file is never answered from memory: its create token keeps it for now,
  // and the store answers; once that goes, so does the file.
  cache_->unlink(1, "f");
  auto orphan = read(f.attr.ino);
  EXPECT_EQ(inner_->opens, opens + 3);
  EXPECT_EQ(orphan.attr.nlink, 0u);
  EXPECT_EQ(orphan.inline_data, "wor");
  cache_->release(f.token.token_id);
  EXPECT_EQ(code_of([&] { read(f.attr.ino); }), Errc::not_found);
}

TEST_F(InlineCacheTest, AFileTheAttributesShowLargeIsOpenedWithATokenAtOnce) {
  auto f = made("f");
  SetattrArgs grow;
  grow.ino = f.attr.ino;
  grow.size = 10000;  // past inline_max (4096)
  cache_->setattr(grow);
  auto r = read(f.attr.ino);
  EXPECT_FALSE(inner_->asked_without_token) << "the store was asked to look for inline bytes";
  EXPECT_NE(r.token.token_id, 0u);
  EXPECT_FALSE(r.is_inline);
  cache_->release(r.token.token_id);
  auto g = made("g");  // a small file: the store is asked to look
  cache_->commit_data(write(g, "abc"));
  SetattrArgs touch;
  touch.ino = g.attr.ino;
  touch.mtime_now = true;
  cache_->setattr(touch);  // a newer version than the bytes held
  EXPECT_EQ(read(g.attr.ino).token.token_id, 0u);
  EXPECT_TRUE(inner_->asked_without_token);
}

TEST_F(InlineCacheTest, HeldBytesStayWithinTheBudget) {
  auto a = made("a");
  auto b = made("b");
  CommitArgs wa = write(a, "1234567");
  CommitArgs wb = write(b, "abcdef");
  cache_->commit_data_batch({&wa, &wb});  // 13 bytes: only the later fits in 10
  EXPECT_LE(cache_->stats().inline_bytes, 10u);
  EXPECT_EQ(cache_->stats().inline_files, 1u);
  int opens = inner_->opens;
  EXPECT_EQ(read(b.attr.ino).inline_data, "abcdef");
  EXPECT_EQ(inner_->opens, opens);
  EXPECT_EQ(read(a.attr.ino).inline_data, "1234567");  // from the store, then held
  EXPECT_EQ(inner_->opens, opens + 1);
  EXPECT_EQ(cache_->stats().inline_files, 1u);
  EXPECT_EQ(cache_->stats().inline_bytes, 7u);
}

}  // namespace
}  // namespace zhsm
