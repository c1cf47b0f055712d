// The conformance suite of the metadata interface: one set of tests (the *_test.cc files
// beside this one) that every MetaStore implementation must pass, run against the
// in-memory fake (controller/mem_meta_store_test.cc, suite 'unit') and against PostgreSQL
// (controller/db/pg_conformance_test.cc, suite 'controller-db'). A StoreBackend makes a
// fresh store per test; StoreTestKit holds the controllable clock and the helpers that
// build namespaces and read error codes, shared with the PostgreSQL-only fixture.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "controller/meta_store.h"
#include "controller/store_options.h"

namespace zhsm {

// What a test may need to know that the interface does not show: rows of the PostgreSQL
// tables of the same name.
struct StoreCounts {
  uint64_t deletions = 0;     // queued object deletions
  uint64_t chunks = 0;        // chunk rows
  uint64_t inline_files = 0;  // inodes holding inline bytes
};

// The store settings of one test.
struct StoreConfig {
  uint64_t chunk_size = 0;
  uint64_t inline_max = 0;
  StoreOptions options;
};

// One implementation of the metadata interface under test.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // A name for test names ("memory", "postgres").
  virtual std::string name() const = 0;
  // Why this backend cannot run here, or empty. Not being able to run is a test failure,
  // never a skip.
  virtual std::string unavailable() { return {}; }
  // A fresh store holding only the root directory, created with the clock's time.
  virtual std::unique_ptr<MetaStore> open_fresh(const StoreConfig& config) = 0;
  virtual StoreCounts counts(MetaStore& store) = 0;
  // What is wrong with the store's rows, one line per problem: rows naming an inode that
  // does not exist, link counts that do not match the entries. Checked after every
  // conformance test; the PostgreSQL schema leaves these references to the controller
  // (schema/005_no_hot_foreign_keys.sql).
  virtual std::vector<std::string> integrity_problems(MetaStore&) { return {}; }
};

// The clock, the store and helpers; mixed into the gtest fixtures.
class StoreTestKit {
 public:
  static constexpr uint64_t kChunkSize = 1 << 20;
  static constexpr uint64_t kInlineMax = 4096;
  static constexpr int64_t kTokenLifetimeMs = 60000;
  static constexpr int64_t kHeartbeatTimeoutMs = 10000;

  // The configuration of a test store, with the clock below.
  StoreConfig config(uint64_t chunk_size = kChunkSize, uint64_t inline_max = kInlineMax);

  MetaStore& store() { return *store_; }
  void advance_ms(int64_t ms) { now_ns_ += ms * 1000000; }
  int64_t now_ms() const { return now_ns_ / 1000000; }

  // The error code fn throws, or ok.
  static Errc code_of(const std::function<void()>& fn);

  InodeAttr mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755);
  InodeAttr mknod(uint64_t parent, const std::string& name);  // a regular file
  OpenResult create(uint64_t parent, const std::string& name,
                    proto::AccessMode mode = proto::AccessMode::READ_WRITE);
  // Registers server `server_name` at "127.0.0.1:9000" with backend `backend_name`
  // (2 GiB total, `free_bytes` free) and returns the backend's UUID.
  Uuid register_backend(const std::string& server_name = "fs1",
                        const std::string& backend_name = "b1", uint64_t free_bytes = 1 << 30);
  // A commitData that sets the inline bytes of `open`'s file to `data`.
  static CommitArgs inline_commit(const OpenResult& open, const std::string& data,
                                  int64_t mtime_ns = 0);
  // A commitData with one chunk update.
  InodeAttr commit_chunk(const OpenResult& open, uint64_t index, const Uuid& uuid,
                         uint64_t version, uint64_t chunk_bytes, uint64_t file_size,
                         const Uuid& backend);

  Caller caller_{1000, 100};
  std::atomic<int64_t> now_ns_{0};
  std::unique_ptr<MetaStore> store_;
};

// The parameterized fixture of the conformance tests: the parameter is the backend.
class MetaStoreTest : public ::testing::TestWithParam<StoreBackend*>, public StoreTestKit {
 protected:
  void SetUp() override;
  void TearDown() override;

  StoreBackend& backend() { return *GetParam(); }
  StoreCounts counts() { return backend().counts(store()); }
};

// The suites of the conformance tests (one per file).
class NamespaceTest : public MetaStoreTest {};
class RenameTest : public MetaStoreTest {};
class FilesTest : public MetaStoreTest {};
class ServersTest : public MetaStoreTest {};
class ThreadsTest : public MetaStoreTest {};

// Runs every conformance suite against `backend` (a StoreBackend*), naming the tests
// Prefix/Suite.Test/<backend name>. Use once per test binary, at namespace scope.
#define ZHSM_CONFORMANCE_SUITES(Prefix, backend)                                            \
  INSTANTIATE_TEST_SUITE_P(Prefix, NamespaceTest, ::testing::Values(backend),               \
                           ::zhsm::conformance_test_name);                                  \
  INSTANTIATE_TEST_SUITE_P(Prefix, RenameTest, ::testing::Values(backend),                  \
                           ::zhsm::conformance_test_name);                                  \
  INSTANTIATE_TEST_SUITE_P(Prefix, FilesTest, ::testing::Values(backend),                   \
                           ::zhsm::conformance_test_name);                                  \
  INSTANTIATE_TEST_SUITE_P(Prefix, ServersTest, ::testing::Values(backend),                 \
                           ::zhsm::conformance_test_name);                                  \
  INSTANTIATE_TEST_SUITE_P(Prefix, ThreadsTest, ::testing::Values(backend),                 \
                           ::zhsm::conformance_test_name)

std::string conformance_test_name(const ::testing::TestParamInfo<StoreBackend*>& info);

}  // namespace zhsm
