// A full disk, end to end: fs1, the only file server, keeps its backend on a tmpfs of
// 40 MiB (ClusterOptions::small_backend_mib). A file that does not fit fails with ENOSPC
// at a write and at close, and afterwards holds only bytes that were written: what it
// held before, or a prefix of the new bytes that ends where a chunk the server could not
// store begins, never zeros in place of written bytes (doc/durability.md). The files
// already there stay intact, the failed write leaves no temporary file behind, statfs
// shows the backend's real capacity, and once a file is removed writing works again. A
// rewrite of part of a file that does not fit leaves the file as it was.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <random>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr int kBackendMib = 40;
constexpr uint64_t kMiB = 1 << 20;

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

uint64_t free_bytes(const fs::path& p) {
  struct statvfs sv {};
  if (::statvfs(p.c_str(), &sv) != 0) return 0;
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

size_t files_below(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) ++n;
  return n;
}

TEST(FullDisk, AFileThatDoesNotFitKeepsOnlyWrittenBytes) {
  Cluster& c = Cluster::get();
  const fs::path d = c.mount() / "full";
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << errno_text(errno);
  const std::string before = random_bytes(3 * kMiB, 1);
  ASSERT_TRUE(write_file(d / "before", before));

  // statfs reports the backend's capacity (its free space arrives with a heartbeat).
  ASSERT_TRUE(eventually([&] {
    struct statvfs sv {};
    return ::statvfs(d.c_str(), &sv) == 0 &&
           static_cast<uint64_t>(sv.f_blocks) * sv.f_frsize <= kBackendMib * kMiB;
  }, 30s)) << "statfs does not show the 40 MiB backend";
  EXPECT_GT(free_bytes(d), (kBackendMib - 8) * kMiB);
  // The mount's statfs follows heartbeats; the backend itself tells at once.
  const fs::path backend = c.backend_dir(1);
  const uint64_t free_at_start = free_bytes(backend);

  // Twice the backend: some write, or the close, must fail with ENOSPC.
  const std::string data = random_bytes(2 * kBackendMib * kMiB, 2);
  int fd = ::open((d / "big").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0) << errno_text(errno);
  size_t written = 0;
  int write_errno = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, kMiB);
    if (n < 0) {
      write_errno = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  errno = 0;
  const int closed = ::close(fd);
  const int close_errno = errno;
  EXPECT_TRUE(write_errno == ENOSPC || write_errno == 0) << errno_text(write_errno);
  EXPECT_EQ(closed, -1) << "close of a file the disk could not hold succeeded";
  EXPECT_EQ(close_errno, ENOSPC) << errno_text(close_errno);

  // What the file holds now is bytes that were written, from the start, and less than all.
  const std::string got = file_text(d / "big");
  EXPECT_LT(got.size(), written);
  EXPECT_TRUE(got == data.substr(0, got.size()))
      << "the file holds " << got.size() << " bytes that are not what was written there";
  struct stat st {};
  ASSERT_EQ(::stat((d / "big").c_str(), &st), 0) << errno_text(errno);
  EXPECT_EQ(static_cast<size_t>(st.st_size), got.size());
  EXPECT_TRUE(file_text(d / "before") == before) << "a file that was there changed";

  // The failed sessions' temporary files are gone.
  EXPECT_TRUE(eventually([&] { return files_below(backend / "tmp") == 0; }, 30s))
      << files_below(backend / "tmp") << " temporary files left on the backend";

  // Removing the file gives its space back, and a new file fits again.
  ASSERT_EQ(::unlink((d / "big").c_str()), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return free_bytes(backend) + kMiB >= free_at_start; }, 60s))
      << "free space on the backend after the removal: " << free_bytes(backend) << " of "
      << free_at_start;
  const std::string after = random_bytes(8 * kMiB, 3);
  EXPECT_TRUE(write_file(d / "after", after)) << errno_text(errno);
  EXPECT_TRUE(file_text(d / "after") == after);
}

// Rewriting part of a file that exists when the disk has no room for the rewritten
// chunk: the write or the close fails with ENOSPC and the file keeps its earlier bytes,
// all of them.
TEST(FullDisk, ARewriteThatDoesNotFitKeepsTheEarlierBytes) {
  Cluster& c = Cluster::get();
  const fs::path d = c.mount() / "rewrite";
  const fs::path backend = c.backend_dir(1);
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << errno_text(errno);
  const uint64_t free_at_start = free_bytes(backend);
  const std::string orig = random_bytes(20 * kMiB, 4);
  ASSERT_TRUE(write_file(d / "f", orig));

  // Fill what is left.
  int fill = ::open((d / "filler").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fill, 0) << errno_text(errno);
  const std::string piece = random_bytes(kMiB, 5);
  for (int i = 0; i < 2 * kBackendMib && ::write(fill, piece.data(), piece.size()) > 0; ++i) {
  }
  ::close(fill);  // fails: the disk is full
  ASSERT_LT(free_bytes(backend), 16 * kMiB) << "the filler left room for a chunk's copy";

  int fd = ::open((d / "f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << errno_text(errno);
  const std::string changed = random_bytes(10 * kMiB, 6);
  errno = 0;
  const ssize_t n = ::pwrite(fd, changed.data(), changed.size(), 0);
  const int write_errno = n < 0 ? errno : 0;
  errno = 0;
  const int closed = ::close(fd);
  const int close_errno = errno;
  EXPECT_TRUE(write_errno == ENOSPC || (write_errno == 0 && closed == -1 && close_errno == ENOSPC))
      << "write: " << errno_text(write_errno) << ", close: " << closed << " "
      << errno_text(close_errno);
  const std::string got = file_text(d / "f");
  EXPECT_EQ(got.size(), orig.size());
  EXPECT_TRUE(got == orig) << "the file changed though its rewrite did not fit";

  ASSERT_EQ(::unlink((d / "filler").c_str()), 0) << errno_text(errno);
  ASSERT_EQ(::unlink((d / "f").c_str()), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return free_bytes(backend) + kMiB >= free_at_start; }, 60s))
      << "free space on the backend after the removal: " << free_bytes(backend) << " of "
      << free_at_start;
}

}  // namespace
}  // namespace zhsm::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  zhsm::test::ClusterOptions options;
  options.fileservers = 1;
  options.small_backend_mib = zhsm::test::kBackendMib;
  ::testing::AddGlobalTestEnvironment(zhsm::test::make_cluster_environment(options));
  return RUN_ALL_TESTS();
}
