// Runs the metadata conformance suite (controller/conformance/) against the in-memory
// MemMetaStore, plus the few checks that only make sense for the fake.
#include "controller/mem_meta_store.h"

#include "controller/meta_cache.h"

#include "controller/conformance/store_fixture.h"

namespace zhsm {
namespace {

class MemoryBackend : public StoreBackend {
 public:
  std::string name() const override { return "memory"; }
  std::unique_ptr<MetaStore> open_fresh(const StoreConfig& config) override {
    Settings s;
    s.chunk_size = config.chunk_size;
    s.inline_max = config.inline_max;
    return std::make_unique<MemMetaStore>(s, config.options);
  }
  StoreCounts counts(MetaStore& store) override {
    auto c = dynamic_cast<MemMetaStore&>(store).counts();
    return StoreCounts{c.deletions, c.chunks, c.inline_files};
  }
};

MemoryBackend memory_backend;

// The same store behind the controller's metadata cache: the cache must not change any
// answer.
class CachedMemoryBackend : public MemoryBackend {
 public:
  std::string name() const override { return "cached_memory"; }
  std::unique_ptr<MetaStore> open_fresh(const StoreConfig& config) override {
    return std::make_unique<CachingMetaStore>(MemoryBackend::open_fresh(config));
  }
  StoreCounts counts(MetaStore& store) override {
    return MemoryBackend::counts(dynamic_cast<CachingMetaStore&>(store).inner());
  }
};

CachedMemoryBackend cached_memory_backend;

}  // namespace

ZHSM_CONFORMANCE_SUITES(Memory, &memory_backend);
ZHSM_CONFORMANCE_SUITES(CachedMemory, &cached_memory_backend);

namespace {

TEST(MemMetaStoreTest, SettingsAndClock) {
  int64_t now = 5'000'000'000;
  StoreOptions o;
  o.clock_ns = [&] { return now; };
  MemMetaStore store(Settings{Uuid(), 1 << 20, 100}, o);
  EXPECT_FALSE(store.settings().cluster_id.is_nil());
  EXPECT_EQ(store.settings().chunk_size, 1u << 20);
  EXPECT_EQ(store.getattr(1).mtime_ns, now);
  now += 7;
  NodeArgs a;
  a.parent = 1;
  a.name = "d";
  a.mode = 0700;
  EXPECT_EQ(store.mkdir(a).ctime_ns, now);
  EXPECT_EQ(store.counts().inodes, 2u);
}

TEST(MemMetaStoreTest, RefusedCommitChangesNothing) {
  MemMetaStore store(Settings{Uuid(), 1 << 20, 100}, StoreOptions{});
  CreateArgs c;
  c.parent = 1;
  c.name = "f";
  auto open = store.create(c);
  ServerReport r{Uuid::random(), "fs", "h:1", {}, {}};
  r.backends.push_back(BackendReport{Uuid::random(), "b", "ssd", "/b", 10, 10, 0, 0});
  store.register_server(r);
  CommitArgs commit;
  commit.ino = open.attr.ino;
  commit.token_id = open.token.token_id;
  commit.size = 300;
  Uuid shared = Uuid::random();
  commit.chunks.push_back(ChunkUpdateArgs{0, shared, 1, 100, "", r.backends[0].id});
  commit.chunks.push_back(ChunkUpdateArgs{1, shared, 1, 100, "", r.backends[0].id});
  EXPECT_THROW(store.commit_data(commit), Error);
  EXPECT_EQ(store.counts().chunks, 0u);
  EXPECT_EQ(store.getattr(open.attr.ino).size, 0u);
}

}  // namespace
}  // namespace zhsm
