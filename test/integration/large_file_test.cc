// A large file through the mount: 1 GiB (ZHSM_LARGE_FILE_MIB overrides) written
// sequentially in 1 MiB buffers of deterministic pseudo-random bytes and read
// back with the SHA-256 of both sides compared; then 200 writes of 1..200 KiB at
// random offsets (some past the end), mirrored into a native file, after which
// the two files must be equal byte for byte. The page cache is dropped before
// every read-back, so the bytes come from the file servers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>

#include "common/sha256.h"
#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr size_t kBlock = 1 << 20;
constexpr uint64_t kSeed = 0x1a6e;

uint64_t file_mib() {
  const char* v = std::getenv("ZHSM_LARGE_FILE_MIB");
  return v && *v ? std::strtoull(v, nullptr, 10) : 1024;
}

// Drops the cached pages of `path`, so the next read asks the filesystem.
void drop_cache(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double mib_per_s(uint64_t bytes, std::chrono::steady_clock::time_point since) {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  return s > 0 ? double(bytes) / double(kBlock) / s : 0;
}

// Compares two files block by block; returns "" or where they first differ.
std::string first_difference(const fs::path& a, const fs::path& b) {
  int fa = ::open(a.c_str(), O_RDONLY);
  int fb = ::open(b.c_str(), O_RDONLY);
  if (fa < 0 || fb < 0) {
    if (fa >= 0) ::close(fa);
    if (fb >= 0) ::close(fb);
    return "cannot open: " + errno_text(errno);
  }
  uint64_t off = 0;
  std::string result;
  for (;;) {
    std::string ra = pread_text(fa, kBlock, static_cast<off_t>(off));
    std::string rb = pread_text(fb, kBlock, static_cast<off_t>(off));
    if (ra != rb) {
      size_t i = 0;
      while (i < ra.size() && i < rb.size() && ra[i] == rb[i]) ++i;
      result = "first difference at byte " + std::to_string(off + i) + " (mount read " +
               std::to_string(ra.size()) + " bytes there, native " + std::to_string(rb.size()) + ")";
      break;
    }
    if (ra.empty()) break;
    off += ra.size();
  }
  ::close(fa);
  ::close(fb);
  return result;
}

class LargeFile : public MountTest {};

TEST_F(LargeFile, SequentialThenRandomWrites) {
  const uint64_t blocks = file_mib();
  const uint64_t total = blocks * kBlock;
  fs::path z = mount_dir_ / "large";
  fs::path n = native_dir_ / "large";
  int zfd = ::open(z.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(zfd, 0) << errno_text(errno);
  int nfd = ::open(n.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(nfd, 0) << errno_text(errno);

  // Sequential write.
  std::string buf(kBlock, '\0');
  Sha256 written;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < blocks; ++i) {
    fill_pattern(kSeed, i, reinterpret_cast<uint8_t*>(buf.data()), kBlock);
    ASSERT_EQ(write_all(zfd, buf), long(kBlock)) << "write of block " << i << ": " << errno_text(errno);
    ASSERT_EQ(write_all(nfd, buf), long(kBlock));
    written.update(buf.data(), buf.size());
  }
  ASSERT_EQ(::close(zfd), 0) << "close after writing: " << errno_text(errno);
  ASSERT_EQ(::close(nfd), 0);
  std::cerr << "wrote " << blocks << " MiB at " << mib_per_s(total, start) << " MiB/s\n";
  std::string written_hex = to_hex(written.finish());
  struct stat st {};
  ASSERT_EQ(::stat(z.c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), total);

  // Sequential read-back.
  drop_cache(z);
  start = std::chrono::steady_clock::now();
  zfd = ::open(z.c_str(), O_RDONLY);
  ASSERT_GE(zfd, 0) << errno_text(errno);
  Sha256 read_back;
  uint64_t got = 0;
  int64_t first_bad_block = -1;
  std::string expect(kBlock, '\0');
  for (;;) {
    ssize_t r = ::read(zfd, buf.data(), kBlock);
    ASSERT_GE(r, 0) << "read at " << got << ": " << errno_text(errno);
    if (r == 0) break;
    read_back.update(buf.data(), static_cast<size_t>(r));
    if (first_bad_block < 0 && got % kBlock == 0 && r == ssize_t(kBlock)) {
      fill_pattern(kSeed, got / kBlock, reinterpret_cast<uint8_t*>(expect.data()), kBlock);
      if (std::memcmp(expect.data(), buf.data(), kBlock) != 0) first_bad_block = int64_t(got / kBlock);
    }
    got += static_cast<uint64_t>(r);
  }
  ::close(zfd);
  std::cerr << "read " << got / kBlock << " MiB at " << mib_per_s(got, start) << " MiB/s\n";
  EXPECT_EQ(got, total);
  EXPECT_EQ(to_hex(read_back.finish()), written_hex)
      << "SHA-256 of the data read differs from the data written; first differing MiB block: "
      << first_bad_block;

  // Random writes of 1..200 KiB, mirrored into the native file.
  zfd = ::open(z.c_str(), O_RDWR);
  ASSERT_GE(zfd, 0) << errno_text(errno);
  nfd = ::open(n.c_str(), O_RDWR);
  ASSERT_GE(nfd, 0);
  std::mt19937_64 rng(kSeed);
  struct Region {
    off_t offset;
    std::string data;
  };
  std::vector<Region> samples;
  for (int k = 0; k < 200; ++k) {
    off_t offset = static_cast<off_t>(rng() % (total + 4 * kBlock));
    size_t size = 1 + static_cast<size_t>(rng() % (200 * 1024));
    std::string data(size, '\0');
    fill_pattern(kSeed + 1, static_cast<uint64_t>(k), reinterpret_cast<uint8_t*>(data.data()), size);
    ASSERT_EQ(pwrite_all(zfd, data, offset), long(size))
        << "random write " << k << " at " << offset << ": " << errno_text(errno);
    ASSERT_EQ(pwrite_all(nfd, data, offset), long(size));
    if (k % 20 == 0) samples.push_back({offset, data});
  }
  // Before close, the writer reads its own unflushed writes (unless a later
  // random write overlapped, which the native file tells).
  for (const auto& s : samples) {
    std::string native = pread_text(nfd, s.data.size(), s.offset);
    EXPECT_EQ(pread_text(zfd, s.data.size(), s.offset) == native, true)
        << "reading unflushed data at " << s.offset << " through the writing descriptor";
  }
  ASSERT_EQ(::close(zfd), 0) << "close after random writes: " << errno_text(errno);
  ASSERT_EQ(::close(nfd), 0);
  drop_cache(z);
  struct stat zst {}, nst {};
  ASSERT_EQ(::stat(z.c_str(), &zst), 0);
  ASSERT_EQ(::stat(n.c_str(), &nst), 0);
  EXPECT_EQ(zst.st_size, nst.st_size);
  EXPECT_EQ(first_difference(z, n), "");
}

}  // namespace
}  // namespace zhsm::test
