// One file changed by a long, seeded run of random operations, in the manner of fsx:
// writes through two descriptors, whole pages through an O_DIRECT one beside them,
// appends, reads, truncates, fallocate, writes and reads through a shared mapping,
// fsync, closes and reopens (some with O_TRUNC), and changes made on the other mount
// between a close and the next open. The same run goes
// to a native file; after every step both must have answered alike, and every byte
// read must be what a model of the file says. At each reopen the other mount reads the
// whole file (close-to-open). Offsets favour the places where the data path changes
// hands: page edges, the inline limit (64 KiB) and the 16 MiB chunk boundary.
//
// ZHSM_FSX_SEED replays a run, ZHSM_FSX_OPS lengthens it; a failure prints the seed
// and the operations that led to it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>

#include <fmt/format.h>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"
#include "test/integration/two_mount_test.h"

namespace zhsm::test {
namespace {

constexpr off_t kKiB = 1024;
constexpr off_t kMiB = 1024 * kKiB;
constexpr off_t kChunk = 16 * kMiB;    // the cluster's default chunk size
constexpr off_t kInlineMax = 64 * kKiB;  // the controller's default inline limit

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

// The descriptors of one side (the mount or the native directory) of the run.
struct Side {
  fs::path path;
  int fd = -1;   // O_RDWR
  int fd2 = -1;  // a second O_RDWR descriptor of the same file
  int afd = -1;  // O_WRONLY | O_APPEND
  int dfd = -1;  // O_RDWR | O_DIRECT
};

// A page-aligned buffer for O_DIRECT.
struct AlignedBuffer {
  explicit AlignedBuffer(size_t size) : size(size) {
    if (::posix_memalign(&p, 4096, std::max<size_t>(size, 4096)) != 0) p = nullptr;
  }
  ~AlignedBuffer() { std::free(p); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  char* data() { return static_cast<char*>(p); }
  void* p = nullptr;
  size_t size;
};

class FsxRun {
 public:
  FsxRun(fs::path on_mount, fs::path native, fs::path on_other_mount, off_t max_size,
         uint64_t seed)
      : rng_(seed), seed_(seed), max_size_(max_size), other_(std::move(on_other_mount)) {
    mount_.path = std::move(on_mount);
    native_.path = std::move(native);
  }

  ~FsxRun() {
    for (Side* s : {&mount_, &native_})
      for (int* fd : {&s->fd, &s->fd2, &s->afd, &s->dfd})
        if (*fd >= 0) ::close(*fd);
  }

  // Runs `ops` operations; stops at the first difference (a test failure).
  void run(uint64_t ops) {
    if (!open_all(O_CREAT | O_EXCL)) return;
    for (uint64_t i = 0; i < ops && !failed_; ++i) step(i);
    if (!failed_) reopen(/*check_only=*/true);
  }

  bool failed() const { return failed_; }

 private:
  // A uniform number in [lo, hi].
  off_t uniform(off_t lo, off_t hi) {
    return std::uniform_int_distribution<off_t>(lo, std::max(lo, hi))(rng_);
  }
  bool chance(int percent) { return uniform(0, 99) < percent; }

  // An offset in [0, limit): near a boundary of the data path one time in three.
  off_t offset(off_t limit) {
    if (limit <= 1) return 0;
    if (chance(33)) {
      static constexpr off_t kEdges[] = {0, 4 * kKiB, kInlineMax, 1 * kMiB, kChunk};
      off_t edge = kEdges[uniform(0, std::size(kEdges) - 1)];
      off_t at = edge + uniform(-8 * kKiB, 8 * kKiB);
      if (at >= 0 && at < limit) return at;
    }
    return uniform(0, limit - 1);
  }

  // A length: mostly small, sometimes a few pages, now and then up to 1 MiB.
  off_t length() {
    int kind = static_cast<int>(uniform(0, 9));
    if (kind < 4) return uniform(1, 100);
    if (kind < 8) return uniform(1, 16 * kKiB);
    if (kind < 9) return uniform(1, 256 * kKiB);
    return uniform(1, std::min<off_t>(1 * kMiB, max_size_ / 4));
  }

  std::string bytes(off_t n) {
    std::string b(static_cast<size_t>(n), '\0');
    for (auto& c : b) c = static_cast<char>(rng_() & 0xff);
    return b;
  }

  void note(std::string what) {
    history_.push_back(std::move(what));
    if (history_.size() > 40) history_.pop_front();
  }

  void fail(const std::string& what) {
    std::string h;
    for (const auto& line : history_) h += "\n  " + line;
    ADD_FAILURE() << what << "\nseed " << seed_ << " (replay with ZHSM_FSX_SEED=" << seed_
                  << "), last operations:" << h;
    failed_ = true;
  }

  // Runs `fn` on both sides and expects the same outcome.
  Outcome both(const std::string& what, const std::function<long(Side&)>& fn) {
    Outcome m = outcome([&] { return fn(mount_); });
    Outcome n = outcome([&] { return fn(native_); });
    if (!(m == n))
      fail(fmt::format("{}: the mount answered {} {}, the native file {} {}", what, m.ret,
                       errno_text(m.err), n.ret, errno_text(n.err)));
    return m;
  }

  // The model's bytes [off, off + len), cut at its end.
  std::string expected(off_t off, off_t len) const {
    if (off >= static_cast<off_t>(model_.size())) return {};
    return model_.substr(static_cast<size_t>(off), static_cast<size_t>(len));
  }

  void expect_bytes(const std::string& what, const std::string& got, off_t off,
                    const std::string& want) {
    if (got == want) return;
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    fail(fmt::format("{}: {} bytes read at {}, {} expected; first difference at file offset {}",
                     what, got.size(), off, want.size(), off + static_cast<off_t>(i)));
  }

  std::string pread_side(int fd, off_t off, off_t len) {
    std::string b(static_cast<size_t>(len), '\0');
    size_t done = 0;
    while (done < b.size()) {
      ssize_t n = ::pread(fd, b.data() + done, b.size() - done, off + static_cast<off_t>(done));
      if (n < 0) return "<" + errno_text(errno) + ">";
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    b.resize(done);
    return b;
  }

  void model_write(off_t off, const std::string& data) {
    size_t end = static_cast<size_t>(off) + data.size();
    if (model_.size() < end) model_.resize(end, '\0');
    model_.replace(static_cast<size_t>(off), data.size(), data);
  }

  off_t size() const { return static_cast<off_t>(model_.size()); }

  void step(uint64_t i) {
    int op = static_cast<int>(uniform(0, 99));
    if (op < 4) return direct(i, /*write=*/true);
    if (op < 7) return direct(i, /*write=*/false);
    if (op < 22) return write(i, false);
    if (op < 30) return write(i, true);
    if (op < 36) return append(i);
    if (op < 54) return read(i);
    if (op < 62) return truncate(i);
    if (op < 66) return allocate(i);
    if (op < 72) return map_write(i);
    if (op < 77) return map_read(i);
    if (op < 80) return sync(i);
    if (op < 85) return check_size(i);
    if (op < 88) return verify(i);
    return reopen(false);
  }

  void write(uint64_t i, bool second) {
    off_t off = offset(max_size_);
    std::string data = bytes(std::min(length(), max_size_ - off));
    note(fmt::format("{}: pwrite fd{} {} bytes at {}", i, second ? 2 : 1, data.size(), off));
    Outcome o = both("pwrite", [&](Side& s) { return pwrite_all(second ? s.fd2 : s.fd, data, off); });
    if (o.ret == static_cast<long>(data.size())) model_write(off, data);
  }

  // Whole pages through the O_DIRECT descriptor (past the page cache that the other
  // descriptors share), at a page-aligned offset.
  void direct(uint64_t i, bool write) {
    const off_t page = 4 * kKiB;
    off_t off = offset(max_size_) / page * page;
    off_t len = std::min(std::max<off_t>(length() / page, 1) * page, (max_size_ - off) / page * page);
    if (len <= 0) return;
    AlignedBuffer buf(static_cast<size_t>(len));
    if (!buf.p) return fail("posix_memalign failed");
    if (write) {
      std::string data = bytes(len);
      note(fmt::format("{}: O_DIRECT pwrite {} bytes at {}", i, len, off));
      Outcome o = both("O_DIRECT pwrite", [&](Side& s) {
        std::memcpy(buf.data(), data.data(), data.size());
        return ::pwrite(s.dfd, buf.data(), static_cast<size_t>(len), off);
      });
      if (o.ret == len) model_write(off, data);
      return;
    }
    note(fmt::format("{}: O_DIRECT pread {} bytes at {} (size {})", i, len, off, size()));
    std::string want = expected(off, len);
    for (Side* s : {&mount_, &native_}) {
      ssize_t n = ::pread(s->dfd, buf.data(), static_cast<size_t>(len), off);
      if (n < 0) return fail(fmt::format("O_DIRECT pread: {}", errno_text(errno)));
      expect_bytes(s == &mount_ ? "O_DIRECT pread on the mount" : "O_DIRECT pread natively",
                   std::string(buf.data(), static_cast<size_t>(n)), off, want);
    }
  }

  void append(uint64_t i) {
    if (size() >= max_size_) return;
    std::string data = bytes(std::min(length(), max_size_ - size()));
    note(fmt::format("{}: append {} bytes at {}", i, data.size(), size()));
    Outcome o = both("append", [&](Side& s) { return write_all(s.afd, data); });
    if (o.ret == static_cast<long>(data.size())) model_write(size(), data);
  }

  void read(uint64_t i) {
    off_t off = offset(std::max<off_t>(size() + 4 * kKiB, 1));
    off_t len = length();
    note(fmt::format("{}: pread {} bytes at {} (size {})", i, len, off, size()));
    std::string want = expected(off, len);
    expect_bytes("pread on the mount", pread_side(mount_.fd, off, len), off, want);
    expect_bytes("pread on the native file", pread_side(native_.fd, off, len), off, want);
  }

  void truncate(uint64_t i) {
    off_t to = chance(20) ? 0 : offset(max_size_);
    note(fmt::format("{}: ftruncate to {} (from {})", i, to, size()));
    if (both("ftruncate", [&](Side& s) { return ::ftruncate(s.fd, to); }).ret == 0)
      model_.resize(static_cast<size_t>(to), '\0');
  }

  void allocate(uint64_t i) {
    off_t off = offset(max_size_);
    off_t len = std::min(length(), max_size_ - off);
    note(fmt::format("{}: fallocate {} bytes at {} (size {})", i, len, off, size()));
    if (both("fallocate", [&](Side& s) { return ::fallocate(s.fd, 0, off, len); }).ret == 0 &&
        off + len > size())
      model_.resize(static_cast<size_t>(off + len), '\0');
  }

  // Maps the whole file shared on both sides, changes bytes through the mapping and
  // msyncs them.
  void map_write(uint64_t i) {
    if (size() == 0) return;
    off_t off = offset(size());
    std::string data = bytes(std::min({length(), size() - off, 64 * kKiB}));
    note(fmt::format("{}: mmap write {} bytes at {} (size {})", i, data.size(), off, size()));
    for (Side* s : {&mount_, &native_}) {
      void* p = ::mmap(nullptr, static_cast<size_t>(size()), PROT_READ | PROT_WRITE, MAP_SHARED,
                       s->fd, 0);
      if (p == MAP_FAILED) return fail(fmt::format("mmap: {}", errno_text(errno)));
      std::memcpy(static_cast<char*>(p) + off, data.data(), data.size());
      int synced = ::msync(p, static_cast<size_t>(size()), MS_SYNC);
      int err = errno;
      ::munmap(p, static_cast<size_t>(size()));
      if (synced != 0) return fail(fmt::format("msync: {}", errno_text(err)));
    }
    model_write(off, data);
  }

  void map_read(uint64_t i) {
    if (size() == 0) return;
    off_t off = offset(size());
    off_t len = std::min(length(), size() - off);
    note(fmt::format("{}: mmap read {} bytes at {} (size {})", i, len, off, size()));
    std::string want = expected(off, len);
    for (Side* s : {&mount_, &native_}) {
      void* p = ::mmap(nullptr, static_cast<size_t>(size()), PROT_READ, MAP_SHARED, s->fd, 0);
      if (p == MAP_FAILED) return fail(fmt::format("mmap: {}", errno_text(errno)));
      std::string got(static_cast<char*>(p) + off, static_cast<size_t>(len));
      ::munmap(p, static_cast<size_t>(size()));
      expect_bytes(s == &mount_ ? "mmap read on the mount" : "mmap read on the native file", got,
                   off, want);
    }
  }

  void sync(uint64_t i) {
    note(fmt::format("{}: fsync", i));
    both("fsync", [](Side& s) { return ::fsync(s.fd); });
  }

  void check_size(uint64_t i) {
    note(fmt::format("{}: fstat (size {})", i, size()));
    for (Side* s : {&mount_, &native_}) {
      struct stat st {};
      for (int fd : {s->fd, s->fd2, s->afd, s->dfd}) {
        if (::fstat(fd, &st) != 0) return fail(fmt::format("fstat: {}", errno_text(errno)));
        if (st.st_size != size())
          return fail(fmt::format("fstat on the {}: size {}, {} expected",
                                  s == &mount_ ? "mount" : "native file", st.st_size, size()));
      }
    }
  }

  // The whole file through a new read-only descriptor of each side.
  void verify(uint64_t i) {
    note(fmt::format("{}: read all {} bytes through a new descriptor", i, size()));
    for (Side* s : {&mount_, &native_}) {
      int fd = ::open(s->path.c_str(), O_RDONLY);
      if (fd < 0) return fail(fmt::format("open: {}", errno_text(errno)));
      std::string got = pread_side(fd, 0, size() + 4 * kKiB);
      ::close(fd);
      expect_bytes(s == &mount_ ? "new descriptor on the mount" : "new descriptor natively", got,
                   0, model_);
    }
  }

  bool open_all(int extra) {
    for (Side* s : {&mount_, &native_}) {
      s->fd = ::open(s->path.c_str(), O_RDWR | extra, 0644);
      s->fd2 = ::open(s->path.c_str(), O_RDWR);
      s->afd = ::open(s->path.c_str(), O_WRONLY | O_APPEND);
      s->dfd = ::open(s->path.c_str(), O_RDWR | O_DIRECT);
      // A native filesystem without direct I/O (tmpfs before Linux 6.6) checks the model
      // through the page cache; the mount must take O_DIRECT.
      if (s->dfd < 0 && errno == EINVAL && s == &native_)
        s->dfd = ::open(s->path.c_str(), O_RDWR);
      if (s->fd < 0 || s->fd2 < 0 || s->afd < 0 || s->dfd < 0) {
        fail(fmt::format("open {}: {}", s->path.string(), errno_text(errno)));
        return false;
      }
    }
    return true;
  }

  // Closes every descriptor (expecting the same outcomes), reads the whole file on
  // the other mount, sometimes changes it there, and opens again (sometimes with
  // O_TRUNC). With check_only, stops after the other mount's read.
  void reopen(bool check_only) {
    note(fmt::format("close all (size {})", size()));
    for (int Side::*fd : {&Side::dfd, &Side::afd, &Side::fd2, &Side::fd}) {
      both("close", [&](Side& s) {
        int r = ::close(s.*fd);
        s.*fd = -1;
        return r;
      });
    }
    if (failed_) return;
    std::string seen = file_text(other_);
    expect_bytes("the other mount's read after the close", seen, 0, model_);
    if (failed_ || check_only) return;
    if (chance(40)) {
      off_t off = offset(max_size_);
      std::string data = bytes(std::min(length(), max_size_ - off));
      note(fmt::format("write {} bytes at {} on the other mount", data.size(), off));
      Outcome m = outcome([&] {
        int fd = ::open(other_.c_str(), O_RDWR);
        if (fd < 0) return -1L;
        long r = pwrite_all(fd, data, off);
        int err = errno;
        if (::close(fd) != 0 || r < 0) {
          errno = r < 0 ? err : errno;
          return -1L;
        }
        return r;
      });
      if (m.ret != static_cast<long>(data.size()))
        return fail(fmt::format("write on the other mount: {}", errno_text(m.err)));
      int fd = ::open(native_.path.c_str(), O_RDWR);
      if (fd < 0 || pwrite_all(fd, data, off) != static_cast<long>(data.size()) || ::close(fd) != 0)
        return fail("the same write on the native file failed");
      model_write(off, data);
    }
    bool trunc = chance(10);
    note(fmt::format("open again{}", trunc ? " with O_TRUNC" : ""));
    if (!open_all(trunc ? O_TRUNC : 0)) return;
    if (trunc) model_.clear();
    check_size(0);
  }

  std::mt19937_64 rng_;
  const uint64_t seed_;
  const off_t max_size_;
  fs::path other_;
  Side mount_, native_;
  std::string model_;
  std::deque<std::string> history_;
  bool failed_ = false;
};

class Fsx : public TwoMountTest {
 protected:
  void run(off_t max_size, uint64_t default_ops) {
    uint64_t seed = env_number("ZHSM_FSX_SEED", std::random_device{}());
    uint64_t ops = env_number("ZHSM_FSX_OPS", default_ops);
    std::printf("fsx: seed %llu, %llu operations, files up to %lld bytes\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(ops),
                static_cast<long long>(max_size));
    NativeDir native;
    FsxRun r(a_ / "fsx", native.path() / "fsx", b_ / "fsx", max_size, seed);
    r.run(ops);
  }
};

// Files that move between inline bytes (up to 64 KiB, kept in the database) and a
// chunk on the file servers, back and forth.
TEST_F(Fsx, AFileAroundTheInlineLimitAlwaysHoldsWhatWasWritten) { run(192 * kKiB, 2500); }

// A file across the first chunk boundary (16 MiB): writes, truncates and mappings
// that span two chunks.
TEST_F(Fsx, AFileAcrossAChunkBoundaryAlwaysHoldsWhatWasWritten) { run(kChunk + 2 * kMiB, 1200); }

}  // namespace
}  // namespace zhsm::test
