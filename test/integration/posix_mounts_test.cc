// Semantics that involve more than one mount, the file servers or the data
// path: a file unlinked while open keeps working on every mount until its last
// close and its data objects leave the backends afterwards (also when the
// client holding it open crashes: after its tokens expire); close-to-open
// consistency between mounts; shared writable mmap reaching the file servers
// on msync and on munmap/close; fallocate; statfs reporting the backends' real
// capacity, each device of a server counted once.
//
// This binary has its own main(): its controller runs with a token lifetime of
// kTokenLifetimeS seconds, so that a crashed client's tokens expire quickly.
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "test/integration/cluster.h"
#include "test/integration/two_mount_test.h"
#include "test/integration/objects.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr int kTokenLifetimeS = 8;
// Token expiry, the sweeper (every 3 s) and the deletion round trip through a
// heartbeat (every 2 s), with room for a loaded machine.
constexpr auto kReclaimed = std::chrono::seconds(kTokenLifetimeS * 4 + 30);
constexpr size_t kMiB = 1 << 20;

std::vector<fs::path> backend_roots(const Cluster& c) {
  std::vector<fs::path> roots;
  for (int k = 1; k <= c.fileservers(); ++k) roots.push_back(c.backend_dir(k));
  return roots;
}

// The cluster's open tokens (zhsm-admin status), once both mounts have sent the
// releases of the files they closed (they gather them for a few milliseconds:
// client-fuse/release_batcher.h).
uint64_t open_tokens(const Cluster& c) {
  auto settled = [&] {
    for (const char* mount : {"fuse-mnt", "fuse-mnt2"})
      if (c.metric(mount, "zhsm_fuse_releases_pending") != 0) return false;
    return true;
  };
  EXPECT_TRUE(eventually(settled, 10s)) << "a mount kept releases pending";
  return c.admin_json({"status"})["totals"]["open_tokens"].get<uint64_t>();
}

// Tests that use the main mount (A) and a second mount (B) of the cluster.
class PosixMounts : public TwoMountTest {
 protected:
  void SetUp() override {
    TwoMountTest::SetUp();
    ::chmod(a_.c_str(), 0755);
  }

  Cluster& cluster() { return Cluster::get(); }
};

TEST_F(PosixMounts, UnlinkedOpenFileKeepsWorkingOnEveryMount) {
  const size_t size = 17 * kMiB + 123;  // two data objects at the default chunk size
  const std::string original = pattern_bytes(11, size);
  ASSERT_TRUE(write_file(a_ / "f", original));
  FileInfo info = file_info(cluster(), a_ / "f");
  ASSERT_TRUE(info.fsid.has_value());
  ASSERT_FALSE(info.chunks.empty()) << info.raw.dump();
  auto roots = backend_roots(cluster());
  EXPECT_EQ(objects_owned_by(roots, *info.fsid).size(), info.chunks.size());

  ASSERT_TRUE(eventually([&] { return present(b_ / "f"); }, kVisible));
  int on_b = ::open((b_ / "f").c_str(), O_RDWR);
  ASSERT_GE(on_b, 0) << errno_text(errno);
  int on_a = ::open((a_ / "f").c_str(), O_RDWR);
  ASSERT_GE(on_a, 0) << errno_text(errno);

  ASSERT_EQ(::unlink((a_ / "f").c_str()), 0) << errno_text(errno);
  EXPECT_FALSE(present(a_ / "f"));
  EXPECT_TRUE(eventually([&] { return !present(b_ / "f"); }, kVisible))
      << "the name is still there on the second mount";

  // B reads, writes in place and past the end (a new data object), and syncs.
  EXPECT_EQ(pread_text(on_b, 4096, 0), original.substr(0, 4096));
  EXPECT_EQ(pread_text(on_b, 100, static_cast<off_t>(size - 100)), original.substr(size - 100));
  EXPECT_EQ(pwrite_all(on_b, "written after unlink", 1 * kMiB), 20);
  const std::string tail = pattern_bytes(12, 300000);
  EXPECT_EQ(pwrite_all(on_b, tail, 40 * kMiB), static_cast<long>(tail.size()));
  EXPECT_EQ(::fsync(on_b), 0) << errno_text(errno);
  struct stat st {};
  ASSERT_EQ(::fstat(on_b, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(40 * kMiB + tail.size()));
  EXPECT_EQ(pread_text(on_b, 20, 1 * kMiB), "written after unlink");
  EXPECT_EQ(pread_text(on_b, tail.size(), 40 * kMiB), tail);
  EXPECT_EQ(pread_text(on_b, 1000, 30 * kMiB), std::string(1000, '\0'));

  // A, the mount that unlinked it, keeps using its descriptor too.
  EXPECT_EQ(pread_text(on_a, 4096, 8 * kMiB), original.substr(8 * kMiB, 4096));
  EXPECT_EQ(pwrite_all(on_a, "A was here", 5 * kMiB), 10);
  EXPECT_EQ(::fsync(on_a), 0) << errno_text(errno);
  EXPECT_EQ(pread_text(on_a, 10, 5 * kMiB), "A was here");
  ASSERT_EQ(::fstat(on_a, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  // While a descriptor is open, the data stays on the backends.
  EXPECT_GE(objects_owned_by(roots, *info.fsid).size(), info.chunks.size());

  EXPECT_EQ(::close(on_a), 0) << errno_text(errno);
  EXPECT_FALSE(objects_owned_by(roots, *info.fsid).empty())
      << "the data went while the second mount still had the file open";
  EXPECT_EQ(pread_text(on_b, 10, 5 * kMiB).size(), 10u);
  EXPECT_EQ(::close(on_b), 0) << errno_text(errno);
  std::vector<fs::path> left;
  EXPECT_TRUE(eventually([&] { return (left = objects_owned_by(roots, *info.fsid)).empty(); }, 60s, 500ms))
      << left.size() << " data objects of the unlinked file are still on the backends, e.g. "
      << (left.empty() ? "" : left[0].string());
}

TEST_F(PosixMounts, UnlinkedOpenFileIsReclaimedAfterItsClientCrashed) {
  fs::path crash_mount = cluster().add_mount("mnt-crash");
  fs::path c = crash_mount / "UnlinkedOpenFileIsReclaimedAfterItsClientCrashed";
  ASSERT_TRUE(write_file(a_ / "f", pattern_bytes(21, 3 * kMiB)));
  FileInfo info = file_info(cluster(), a_ / "f");
  ASSERT_TRUE(info.fsid.has_value());
  auto roots = backend_roots(cluster());
  ASSERT_TRUE(eventually([&] { return present(c / "f"); }, kVisible));
  int fd = ::open((c / "f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << errno_text(errno);
  // A committed new data object, and uncommitted writes in a write session.
  ASSERT_EQ(pwrite_all(fd, pattern_bytes(22, 200000), 20 * kMiB), 200000);
  ASSERT_EQ(::fsync(fd), 0) << errno_text(errno);
  ASSERT_EQ(pwrite_all(fd, "not synced", 100), 10);
  ASSERT_EQ(::unlink((a_ / "f").c_str()), 0) << errno_text(errno);
  EXPECT_EQ(objects_owned_by(roots, *info.fsid).size(), 2u);

  pid_t client = cluster().client_pid(crash_mount);
  ASSERT_GT(client, 0) << "no pid file for the client of " << crash_mount;
  ASSERT_EQ(::kill(client, SIGKILL), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return ::kill(client, 0) != 0; }, 10s)) << "the client did not die";
  ::close(fd);  // fails: the connection is gone
  auto r = run_command({"/bin/sh", "-c", "exec fusermount3 -u \"$0\"", crash_mount.string()}, {}, 30s);
  EXPECT_TRUE(r.ok()) << "fusermount3 -u " << crash_mount << ": " << r.describe();
  EXPECT_FALSE(is_mounted(crash_mount));

  std::vector<fs::path> left;
  EXPECT_TRUE(eventually([&] { return (left = objects_owned_by(roots, *info.fsid)).empty(); },
                         kReclaimed, 500ms))
      << left.size() << " data objects of the file are still on the backends "
      << std::chrono::duration_cast<std::chrono::seconds>(kReclaimed).count()
      << " s after its only open client crashed (token lifetime " << kTokenLifetimeS << " s)";
  // The cluster's mount list still names the crashed mount: mount it again.
  cluster().add_mount("mnt-crash");
}

// After a close on one mount, an open on the other sees the new bytes at once,
// also when the size stays the same and the rewrite comes within the other
// mount's attribute timeout.
TEST_F(PosixMounts, CloseToOpenBetweenMounts) {
  for (size_t size : {size_t{1000}, size_t{200000}, size_t{17 * kMiB}}) {
    std::string name = "f" + std::to_string(size);
    ASSERT_TRUE(write_file(a_ / name, pattern_bytes(0, size)));
    ASSERT_TRUE(eventually([&] { return present(b_ / name); }, kVisible));
    EXPECT_EQ(file_text(b_ / name), pattern_bytes(0, size));
    int rounds = size > kMiB ? 4 : 20;
    for (int i = 1; i <= rounds; ++i) {
      bool a_writes = i % 2 == 1;
      const fs::path& writer = a_writes ? a_ : b_;
      const fs::path& reader = a_writes ? b_ : a_;
      std::string data = pattern_bytes(static_cast<uint64_t>(i), size);
      // Read once on the reader side first, so its caches hold the old bytes.
      struct stat st {};
      ASSERT_EQ(::stat((reader / name).c_str(), &st), 0);
      int cached = ::open((reader / name).c_str(), O_RDONLY | O_CLOEXEC);
      EXPECT_EQ(pread_text(cached, 16, 0).size(), 16u);
      ::close(cached);
      int fd = ::open((writer / name).c_str(), O_WRONLY);
      ASSERT_GE(fd, 0) << errno_text(errno);
      ASSERT_EQ(pwrite_all(fd, data, 0), static_cast<long>(size));
      ASSERT_EQ(::close(fd), 0) << errno_text(errno);
      std::string seen = file_text(reader / name);
      EXPECT_EQ(seen == data, true) << "size " << size << " round " << i << ": the "
                                    << (a_writes ? "second" : "first") << " mount read "
                                    << show(seen) << " instead of " << show(data);
      // A partial rewrite in the middle, same size again.
      fd = ::open((writer / name).c_str(), O_RDWR);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(pwrite_all(fd, "MIDDLE", static_cast<off_t>(size / 2)), 6);
      ASSERT_EQ(::close(fd), 0);
      data.replace(size / 2, 6, "MIDDLE");
      seen = file_text(reader / name);
      EXPECT_EQ(seen == data, true) << "size " << size << " round " << i
                                    << " (partial rewrite): read " << show(seen);
    }
  }
}

// A read-only open of an inline file records no token (the mount holds its bytes): it
// reads them after the other mount unlinked the file, and a lock takes a token of the
// mount's own, released with the last close.
TEST_F(PosixMounts, ReadOnlyOpenOfASmallFileTakesATokenOnlyToLock) {
  const std::string small = pattern_bytes(31, 5000);
  ASSERT_TRUE(write_file(a_ / "s", small));
  ASSERT_TRUE(write_file(a_ / "u", small));
  ASSERT_TRUE(write_file(a_ / "big", pattern_bytes(32, 2 * kMiB)));
  ASSERT_TRUE(eventually([&] { return present(b_ / "s") && present(b_ / "u"); }, kVisible));
  const uint64_t before = open_tokens(cluster());
  int fd = ::open((a_ / "s").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(pread_text(fd, small.size(), 0), small);
  EXPECT_EQ(open_tokens(cluster()), before) << "the read-only open of an inline file took a token";
  int big = ::open((a_ / "big").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(big, 0) << errno_text(errno);
  EXPECT_EQ(open_tokens(cluster()), before + 1) << "a file with chunks is read under a token";
  ASSERT_EQ(::close(big), 0);
  EXPECT_TRUE(eventually([&] { return open_tokens(cluster()) == before; }, 10s));

  // Locks across mounts work on such handles; each mount opens a token for its lock.
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0) << errno_text(errno);
  EXPECT_EQ(open_tokens(cluster()), before + 1);
  int on_b = ::open((b_ / "s").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(on_b, 0) << errno_text(errno);
  EXPECT_EQ(::flock(on_b, LOCK_EX | LOCK_NB), -1);
  EXPECT_EQ(errno, EWOULDBLOCK) << errno_text(errno);
  ASSERT_EQ(::flock(fd, LOCK_UN), 0) << errno_text(errno);
  EXPECT_EQ(::flock(on_b, LOCK_EX | LOCK_NB), 0) << errno_text(errno);
  EXPECT_EQ(open_tokens(cluster()), before + 2);
  ASSERT_EQ(::close(on_b), 0);

  // Unlinked on the other mount, both files stay readable here: "s" under the lock's
  // token, "u" from the bytes of its open without one. Dropping the pages makes the
  // reads come to the mount.
  int u = ::open((a_ / "u").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(u, 0) << errno_text(errno);
  ASSERT_EQ(::unlink((b_ / "s").c_str()), 0) << errno_text(errno);
  ASSERT_EQ(::unlink((b_ / "u").c_str()), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return !present(a_ / "s") && !present(a_ / "u"); }, kVisible));
  for (int d : {fd, u}) {
    ASSERT_EQ(::posix_fadvise(d, 0, 0, POSIX_FADV_DONTNEED), 0);
    EXPECT_EQ(pread_text(d, small.size(), 0), small);
    struct stat st {};
    ASSERT_EQ(::fstat(d, &st), 0) << errno_text(errno);
    EXPECT_EQ(st.st_size, static_cast<off_t>(small.size()));
  }
  ASSERT_EQ(::close(u), 0);
  ASSERT_EQ(::close(fd), 0);
  EXPECT_TRUE(eventually([&] { return open_tokens(cluster()) == before; }, 10s))
      << open_tokens(cluster()) - before << " token(s) left after the last close";
}

// A tokenless read-only handle of a small file, and a handle of the same mount that grows
// the file into data objects: the writer's token stays with the inode when the writer
// closes, so the reader reads the new data from the file servers, also after the other
// mount unlinked the file; the token goes, and the data, with the reader's close.
TEST_F(PosixMounts, ReadOnlyHandleOfASmallFileReadsWhatAnotherHandleGrewItTo) {
  ASSERT_TRUE(write_file(a_ / "k", pattern_bytes(41, 3000)));
  const uint64_t before = open_tokens(cluster());
  int reader = ::open((a_ / "k").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reader, 0) << errno_text(errno);
  const std::string grown = pattern_bytes(42, 3 * kMiB);
  int writer = ::open((a_ / "k").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(writer, 0) << errno_text(errno);
  ASSERT_EQ(pwrite_all(writer, grown, 0), static_cast<long>(grown.size()));
  ASSERT_EQ(::close(writer), 0) << errno_text(errno);
  FileInfo info = file_info(cluster(), a_ / "k");
  ASSERT_TRUE(info.fsid.has_value());
  ASSERT_FALSE(info.chunks.empty()) << info.raw.dump();
  EXPECT_EQ(open_tokens(cluster()), before + 1) << "the writer's token was not kept for the reader";

  ASSERT_TRUE(eventually([&] { return present(b_ / "k"); }, kVisible));
  ASSERT_EQ(::unlink((b_ / "k").c_str()), 0) << errno_text(errno);
  ASSERT_EQ(::posix_fadvise(reader, 0, 0, POSIX_FADV_DONTNEED), 0);
  std::string seen = pread_text(reader, grown.size(), 0);
  EXPECT_EQ(seen == grown, true) << "the reader read " << show(seen);
  ASSERT_EQ(::close(reader), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return open_tokens(cluster()) == before; }, 10s))
      << "the kept token was not released with the last handle";
  auto roots = backend_roots(cluster());
  std::vector<fs::path> left;
  EXPECT_TRUE(eventually([&] { return (left = objects_owned_by(roots, *info.fsid)).empty(); }, 60s, 500ms))
      << left.size() << " data objects of the unlinked file are still on the backends";
}

TEST_F(PosixMounts, SharedWritableMmapReachesTheFileServers) {
  for (size_t size : {size_t{10000}, size_t{3 * kMiB + 100}}) {
    std::string name = "m" + std::to_string(size);
    std::string data = pattern_bytes(31, size);
    ASSERT_TRUE(write_file(a_ / name, data));
    int fd = ::open((a_ / name).c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << errno_text(errno);
    void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(mem, MAP_FAILED) << errno_text(errno);
    char* p = static_cast<char*>(mem);
    EXPECT_EQ(std::memcmp(p, data.data(), size), 0) << "the mapping does not show the file";
    // Change some pages, msync: another mount sees it at its next open.
    for (size_t off : {size_t{0}, size_t{4096 * 2 + 7}, size - 5}) {
      std::memcpy(p + off, "MSYNC", std::min<size_t>(5, size - off));
      data.replace(off, std::min<size_t>(5, size - off), std::string("MSYNC").substr(0, size - off));
    }
    ASSERT_EQ(::msync(mem, size, MS_SYNC), 0) << errno_text(errno);
    ASSERT_TRUE(eventually([&] { return present(b_ / name); }, kVisible));
    EXPECT_EQ(file_text(b_ / name) == data, true) << "after msync the second mount reads "
                                                  << show(file_text(b_ / name));
    // Change again, unmap and close: the next open elsewhere sees it.
    std::memcpy(p + size / 2, "MUNMAP", 6);
    data.replace(size / 2, 6, "MUNMAP");
    ASSERT_EQ(::munmap(mem, size), 0);
    ASSERT_EQ(::close(fd), 0) << errno_text(errno);
    EXPECT_EQ(file_text(b_ / name) == data, true) << "after munmap and close the second mount reads "
                                                  << show(file_text(b_ / name));
    // Closing the descriptor first: the mapping keeps the file open; the data
    // is written back at munmap and committed when the kernel releases the file.
    fd = ::open((a_ / name).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(mem, MAP_FAILED) << errno_text(errno);
    ASSERT_EQ(::close(fd), 0);
    p = static_cast<char*>(mem);
    std::memcpy(p + 1, "AFTER-CLOSE", 11);
    data.replace(1, 11, "AFTER-CLOSE");
    ASSERT_EQ(::munmap(mem, size), 0);
    EXPECT_TRUE(eventually([&] { return file_text(b_ / name) == data; }, kVisible))
        << "writes through a mapping whose descriptor was closed never reached the other mount: "
        << show(file_text(b_ / name));
    // Private mappings never write back.
    fd = ::open((a_ / name).c_str(), O_RDWR);
    mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ASSERT_NE(mem, MAP_FAILED);
    std::memcpy(static_cast<char*>(mem) + 3, "PRIVATE", 7);
    ::munmap(mem, size);
    ::close(fd);
    EXPECT_EQ(file_text(a_ / name) == data, true) << "a private mapping changed the file";
    // A read-only mapping on the other mount shows the data.
    fd = ::open((b_ / name).c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    mem = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(mem, MAP_FAILED) << errno_text(errno);
    EXPECT_EQ(std::memcmp(mem, data.data(), size), 0) << "a read-only mapping on the second mount differs";
    ::munmap(mem, size);
    ::close(fd);
  }
}

TEST_F(PosixMounts, MmapOfASparseFileWrittenPageByPage) {
  const size_t size = 20 * kMiB;  // spans two data objects
  int fd = ::open((a_ / "sparse").c_str(), O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0) << errno_text(errno);
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(mem, MAP_FAILED) << errno_text(errno);
  char* p = static_cast<char*>(mem);
  std::string expect(size, '\0');
  for (size_t off = 0; off < size; off += 1 * kMiB + 4096) {
    std::string piece = "page at " + std::to_string(off);
    std::memcpy(p + off, piece.data(), piece.size());
    expect.replace(off, piece.size(), piece);
  }
  ASSERT_EQ(::msync(mem, size, MS_SYNC), 0) << errno_text(errno);
  ASSERT_EQ(::munmap(mem, size), 0);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_TRUE(eventually([&] { return present(b_ / "sparse"); }, kVisible));
  std::string seen = file_text(b_ / "sparse");
  EXPECT_EQ(seen.size(), size);
  EXPECT_EQ(seen == expect, true) << "the second mount reads " << show(seen);
}

TEST_F(PosixMounts, Fallocate) {
  NativeDir native;
  auto scenario = [](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    int fd = static_cast<int>(t.call("create", [&] { return ::open(f.c_str(), O_CREAT | O_RDWR, 0644); }));
    t.call("write", [&] { return ::write(fd, "hello", 5); });
    t.call("fallocate 0..100000", [&] { return ::fallocate(fd, 0, 0, 100000); });
    struct stat st {};
    ::fstat(fd, &st);
    t.note("size", static_cast<long long>(st.st_size));
    t.note("content", show(pread_text(fd, 200000, 0).substr(0, 5)));
    t.note("zeros after", show(pread_text(fd, 100000 - 5, 5)));
    t.call("fallocate inside (no shrink)", [&] { return ::fallocate(fd, 0, 10, 5); });
    ::fstat(fd, &st);
    t.note("size", static_cast<long long>(st.st_size));
    t.call("fallocate KEEP_SIZE", [&] { return ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 500000); });
    ::fstat(fd, &st);
    t.note("size after KEEP_SIZE", static_cast<long long>(st.st_size));
    t.call("fallocate across a data-object boundary",
           [&] { return ::fallocate(fd, 0, 16 * kMiB - 10, 20); });
    ::fstat(fd, &st);
    t.note("size", static_cast<long long>(st.st_size));
    t.note("tail", show(pread_text(fd, 30, 16 * kMiB - 20)));
    t.call("write after fallocate", [&] { return ::pwrite(fd, "end", 3, 16 * kMiB + 7); });
    t.call("fallocate length 0", [&] { return ::fallocate(fd, 0, 0, 0); });
    t.call("fallocate negative offset", [&] { return ::fallocate(fd, 0, -1, 10); });
    t.call("posix_fallocate", [&] {
      int e = ::posix_fallocate(fd, 0, 17 * kMiB);
      errno = e;
      return e == 0 ? 0L : -1L;
    });
    ::fstat(fd, &st);
    t.note("size", static_cast<long long>(st.st_size));
    t.call("close", [&] { return ::close(fd); });
    t.note("whole file", show(file_text(f)));
    int ro = ::open(f.c_str(), O_RDONLY);
    t.call("fallocate on a read-only descriptor", [&] { return ::fallocate(ro, 0, 0, 10); });
    ::close(ro);
  };
  Transcript on_mount, on_native;
  scenario(a_, on_mount);
  scenario(native.path(), on_native);
  expect_same_transcripts(on_mount, on_native);
  // The size reached the other mount.
  struct stat st {};
  EXPECT_TRUE(eventually([&] { return ::stat((b_ / "f").c_str(), &st) == 0 && st.st_size == 17 * static_cast<off_t>(kMiB); }, kVisible))
      << "the second mount sees size " << st.st_size;
  // Modes that would need holes or moving data are refused, and change nothing.
  int fd = ::open((a_ / "f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  std::string before = file_text(a_ / "f");
  for (int mode : {FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE,
                   FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE}) {
    errno = 0;
    EXPECT_EQ(::fallocate(fd, mode, 0, 4096), -1) << "mode " << mode;
    EXPECT_EQ(errno, EOPNOTSUPP) << "mode " << mode << ": " << errno_text(errno);
  }
  // mode 0 still works after the refusals (the kernel did not give up on fallocate).
  EXPECT_EQ(::fallocate(fd, 0, 0, 18 * kMiB), 0) << errno_text(errno);
  ::close(fd);
  std::string after = file_text(a_ / "f");
  EXPECT_EQ(after.size(), 18 * kMiB);
  EXPECT_EQ(after.substr(0, before.size()) == before, true);
}

// Every backend's filesystem as statvfs sees it: (total bytes, bytes available).
std::pair<uint64_t, uint64_t> disk_of(const fs::path& p) {
  struct statvfs v {};
  if (::statvfs(p.c_str(), &v) != 0) return {0, 0};
  return {uint64_t(v.f_blocks) * v.f_frsize, uint64_t(v.f_bavail) * v.f_frsize};
}

std::pair<uint64_t, uint64_t> mount_space(const fs::path& mount) {
  struct statvfs v {};
  if (::statvfs(mount.c_str(), &v) != 0) return {0, 0};
  return {uint64_t(v.f_blocks) * v.f_frsize, uint64_t(v.f_bavail) * v.f_frsize};
}

// Within `slack` bytes: free space moves while other processes write.
bool near(uint64_t a, uint64_t b, uint64_t slack) { return a > b ? a - b <= slack : b - a <= slack; }

TEST_F(PosixMounts, StatfsReportsTheBackendsCapacity) {
  // Every file server's backend lies on the same disk here; servers are separate
  // machines in general, so each counts.
  const int servers = cluster().fileservers();
  auto [disk_total, disk_free] = disk_of(cluster().backend_dir(1));
  ASSERT_GT(disk_total, 0u);
  for (int k = 2; k <= servers; ++k)
    ASSERT_EQ(disk_of(cluster().backend_dir(k)).first, disk_total) << "backends on different disks";
  const uint64_t slack = 2ull << 30;  // free space changes while the machine works
  std::pair<uint64_t, uint64_t> seen;
  EXPECT_TRUE(eventually([&] {
    seen = mount_space(cluster().mount());
    return seen.first == disk_total * servers &&
           near(seen.second, disk_of(cluster().backend_dir(1)).second * servers, slack);
  }, 20s, 200ms)) << "statfs on the mount: total " << seen.first << " available " << seen.second
                  << "; expected " << servers << " x the backend disk (" << disk_total << ", "
                  << disk_free << ")";
  struct statvfs v {};
  ASSERT_EQ(::statvfs(cluster().mount().c_str(), &v), 0);
  EXPECT_EQ(v.f_namemax, 255u);
  EXPECT_GT(v.f_files, 0u);
  EXPECT_GE(v.f_bfree, v.f_bavail);

  // One more file server with two backends on that same disk: it adds the disk once.
  const char* build = ::getenv("ZHSM_BUILD_DIR");
  ASSERT_NE(build, nullptr);
  fs::path dir = cluster().dir();
  for (const char* sub : {"backends/extra-a", "backends/extra-b", "state/extra"})
    fs::create_directories(dir / sub);
  pid_t extra = ::fork();
  if (extra == 0) {
    std::string bin = (fs::path(build) / "fileserver" / "zhsm-fileserver").string();
    std::string key = cluster().key_file().string();
    std::string ctl = cluster().controller_address();
    std::string state = (dir / "state/extra").string();
    std::string ba = "extra-a:hdd:" + (dir / "backends/extra-a").string();
    std::string bb = "extra-b:hdd:" + (dir / "backends/extra-b").string();
    std::string log = (dir / "logs/fs-extra.log").string();
    ::execl(bin.c_str(), bin.c_str(), "--name", "fs-extra", "--listen", "127.0.0.1:0",
            "--controller", ctl.c_str(), "--cluster-key", key.c_str(), "--state-dir",
            state.c_str(), "--backend", ba.c_str(), "--backend", bb.c_str(), "--log-file",
            log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(extra, 0);
  bool counted_once = eventually([&] {
    seen = mount_space(cluster().mount());
    return seen.first == disk_total * (servers + 1);
  }, 30s, 200ms);
  ::kill(extra, SIGTERM);
  int status = 0;
  ::waitpid(extra, &status, 0);
  EXPECT_TRUE(counted_once) << "with a third server holding two backends on the same disk, statfs "
                            << "reports " << seen.first << " bytes; expected " << servers + 1
                            << " x " << disk_total;
  // A server that stopped heartbeating no longer counts.
  EXPECT_TRUE(eventually([&] { return mount_space(cluster().mount()).first == disk_total * servers; },
                         60s, 500ms))
      << "the stopped server's disk still counts in statfs";
}

}  // namespace
}  // namespace zhsm::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  zhsm::test::ClusterOptions options;
  options.token_lifetime_s = zhsm::test::kTokenLifetimeS;
  ::testing::AddGlobalTestEnvironment(zhsm::test::make_cluster_environment(options));
  return RUN_ALL_TESTS();
}
