// Test fixture for the PostgreSQL metadata store: a private PostgreSQL for the whole test
// binary (tools/zhsm-pg under $ZHSM_SOURCE_ROOT, or an existing database named by
// $ZHSM_TEST_DB), a freshly migrated schema for every test, a store with a controllable
// clock, and helpers that build namespaces and read error codes.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "controller/db/pg_connect.h"
#include "controller/meta_store.h"

namespace zhsm {

// The conninfo of the test database, or empty when none could be started.
const std::string& test_conninfo();

class PgStoreTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kChunkSize = 1 << 20;
  static constexpr uint64_t kInlineMax = 4096;
  static constexpr int64_t kTokenLifetimeMs = 60000;
  static constexpr int64_t kHeartbeatTimeoutMs = 10000;

  void SetUp() override;
  void TearDown() override;

  // Drops everything and opens a new store (migrations applied).
  void reset_database();
  void open_store(uint64_t chunk_size = kChunkSize, uint64_t inline_max = kInlineMax);

  MetaStore& store() { return *store_; }
  void advance_ms(int64_t ms) { now_ns_ += ms * 1000000; }
  int64_t now_ms() const { return now_ns_ / 1000000; }

  // The error code fn throws, or ok.
  static Errc code_of(const std::function<void()>& fn);

  InodeAttr mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755);
  InodeAttr mknod(uint64_t parent, const std::string& name);  // a regular file
  OpenResult create(uint64_t parent, const std::string& name,
                    proto::AccessMode mode = proto::AccessMode::READ_WRITE);
  // Registers server "fs1" at "127.0.0.1:9000" with backend "b1" (1 GiB free) and
  // returns the backend's UUID.
  Uuid register_backend(const std::string& server_name = "fs1",
                        const std::string& backend_name = "b1", uint64_t free_bytes = 1 << 30);
  // A commitData with one chunk update.
  InodeAttr commit_chunk(const OpenResult& open, uint64_t index, const Uuid& uuid,
                         uint64_t version, uint64_t chunk_bytes, uint64_t file_size,
                         const Uuid& backend);
  // Rows of a table (for checks the interface does not expose).
  long count_rows(const std::string& sql);

  Caller caller_{1000, 100};
  std::atomic<int64_t> now_ns_{0};
  std::unique_ptr<MetaStore> store_;
};

}  // namespace zhsm
