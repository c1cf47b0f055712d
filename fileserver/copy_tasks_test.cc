// Tests of copy tasks between real data services on loopback: a copy is byte-identical
// with the same head; a wrong checksum, a source at another version and a dead source;
// tasks done twice, queued twice and more than may run at once; and the bandwidth
// limit (checked on the limiter's computed delays, not on the wall clock).
#include <sys/stat.h>

#include <atomic>
#include <future>
#include <thread>

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/rpc_server.h"
#include "common/token.h"
#include "fileserver/bandwidth_limiter.h"
#include "fileserver/copy_tasks.h"
#include "fileserver/data_service.h"
#include "fileserver/fileserver_metrics.h"
#include "fileserver/test_dir.h"

namespace zhsm::fileserver {
namespace {

using namespace std::chrono_literals;

const std::string kKey = "0123456789abcdef0123456789abcdef";

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed + i / 4096);
  return v;
}

TEST(BandwidthLimiterTest, DelaysEachTransferByTheCostOfThoseBefore) {
  BandwidthLimiter limiter;
  auto t0 = BandwidthLimiter::Clock::time_point{} + 1000s;
  EXPECT_EQ(limiter.reserve(4 << 20, t0), 0ns);  // unlimited
  limiter.set_rate(1 << 20);                      // 1 MiB/s
  EXPECT_EQ(limiter.reserve(4 << 20, t0), 0ns);  // the first starts at once
  EXPECT_EQ(limiter.reserve(4 << 20, t0), 4s);   // the next once 4 MiB are paid for
  EXPECT_EQ(limiter.reserve(1 << 20, t0 + 4s), 4s);
  EXPECT_EQ(limiter.reserve(1 << 20, t0 + 20s), 0ns);  // idle since: at once
  EXPECT_EQ(limiter.total_delay(), 8s);
  limiter.set_rate(0);
  EXPECT_EQ(limiter.reserve(1 << 30, t0 + 20s), 0ns);
}

// One file server's data service on one backend.
struct Server {
  ScopedTestDir dir{"zhsm-copy-test"};
  std::unique_ptr<ObjectStore> store;
  std::unique_ptr<RpcServer> rpc;
  std::string address;
};

class CopyTasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metric::describe_all(metrics_);
    for (auto* s : {&src1_, &src2_, &dst_}) start(*s);
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (copies_) copies_->stop();
    for (auto* s : {&src1_, &src2_, &dst_}) s->rpc->stop();
    work_.reset();
    std::this_thread::sleep_for(20ms);
    io_.stop();
    thread_.join();
    pool_.join();
    copies_.reset();
  }

  void start(Server& s) {
    s.store = ObjectStore::open(ObjectStore::Options{s.dir.path(), "b", "hdd", {}});
    auto ctx = std::make_shared<DataServiceContext>();
    ctx->cluster_key = kKey;
    ctx->backends[s.store->id()] = s.store.get();
    ctx->pool = &pool_;
    ctx->metrics = &metrics_;
    std::shared_ptr<const DataServiceContext> shared = ctx;
    s.rpc = std::make_unique<RpcServer>(
        io_, "127.0.0.1:0",
        [shared](const std::string& peer) { return std::make_shared<DataService>(shared, peer); },
        "copy-test");
    s.rpc->start();
    s.address = "127.0.0.1:" + std::to_string(s.rpc->port());
  }

  void make_copies(size_t max_running = 2) {
    CopyTasksOptions o;
    o.backends[dst_.store->id()] = dst_.store.get();
    o.pool = &pool_;
    o.metrics = &metrics_;
    o.max_running = max_running;
    o.call_timeout = 5s;
    copies_ = std::make_shared<CopyTasks>(io_, o);
  }

  // Commits `data` as the next version of `id` on `s`; returns its head.
  ObjectHead put(Server& s, const Uuid& id, const std::vector<uint8_t>& data) {
    auto w = s.store->begin_write(id, fsid_, 4, 0);
    for (size_t at = 0; at < data.size(); at += 1 << 20)
      s.store->write(*w, at, data.data() + at, std::min<size_t>(1 << 20, data.size() - at));
    s.store->commit(*w, mtime_);
    return *s.store->head(id);
  }

  std::vector<uint8_t> get(Server& s, const Uuid& id) {
    auto head = s.store->head(id);
    if (!head) return {};
    std::vector<uint8_t> out(head->size);
    out.resize(s.store->read(id, fsid_, 0, out.data(), out.size()));
    return out;
  }

  struct Ref {
    Server* server;
    std::string address;  // empty: the server's
  };

  // A copy task for `head` to the destination, reading from `sources` in order.
  void task(const ObjectHead& head, std::vector<Ref> sources, std::optional<Digest> sha,
            capnp::MallocMessageBuilder& msg) {
    auto t = msg.initRoot<proto::CopyTask>();
    t.setBackend(dst_.store->id().data());
    t.setUuid(head.uuid.data());
    t.setIndex(head.index);
    t.setVersion(head.version);
    t.setSize(head.size);
    if (sha) t.setSha256(capnp::Data::Reader(sha->data(), sha->size()));
    t.setMtimeNs(head.mtime_ns);
    TokenFields f;
    f.token_id = 9;
    f.fsid = fsid_;
    f.ino = 77;
    f.mode = proto::AccessMode::READ;
    f.expires_ms = now_ms() + 60000;
    sign_token(kKey, f, t.initToken());
    auto list = t.initSources(static_cast<unsigned>(sources.size()));
    for (unsigned i = 0; i < sources.size(); ++i) {
      list[i].setBackend(sources[i].server->store->id().data());
      list[i].setBackendName(i == 0 ? "first" : "second");
      list[i].setAddress(sources[i].address.empty() ? sources[i].server->address
                                                    : sources[i].address);
    }
  }

  bool submit(const ObjectHead& head, std::vector<Ref> sources,
              std::optional<Digest> sha = std::nullopt) {
    capnp::MallocMessageBuilder msg;
    task(head, std::move(sources), sha, msg);
    return copies_->submit(msg.getRoot<proto::CopyTask>().asReader());
  }

  // Waits up to ten seconds for `n` results.
  std::vector<CopyOutcome> results(size_t n) {
    for (int i = 0; i < 1000; ++i) {
      auto r = copies_->results(100);
      if (r.size() >= n) return r;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "no " << n << " copy results within ten seconds";
    return copies_->results(100);
  }

  size_t temp_files(Server& s) const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(s.dir.path() / "tmp")) ++n;
    return n;
  }

  Metrics metrics_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool pool_{2};
  std::thread thread_;
  Server src1_, src2_, dst_;
  std::shared_ptr<CopyTasks> copies_;
  Uuid fsid_ = Uuid::random();
  int64_t mtime_ = 1700000000987654321;
};

TEST_F(CopyTasksTest, CopyIsByteIdenticalWithTheSameHead) {
  make_copies();
  auto id = Uuid::random();
  auto data = pattern(9 << 20, 1);  // three reads: 4 + 4 + 1 MiB
  auto head = put(src1_, id, data);
  ASSERT_TRUE(submit(head, {{&src1_, ""}}, head.sha256));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].ok) << r[0].message;
  EXPECT_EQ(r[0].sha256, head.sha256);
  EXPECT_EQ(r[0].uuid, id);
  EXPECT_EQ(r[0].backend, dst_.store->id());
  EXPECT_EQ(r[0].version, head.version);
  ASSERT_TRUE(dst_.store->head(id).has_value());
  EXPECT_EQ(*dst_.store->head(id), head);
  EXPECT_TRUE(get(dst_, id) == data);
  EXPECT_EQ(temp_files(dst_), 0u);
  EXPECT_EQ(copies_->active(), 0u);
  auto text = metrics_.render();
  EXPECT_NE(text.find("zhsm_fileserver_copies_done_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("zhsm_fileserver_copy_bytes_total 9437184"), std::string::npos) << text;
  EXPECT_NE(text.find("zhsm_fileserver_copies_running 0"), std::string::npos) << text;

  // The results stay until confirmed.
  EXPECT_EQ(copies_->results(100).size(), 1u);
  copies_->confirm(1);
  EXPECT_TRUE(copies_->results(100).empty());

  // The same task again: success without copying (the file is not replaced).
  struct stat before {};
  auto path = shard_path(dst_.dir.path(), id);
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  ASSERT_TRUE(submit(head, {{&src1_, ""}}, head.sha256));
  auto again = results(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].ok) << again[0].message;
  EXPECT_EQ(again[0].sha256, head.sha256);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  text = metrics_.render();
  EXPECT_NE(text.find("zhsm_fileserver_copy_bytes_total 9437184"), std::string::npos) << text;
}

TEST_F(CopyTasksTest, WrongChecksumFailsAndLeavesNothing) {
  make_copies();
  auto id = Uuid::random();
  auto head = put(src1_, id, pattern(100000, 2));
  Digest wrong{};
  wrong[0] = 1;
  ASSERT_TRUE(submit(head, {{&src1_, ""}}, wrong));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].code, Errc::io);
  EXPECT_NE(r[0].message.find("checksum mismatch"), std::string::npos) << r[0].message;
  EXPECT_NE(r[0].message.find("source 'first'"), std::string::npos) << r[0].message;
  EXPECT_FALSE(dst_.store->head(id).has_value());
  EXPECT_EQ(temp_files(dst_), 0u);
  auto text = metrics_.render();
  EXPECT_NE(text.find("zhsm_fileserver_copies_failed_total{code=\"io\"} 1"), std::string::npos)
      << text;
}

TEST_F(CopyTasksTest, SourceAtAnotherVersionIsStaleAndTheNextIsTried) {
  make_copies();
  auto id = Uuid::random();
  put(src1_, id, pattern(1000, 3));                // version 1 only
  put(src2_, id, pattern(1000, 3));
  auto head = put(src2_, id, pattern(2000, 4));    // version 2
  ASSERT_EQ(head.version, 2u);

  // Only the outdated source: stale, naming both versions.
  ASSERT_TRUE(submit(head, {{&src1_, ""}}));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].code, Errc::stale);
  EXPECT_NE(r[0].message.find("version 1"), std::string::npos) << r[0].message;
  EXPECT_NE(r[0].message.find("version 2"), std::string::npos) << r[0].message;
  EXPECT_FALSE(dst_.store->head(id).has_value());
  copies_->confirm(1);

  // The outdated one first, then the current one.
  ASSERT_TRUE(submit(head, {{&src1_, ""}, {&src2_, ""}}));
  r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].ok) << r[0].message;
  EXPECT_EQ(*dst_.store->head(id), head);
  EXPECT_TRUE(get(dst_, id) == pattern(2000, 4));
  EXPECT_EQ(temp_files(dst_), 0u);
}

TEST_F(CopyTasksTest, DeadSourceFallsBackToTheNext) {
  make_copies();
  auto id = Uuid::random();
  auto head = put(src2_, id, pattern(5000, 5));
  // Nothing listens on port 1 of the loopback address.
  ASSERT_TRUE(submit(head, {{&src1_, "127.0.0.1:1"}, {&src2_, ""}}, head.sha256));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].ok) << r[0].message;
  EXPECT_EQ(*dst_.store->head(id), head);
  EXPECT_EQ(temp_files(dst_), 0u);
}

TEST_F(CopyTasksTest, DestinationHoldingANewerVersionIsStale) {
  make_copies();
  auto id = Uuid::random();
  auto head = put(src1_, id, pattern(100, 6));
  put(dst_, id, pattern(100, 6));
  put(dst_, id, pattern(100, 7));  // version 2 here
  ASSERT_TRUE(submit(head, {{&src1_, ""}}));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].code, Errc::stale) << r[0].message;
  EXPECT_EQ(dst_.store->head(id)->version, 2u);
}

TEST_F(CopyTasksTest, TasksAreQueuedOnceAndRunAtMostMaxAtOnce) {
  make_copies(2);
  // The network thread waits at this gate: no task makes progress while the test looks.
  std::promise<void> gate;
  asio::post(io_, [opened = gate.get_future().share()] { opened.wait(); });
  std::vector<ObjectHead> heads;
  for (int i = 0; i < 3; ++i) heads.push_back(put(src1_, Uuid::random(), pattern(3 << 20, 8)));
  for (auto& h : heads) ASSERT_TRUE(submit(h, {{&src1_, ""}}));
  EXPECT_FALSE(submit(heads[0], {{&src1_, ""}}));  // already queued or running
  EXPECT_EQ(copies_->active(), 3u);
  auto text = metrics_.render();
  EXPECT_NE(text.find("zhsm_fileserver_copies_running 2"), std::string::npos) << text;
  gate.set_value();
  auto r = results(3);
  ASSERT_EQ(r.size(), 3u);
  for (auto& o : r) EXPECT_TRUE(o.ok) << o.message;
  EXPECT_EQ(copies_->active(), 0u);
}

TEST_F(CopyTasksTest, RunningTasksReportTheirProgressAndEndWithACallback) {
  make_copies();
  std::atomic<int> ended{0};
  copies_->on_result([&] { ++ended; });
  copies_->set_bandwidth_limit(8 << 20);  // 10 MiB take about a second
  auto id = Uuid::random();
  auto head = put(src1_, id, pattern(10 << 20, 7));
  ASSERT_TRUE(submit(head, {{&src1_, ""}}, head.sha256));
  bool partway = false;
  for (int i = 0; i < 1000 && !partway; ++i) {
    for (const auto& r : copies_->running())
      if (r.uuid == id && r.bytes_done > 0 && r.bytes_done < (10u << 20)) partway = true;
    if (!partway) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(partway) << "no progress seen while the copy ran";
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].ok) << r[0].message;
  EXPECT_TRUE(copies_->running().empty()) << "a finished task is not running";
  for (int i = 0; i < 1000 && ended.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(ended.load(), 1) << "the callback runs once per finished task";
}

TEST_F(CopyTasksTest, BandwidthLimitDelaysTheReads) {
  make_copies();
  // 40 MiB/s: the third 4 MiB read may start only once 8 MiB are paid for, 200 ms
  // after the first; the delays computed make up that time less the transfers'.
  copies_->set_bandwidth_limit(40 << 20);
  auto id = Uuid::random();
  auto head = put(src1_, id, pattern(10 << 20, 9));
  ASSERT_TRUE(submit(head, {{&src1_, ""}}, head.sha256));
  auto r = results(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].ok) << r[0].message;
  auto delay = copies_->limiter().total_delay();
  EXPECT_LE(delay, 200ms);
  EXPECT_GT(delay, 100ms);
  EXPECT_TRUE(get(dst_, id) == pattern(10 << 20, 9));
}

TEST_F(CopyTasksTest, MalformedTaskFailsAtOnce) {
  make_copies();
  capnp::MallocMessageBuilder msg;
  auto head = put(src1_, Uuid::random(), pattern(10, 1));
  task(head, {}, std::nullopt, msg);
  EXPECT_FALSE(copies_->submit(msg.getRoot<proto::CopyTask>().asReader()));
  auto r = copies_->results(10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, Errc::invalid);
  EXPECT_NE(r[0].message.find("no source"), std::string::npos) << r[0].message;
}

}  // namespace
}  // namespace zhsm::fileserver
