// Unit tests of the object store on a temporary directory: sessions, commits and
// their SHA-256, the on-disk layout, conflicts, aborts, ownership, crash leftovers,
// and disk-full. A full disk is simulated with the store's fault hook (disk_io.h),
// which makes a chosen system call fail with ENOSPC before it runs; a real kernel
// failure is produced with RLIMIT_FSIZE (SIGXFSZ ignored, so write(2) fails EFBIG).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>

#include <gtest/gtest.h>

#include "common/error.h"
#include "fileserver/object_store.h"
#include "fileserver/test_dir.h"

namespace zhsm::fileserver {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(gen());
  return v;
}

// Fails the next system calls named `op` with `err` while armed.
struct Faults {
  std::mutex mu;
  std::string op;
  int err = 0;
  void arm(std::string o, int e) {
    std::lock_guard l(mu);
    op = std::move(o);
    err = e;
  }
  void disarm() { arm("", 0); }
  int check(std::string_view o) {
    std::lock_guard l(mu);
    if (o == "writeback") ++writebacks;
    return o == op ? err : 0;
  }
  int writebacks = 0;  // start_writeback calls seen
};

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_test_dir("zhsm-store-test");
    store_ = open_store();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(root_);
  }

  std::unique_ptr<ObjectStore> open_store(const std::string& name = "b1") {
    return ObjectStore::open(ObjectStore::Options{
        root_, name, "ssd",
        [this](std::string_view op, const std::filesystem::path&) { return faults_.check(op); }});
  }

  size_t temp_files() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(root_ / "tmp")) ++n;
    return n;
  }

  // Writes `data` in pieces of `piece` bytes, in order, and commits.
  CommitResult put(const Uuid& id, const std::vector<uint8_t>& data, uint64_t keep = 0,
                   size_t piece = 1 << 20) {
    auto s = store_->begin_write(id, owner_, 3, keep);
    for (size_t at = 0; at < data.size(); at += piece)
      store_->write(*s, at, data.data() + at, std::min(piece, data.size() - at));
    return store_->commit(*s, mtime_);
  }

  std::vector<uint8_t> get(const Uuid& id, uint64_t offset, size_t n) {
    std::vector<uint8_t> out(n);
    out.resize(store_->read(id, owner_, offset, out.data(), n));
    return out;
  }

  std::vector<uint8_t> get_session(WriteSession& s, uint64_t offset, size_t n) {
    std::vector<uint8_t> out(n);
    out.resize(store_->read(s, offset, out.data(), n));
    return out;
  }

  std::filesystem::path root_;
  Faults faults_;
  std::unique_ptr<ObjectStore> store_;
  Uuid owner_ = Uuid::random();
  int64_t mtime_ = 1700000000123456789;
};

TEST_F(ObjectStoreTest, CommitRoundTripWithIndependentSha256) {
  auto id = Uuid::random();
  auto data = random_bytes(3 * (1 << 20) + 12345, 1);
  auto r = put(id, data, 0, 700000);
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(r.size, data.size());
  EXPECT_EQ(r.sha256, sha256(data.data(), data.size()));
  EXPECT_EQ(get(id, 0, data.size()), data);
  auto tail = get(id, data.size() - 10, 100);  // short read at the end
  EXPECT_EQ(tail, std::vector<uint8_t>(data.end() - 10, data.end()));
  EXPECT_TRUE(get(id, data.size() + 5, 100).empty());
  EXPECT_EQ(temp_files(), 0u);
}

// Large pieces on block boundaries go with direct I/O (write_session.cc), the rest
// through the page cache: a mix of both, a page-cache tail a later direct piece writes
// over, an unaligned piece and a rewrite in the middle read back as written, and the
// commit's SHA-256 covers the bytes as they are on the disk.
TEST_F(ObjectStoreTest, DirectAndCachedWritesMixAndReadBackAsWritten) {
  auto id = Uuid::random();
  std::vector<uint8_t> want(6 * (1 << 20) + 777, 0);
  auto s = store_->begin_write(id, owner_, 0, 0);
  auto put_at = [&](uint64_t at, const std::vector<uint8_t>& piece) {
    store_->write(*s, at, piece.data(), piece.size());
    std::copy(piece.begin(), piece.end(), want.begin() + static_cast<std::ptrdiff_t>(at));
  };
  put_at(0, random_bytes(1 << 20, 21));                   // direct
  put_at(1 << 20, random_bytes((1 << 20) + 100, 22));     // direct, with a cached tail
  put_at(2 * (1 << 20), random_bytes(1 << 20, 23));       // direct over that tail's page
  put_at(3 * (1 << 20) + 5, random_bytes(1 << 20, 24));   // unaligned: cached
  put_at(4 * (1 << 20) + 5, random_bytes((2 << 20) + 772, 25));
  put_at(1 << 19, random_bytes(4096, 26));                // a rewrite inside a direct piece
  std::vector<uint8_t> back(want.size());
  ASSERT_EQ(store_->read(*s, 0, back.data(), back.size()), want.size());
  EXPECT_EQ(back, want);
  auto r = store_->commit(*s, mtime_);
  EXPECT_EQ(r.size, want.size());
  EXPECT_EQ(r.sha256, sha256(want.data(), want.size()));
  EXPECT_EQ(get(id, 0, want.size()), want);
  // A full disk at a direct write ends the session like any other write.
  auto t = store_->begin_write(Uuid::random(), owner_, 0, 0);
  faults_.arm("write", ENOSPC);
  auto big = random_bytes(1 << 20, 27);
  try {
    store_->write(*t, 0, big.data(), big.size());
    FAIL() << "the write went through";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::no_space);
  }
  faults_.disarm();
  EXPECT_TRUE(t->failed());
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(ObjectStoreTest, ObjectFileSitsAtShardPathWithItsHead) {
  auto id = Uuid::random();
  auto data = random_bytes(10000, 2);
  auto r = put(id, data);
  auto path = shard_path(root_, id);
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), kHeadBlockSize + data.size());

  std::ifstream in(path, std::ios::binary);
  HeadBlock block{};
  in.read(reinterpret_cast<char*>(block.data()), block.size());
  EXPECT_EQ(std::memcmp(block.data(), "ZHSMOBJ1", 8), 0);
  ObjectHead head = decode_head_block(block);
  EXPECT_EQ(head.uuid, id);
  EXPECT_EQ(head.owner, owner_);
  EXPECT_EQ(head.index, 3u);
  EXPECT_EQ(head.version, 1u);
  EXPECT_EQ(head.mtime_ns, mtime_);
  EXPECT_EQ(head.size, data.size());
  EXPECT_EQ(head.sha256, r.sha256);
  std::vector<uint8_t> body(data.size());
  in.read(reinterpret_cast<char*>(body.data()), body.size());
  EXPECT_EQ(body, data);

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, mtime_);
  EXPECT_EQ(store_->head(id), head);
}

TEST_F(ObjectStoreTest, OutOfOrderWritesGetTheRightSha256) {
  auto id = Uuid::random();
  auto data = random_bytes(300000, 3);
  auto s = store_->begin_write(id, owner_, 0, 0);
  store_->write(*s, 200000, data.data() + 200000, 100000);
  store_->write(*s, 0, data.data(), 200000);
  store_->write(*s, 50, data.data() + 50, 10);  // overwrite with the same bytes
  auto r = store_->commit(*s, mtime_);
  EXPECT_EQ(r.sha256, sha256(data.data(), data.size()));
  EXPECT_EQ(get(id, 0, data.size()), data);
}

TEST_F(ObjectStoreTest, KeepLengthCopiesThePrefixAndBumpsTheVersion) {
  auto id = Uuid::random();
  auto v1 = random_bytes(100000, 4);
  put(id, v1);
  auto s = store_->begin_write(id, owner_, 3, 50000);
  EXPECT_EQ(s->base_version(), 1u);
  EXPECT_EQ(get_session(*s, 0, 200000), std::vector<uint8_t>(v1.begin(), v1.begin() + 50000));
  auto extra = random_bytes(1000, 5);
  store_->write(*s, 50000, extra.data(), extra.size());
  auto r = store_->commit(*s, mtime_);
  std::vector<uint8_t> want(v1.begin(), v1.begin() + 50000);
  want.insert(want.end(), extra.begin(), extra.end());
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.size, want.size());
  EXPECT_EQ(r.sha256, sha256(want.data(), want.size()));
  EXPECT_EQ(get(id, 0, 1 << 20), want);

  // More than the object holds keeps the whole object.
  auto s3 = store_->begin_write(id, owner_, 3, 1 << 30);
  auto r3 = store_->commit(*s3, mtime_);
  EXPECT_EQ(r3.version, 3u);
  EXPECT_EQ(r3.size, want.size());
  EXPECT_EQ(r3.sha256, r.sha256);
}

TEST_F(ObjectStoreTest, TruncateCutsAndZeroExtends) {
  auto id = Uuid::random();
  auto data = random_bytes(5000, 6);
  auto s = store_->begin_write(id, owner_, 0, 0);
  store_->write(*s, 0, data.data(), data.size());
  store_->truncate(*s, 1000);
  store_->truncate(*s, 3000);
  auto r = store_->commit(*s, mtime_);
  std::vector<uint8_t> want(data.begin(), data.begin() + 1000);
  want.resize(3000, 0);
  EXPECT_EQ(r.size, 3000u);
  EXPECT_EQ(r.sha256, sha256(want.data(), want.size()));
  EXPECT_EQ(get(id, 0, 10000), want);
}

TEST_F(ObjectStoreTest, SparseDataReadsAsZerosAndStaysAHole) {
  auto id = Uuid::random();
  auto data = random_bytes(4096, 7);
  const uint64_t at = 8u << 20;
  auto s = store_->begin_write(id, owner_, 0, 0);
  store_->write(*s, at, data.data(), data.size());
  EXPECT_EQ(get_session(*s, 4096, 4096), std::vector<uint8_t>(4096, 0));
  auto r = store_->commit(*s, mtime_);
  std::vector<uint8_t> want(at, 0);
  want.insert(want.end(), data.begin(), data.end());
  EXPECT_EQ(r.size, want.size());
  EXPECT_EQ(r.sha256, sha256(want.data(), want.size()));
  EXPECT_EQ(get(id, 0, want.size()), want);
  struct stat st {};
  ASSERT_EQ(::stat(shard_path(root_, id).c_str(), &st), 0);
  EXPECT_LT(uint64_t(st.st_blocks) * 512, at / 2) << "the hole was filled in";
}

TEST_F(ObjectStoreTest, ConcurrentCommitsConflictAndTheFirstWins) {
  auto id = Uuid::random();
  put(id, random_bytes(1000, 8));
  auto a = store_->begin_write(id, owner_, 3, 1000);
  auto b = store_->begin_write(id, owner_, 3, 1000);
  auto da = random_bytes(2000, 9), db = random_bytes(3000, 10);
  store_->write(*a, 0, da.data(), da.size());
  store_->write(*b, 0, db.data(), db.size());
  auto ra = store_->commit(*a, mtime_);
  EXPECT_EQ(ra.version, 2u);
  try {
    store_->commit(*b, mtime_);
    FAIL() << "second commit succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::stale) << e.what();
  }
  EXPECT_EQ(get(id, 0, 1 << 20), da);
  EXPECT_EQ(store_->head(id)->version, 2u);
  EXPECT_EQ(temp_files(), 0u);
  // The session is over: further calls fail, abort is harmless.
  EXPECT_THROW(store_->write(*b, 0, db.data(), 1), Error);
  store_->abort(*b);

  // Two sessions creating the same new object: the second is stale too.
  auto fresh = Uuid::random();
  auto c = store_->begin_write(fresh, owner_, 0, 0);
  auto d = store_->begin_write(fresh, owner_, 0, 0);
  store_->commit(*c, mtime_);
  EXPECT_THROW(store_->commit(*d, mtime_), Error);
}

TEST_F(ObjectStoreTest, ManyThreadsCommitOneObjectOneWinsPerVersion) {
  auto id = Uuid::random();
  put(id, random_bytes(10, 11));
  std::atomic<int> won{0}, stale{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto s = store_->begin_write(id, owner_, 3, 10);
      auto d = random_bytes(100, 100 + i);
      store_->write(*s, 0, d.data(), d.size());
      try {
        store_->commit(*s, mtime_);
        ++won;
      } catch (const Error& e) {
        if (e.code() == Errc::stale) ++stale;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(won.load(), 1);
  EXPECT_EQ(won + stale, 8);
  EXPECT_EQ(store_->head(id)->version, 1u + won);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(ObjectStoreTest, AbortLeavesNothing) {
  auto id = Uuid::random();
  auto s = store_->begin_write(id, owner_, 0, 0);
  auto d = random_bytes(5000, 12);
  store_->write(*s, 0, d.data(), d.size());
  EXPECT_EQ(temp_files(), 1u);
  store_->abort(*s);
  store_->abort(*s);
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_FALSE(std::filesystem::exists(shard_path(root_, id)));
  EXPECT_FALSE(store_->head(id).has_value());
  EXPECT_THROW(store_->commit(*s, mtime_), Error);
  EXPECT_EQ(store_->stats().object_count, 0u);
}

TEST_F(ObjectStoreTest, OwnerMismatchIsRefused) {
  auto id = Uuid::random();
  put(id, random_bytes(100, 13));
  auto other = Uuid::random();
  try {
    store_->begin_write(id, other, 3, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_token);
  }
  uint8_t buf[10];
  try {
    store_->read(id, other, 0, buf, sizeof buf);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_token);
  }
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(ObjectStoreTest, MissingObjects) {
  auto id = Uuid::random();
  uint8_t buf[10];
  try {
    store_->read(id, owner_, 0, buf, sizeof buf);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
  }
  try {
    store_->begin_write(id, owner_, 0, 10);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::stale);
  }
  EXPECT_FALSE(store_->remove(id));
}

TEST_F(ObjectStoreTest, CrashLeftoversInTmpAreRemovedAtOpen) {
  auto s = store_->begin_write(Uuid::random(), owner_, 0, 0);
  auto d = random_bytes(100, 14);
  store_->write(*s, 0, d.data(), d.size());
  std::ofstream(root_ / "tmp" / "half-received") << "junk";
  store_.reset();  // a crash: the session never ended
  s.reset();
  store_ = open_store();
  EXPECT_EQ(store_->stale_temps_removed(), 2u);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(ObjectStoreTest, IdentityIsKeptAndNamesAreChecked) {
  auto id = store_->id();
  auto id_text = id.str();
  store_.reset();
  store_ = open_store();
  EXPECT_EQ(store_->id(), id);
  // A second server on the same directory is refused while the first holds it.
  try {
    open_store();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::busy) << e.what();
  }
  store_.reset();
  try {
    open_store("other-name");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    EXPECT_NE(std::string(e.what()).find("b1"), std::string::npos) << e.what();
  }
  store_ = open_store();
  EXPECT_EQ(store_->id(), id);
}

TEST_F(ObjectStoreTest, CountersFollowCommitsAndRemovesAndSurviveReopen) {
  auto a = Uuid::random(), b = Uuid::random();
  put(a, random_bytes(1000, 15));
  put(b, random_bytes(2000, 16));
  put(b, random_bytes(500, 17), 0);
  auto st = store_->stats();
  EXPECT_EQ(st.object_count, 2u);
  EXPECT_EQ(st.used_bytes, 2 * kHeadBlockSize + 1000 + 500);
  EXPECT_GT(st.total_bytes, 0u);
  struct stat dir {};
  ASSERT_EQ(::stat(root_.c_str(), &dir), 0);
  EXPECT_EQ(st.device_id, static_cast<uint64_t>(dir.st_dev));  // statfs counts a device once
  store_.reset();
  store_ = open_store();
  EXPECT_EQ(store_->stats().object_count, 2u);
  EXPECT_EQ(store_->stats().used_bytes, 2 * kHeadBlockSize + 1000 + 500);
  EXPECT_TRUE(store_->remove(a));
  EXPECT_FALSE(store_->remove(a));
  EXPECT_EQ(store_->stats().object_count, 1u);
  EXPECT_EQ(store_->stats().used_bytes, kHeadBlockSize + 500);
}

TEST_F(ObjectStoreTest, CorruptHeadIsAnIoError) {
  auto id = Uuid::random();
  put(id, random_bytes(100, 18));
  {
    std::fstream f(shard_path(root_, id), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.write("XXXX", 4);
  }
  uint8_t buf[10];
  try {
    store_->read(id, owner_, 0, buf, sizeof buf);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find(shard_path(root_, id).string()), std::string::npos);
  }
}

// A session that grows starts the disk's writeback every 4 MiB, so its commit's fsync
// finds little left to write; a small one leaves it all to the fsync. A refused start
// changes nothing: it is tried again at the next write, and the data and checksum are
// those written.
TEST_F(ObjectStoreTest, LargeSessionsStartWritebackAsTheyGrow) {
  auto small = random_bytes(3 << 20, 30);
  put(Uuid::random(), small);
  EXPECT_EQ(faults_.writebacks, 0);

  auto large = random_bytes(10 << 20, 31);
  auto id = Uuid::random();
  auto r = put(id, large);
  EXPECT_EQ(faults_.writebacks, 2);  // at 4 and at 8 MiB
  EXPECT_EQ(r.sha256, sha256(large.data(), large.size()));
  EXPECT_EQ(get(id, 0, large.size()), large);

  faults_.writebacks = 0;
  faults_.arm("writeback", EIO);
  auto refused = random_bytes(6 << 20, 32);
  auto id2 = Uuid::random();
  auto r2 = put(id2, refused);
  faults_.disarm();
  EXPECT_EQ(faults_.writebacks, 3);  // at 4, 5 and 6 MiB: each refused, so tried again
  EXPECT_EQ(r2.sha256, sha256(refused.data(), refused.size()));
  EXPECT_EQ(get(id2, 0, refused.size()), refused);
  EXPECT_EQ(temp_files(), 0u);
}

// A truncate below the writeback mark moves the mark down with it: the session that grows
// again starts writeback after each further 4 MiB, counted from the cut.
TEST_F(ObjectStoreTest, TruncateMovesTheWritebackMarkDown) {
  auto data = random_bytes(9 << 20, 33);
  auto id = Uuid::random();
  auto s = store_->begin_write(id, owner_, 0, 0);
  const size_t mib = 1 << 20;
  for (size_t at = 0; at < 5 * mib; at += mib) store_->write(*s, at, data.data() + at, mib);
  EXPECT_EQ(faults_.writebacks, 1);  // at 4 MiB
  store_->truncate(*s, 1 * mib);
  faults_.writebacks = 0;
  for (size_t at = 1 * mib; at < 9 * mib; at += mib) {
    store_->write(*s, at, data.data() + at, mib);
    EXPECT_EQ(faults_.writebacks, at + mib >= 9 * mib ? 2 : at + mib >= 5 * mib ? 1 : 0)
        << "after writing up to " << (at + mib) / mib << " MiB";
  }
  auto r = store_->commit(*s, mtime_);
  EXPECT_EQ(r.sha256, sha256(data.data(), data.size()));
  EXPECT_EQ(get(id, 0, data.size()), data);
}

// Disk full in the middle of a session: the session ends, its temp file goes, and
// the stored object is untouched.
TEST_F(ObjectStoreTest, NoSpaceDuringWriteLeavesTheStoredObjectUnchanged) {
  auto id = Uuid::random();
  auto v1 = random_bytes(20000, 19);
  auto r1 = put(id, v1);
  auto s = store_->begin_write(id, owner_, 3, v1.size());
  auto d = random_bytes(5000, 20);
  faults_.arm("write", ENOSPC);
  try {
    store_->write(*s, 0, d.data(), d.size());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::no_space);
    EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
  }
  faults_.disarm();
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_THROW(store_->commit(*s, mtime_), Error);
  EXPECT_EQ(get(id, 0, 1 << 20), v1);
  EXPECT_EQ(store_->head(id)->version, 1u);
  EXPECT_EQ(store_->head(id)->sha256, r1.sha256);
}

// Disk full at each step of a commit: nothing changes.
TEST_F(ObjectStoreTest, NoSpaceAtCommitLeavesTheStoredObjectUnchanged) {
  auto id = Uuid::random();
  auto v1 = random_bytes(20000, 21);
  auto r1 = put(id, v1);
  for (const char* op : {"truncate", "write", "sync", "rename"}) {
    auto s = store_->begin_write(id, owner_, 3, 100);
    auto d = random_bytes(5000, 22);
    store_->write(*s, 0, d.data(), d.size());
    faults_.arm(op, ENOSPC);
    try {
      store_->commit(*s, mtime_);
      ADD_FAILURE() << "commit with " << op << " failing succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::no_space) << op << ": " << e.what();
    }
    faults_.disarm();
    EXPECT_EQ(temp_files(), 0u) << op;
    EXPECT_EQ(get(id, 0, 1 << 20), v1) << op;
    EXPECT_EQ(store_->head(id)->version, 1u) << op;
    EXPECT_EQ(store_->head(id)->sha256, r1.sha256) << op;
  }
  // A copy that runs out of space leaves no session behind either.
  faults_.arm("copy", ENOSPC);
  EXPECT_THROW(store_->begin_write(id, owner_, 3, 100), Error);
  faults_.disarm();
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(store_->stats().object_count, 1u);
}

// A real failing write(2): a file size limit makes the kernel answer EFBIG.
TEST_F(ObjectStoreTest, RealWriteFailureIsAnIoErrorWithThePath) {
  auto id = Uuid::random();
  auto s = store_->begin_write(id, owner_, 0, 0);
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto d = random_bytes(4096, 23);
  try {
    store_->write(*s, 1 << 20, d.data(), d.size());
    ADD_FAILURE() << "write past RLIMIT_FSIZE succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find((root_ / "tmp").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::strerror(EFBIG)), std::string::npos) << e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_FALSE(store_->head(id).has_value());
}

TEST_F(ObjectStoreTest, AbsurdOffsetsAreInvalid) {
  auto s = store_->begin_write(Uuid::random(), owner_, 0, 0);
  uint8_t b = 1;
  try {
    store_->write(*s, ~uint64_t(0) - 1, &b, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
  }
  EXPECT_THROW(store_->truncate(*s, kMaxObjectSize + 1), Error);
  // The session survives bad arguments.
  store_->write(*s, 0, &b, 1);
  EXPECT_EQ(store_->commit(*s, mtime_).size, 1u);
}

// ---- copies received from another file server (copy_in.cc)

TEST_F(ObjectStoreTest, InstalledCopyHasTheGivenHead) {
  auto id = Uuid::random();
  auto data = random_bytes(3 << 20, 11);
  auto s = store_->begin_copy(id, owner_, 5);
  for (size_t at = 0; at < data.size(); at += 1 << 20)
    store_->write(*s, at, data.data() + at, 1 << 20);
  auto digest = sha256(data.data(), data.size());
  auto r = store_->install_copy(*s, CopyInstall{7, mtime_, data.size(), digest});
  EXPECT_FALSE(r.already_here);
  EXPECT_EQ(r.sha256, digest);
  auto head = store_->head(id);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(*head, (ObjectHead{id, owner_, 5, 7, mtime_, data.size(), digest}));
  EXPECT_EQ(get(id, 0, data.size()), data);
  EXPECT_EQ(get(id, 0, 1).size(), 1u);
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(store_->stats().object_count, 1u);

  // The same copy again: kept, nothing replaced.
  auto again = store_->begin_copy(id, owner_, 5);
  store_->write(*again, 0, data.data(), data.size());
  auto r2 = store_->install_copy(*again, CopyInstall{7, mtime_, data.size(), std::nullopt});
  EXPECT_TRUE(r2.already_here);
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(store_->stats().object_count, 1u);
  EXPECT_EQ(store_->stats().used_bytes, kHeadBlockSize + data.size());
}

TEST_F(ObjectStoreTest, CopyWithWrongChecksumLeavesNothing) {
  auto id = Uuid::random();
  auto data = random_bytes(5000, 12);
  auto s = store_->begin_copy(id, owner_, 0);
  store_->write(*s, 0, data.data(), data.size());
  Digest wrong{};
  try {
    store_->install_copy(*s, CopyInstall{1, mtime_, data.size(), wrong});
    FAIL() << "a wrong checksum was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(store_->head(id).has_value());
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_TRUE(s->ended());
}

TEST_F(ObjectStoreTest, CopyNeverReplacesANewerVersion) {
  auto id = Uuid::random();
  auto current = random_bytes(100, 13);
  put(id, current);
  put(id, current, 100);  // version 2
  auto old = random_bytes(50, 14);
  auto s = store_->begin_copy(id, owner_, 3);
  store_->write(*s, 0, old.data(), old.size());
  try {
    store_->install_copy(*s, CopyInstall{1, mtime_, old.size(), std::nullopt});
    FAIL() << "an older copy replaced version 2";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::stale);
  }
  EXPECT_EQ(store_->head(id)->version, 2u);
  EXPECT_EQ(get(id, 0, 1000), current);
  EXPECT_EQ(temp_files(), 0u);

  // A newer copy replaces it.
  auto newer = random_bytes(70, 15);
  auto s3 = store_->begin_copy(id, owner_, 3);
  store_->write(*s3, 0, newer.data(), newer.size());
  store_->install_copy(*s3, CopyInstall{3, mtime_, newer.size(), std::nullopt});
  EXPECT_EQ(store_->head(id)->version, 3u);
  EXPECT_EQ(get(id, 0, 1000), newer);
  EXPECT_EQ(store_->stats().object_count, 1u);
  EXPECT_EQ(store_->stats().used_bytes, kHeadBlockSize + newer.size());
}

TEST_F(ObjectStoreTest, ShortCopyIsRefused) {
  auto id = Uuid::random();
  auto data = random_bytes(10, 16);
  auto s = store_->begin_copy(id, owner_, 0);
  store_->write(*s, 0, data.data(), data.size());
  EXPECT_THROW(store_->install_copy(*s, CopyInstall{1, mtime_, 11, std::nullopt}), Error);
  EXPECT_FALSE(store_->head(id).has_value());
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(ObjectStoreTest, ReadWithExpectedVersion) {
  auto id = Uuid::random();
  auto data = random_bytes(10, 17);
  put(id, data);
  uint8_t buf[10];
  EXPECT_EQ(store_->read(id, owner_, 0, buf, 10, 1), 10u);
  try {
    store_->read(id, owner_, 0, buf, 10, 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::stale);
  }
}

// A byte flipped on disk: the next read answers io and reports the object as corrupt;
// installing a good copy of the same version repairs it.
TEST_F(ObjectStoreTest, CorruptDataIsDetectedOnReadAndRepairedByACopy) {
  auto id = Uuid::random();
  auto data = random_bytes(2 << 20, 21);
  auto s = store_->begin_copy(id, owner_, 0);
  store_->write(*s, 0, data.data(), data.size());
  auto digest = sha256(data.data(), data.size());
  store_->install_copy(*s, CopyInstall{3, mtime_, data.size(), digest});
  EXPECT_EQ(get(id, 4096, 100), std::vector<uint8_t>(data.begin() + 4096, data.begin() + 4196));
  EXPECT_TRUE(store_->data_intact(id));
  EXPECT_TRUE(store_->take_corrupt().empty());

  {  // flip one byte in the middle of the data, as a failing disk would
    auto path = shard_path(root_, id);
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    uint8_t b = static_cast<uint8_t>(data[1 << 20] ^ 0x5a);
    ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(kHeadBlockSize + (1 << 20))), 1);
    struct timespec later[2] = {{0, UTIME_OMIT}, {mtime_ / 1000000000 + 5, 0}};
    ASSERT_EQ(::futimens(fd, later), 0);  // a changed file is verified again
    ::close(fd);
  }
  std::vector<uint8_t> buf(100);
  try {
    store_->read(id, owner_, 0, buf.data(), buf.size());
    ADD_FAILURE() << "a corrupt object was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io) << e.what();
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store_->take_corrupt(), std::vector<Uuid>{id});
  EXPECT_TRUE(store_->take_corrupt().empty()) << "reported once";
  EXPECT_FALSE(store_->data_intact(id));

  auto fix = store_->begin_copy(id, owner_, 0);
  store_->write(*fix, 0, data.data(), data.size());
  auto r = store_->install_copy(*fix, CopyInstall{3, mtime_, data.size(), digest});
  EXPECT_FALSE(r.already_here) << "a corrupt object is not 'already here'";
  EXPECT_TRUE(store_->data_intact(id));
  EXPECT_EQ(get(id, 0, data.size()), data);
}

}  // namespace
}  // namespace zhsm::fileserver

namespace zhsm::fileserver {
namespace {

// An object this store wrote was hashed from the data it holds, so its first read does not
// hash it again; a store opened anew (a restart) knows nothing and verifies it. Shown with
// a flip that keeps the file's identity (same inode, size and mtime), which only a whole
// read of the data can see.
TEST_F(ObjectStoreTest, AWrittenObjectCountsAsVerifiedUntilARestart) {
  auto id = Uuid::random();
  auto data = random_bytes(1 << 20, 33);
  auto s = store_->begin_copy(id, owner_, 0);
  store_->write(*s, 0, data.data(), data.size());
  store_->install_copy(*s, CopyInstall{2, mtime_, data.size(), sha256(data.data(), data.size())});
  {
    auto path = shard_path(root_, id);
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    struct stat before {};
    ASSERT_EQ(::fstat(fd, &before), 0);
    uint8_t b = static_cast<uint8_t>(data[1000] ^ 0x01);
    ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(kHeadBlockSize + 1000)), 1);
    struct timespec keep[2] = {{0, UTIME_OMIT}, before.st_mtim};
    ASSERT_EQ(::futimens(fd, keep), 0);
    ::close(fd);
  }
  EXPECT_TRUE(store_->data_intact(id)) << "hashed again although this store wrote it";
  store_.reset();
  store_ = open_store();
  EXPECT_FALSE(store_->data_intact(id)) << "a restarted store did not verify the object";
  EXPECT_EQ(store_->take_corrupt(), std::vector<Uuid>{id});
}

}  // namespace
}  // namespace zhsm::fileserver
