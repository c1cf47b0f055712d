// Which calls move mtime and ctime, of the entry itself and of the directories
// it lives in, and utimensat's UTIME_NOW and UTIME_OMIT. Before each call the
// entries involved are "aged" (atime and mtime set to 2001-09-09 with
// utimensat, which also moves ctime to now), and their ctime is read; after
// the call each one is reported as changed or unchanged. Every scenario runs on
// the mount and on a native directory and the reports must agree.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <vector>

#include "common/clock.h"
#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

class PosixTimes : public MountTest {};

constexpr time_t kOld = 1000000000;  // 2001-09-09

int64_t ns_of(const timespec& ts) { return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec; }

struct Times {
  int64_t atime = 0, mtime = 0, ctime = 0;
  int err = 0;
};

Times times_of(const fs::path& p) {
  struct stat st {};
  Times t;
  if (::lstat(p.c_str(), &st) != 0) {
    t.err = errno;
    return t;
  }
  t.atime = ns_of(st.st_atim);
  t.mtime = ns_of(st.st_mtim);
  t.ctime = ns_of(st.st_ctim);
  return t;
}

// The times of a set of entries before a call, to report how the call moved them.
// A name "old|new" is an entry the call moves: read at old before, at new after.
class Watch {
 public:
  Watch(const fs::path& base, std::vector<std::string> names) : base_(base) {
    timespec old[2] = {{kOld, 0}, {kOld, 0}};
    for (const auto& n : names) {
      auto bar = n.find('|');
      std::string from = n.substr(0, bar);
      std::string to = bar == std::string::npos ? from : n.substr(bar + 1);
      ::utimensat(AT_FDCWD, (base_ / from).c_str(), old, AT_SYMLINK_NOFOLLOW);
      entries_.push_back({to, times_of(base_ / from)});
    }
  }
  // One note per entry: "mtime changed|same, ctime changed|same".
  void report(Transcript& t, const std::string& call) const {
    for (const auto& [name, before] : entries_) {
      Times now = times_of(base_ / name);
      std::string what = call + ": " + name;
      if (now.err) {
        t.note(what, errno_text(now.err));
        continue;
      }
      t.note(what, std::string("mtime ") + (now.mtime != before.mtime ? "changed" : "same") +
                       ", ctime " + (now.ctime != before.ctime ? "changed" : "same"));
    }
  }

 private:
  fs::path base_;
  std::vector<std::pair<std::string, Times>> entries_;
};

TEST_F(PosixTimes, DataCalls) {
  compare([](const fs::path& d, Transcript& t) {
    t.call("mkdir p", [&] { return ::mkdir((d / "p").c_str(), 0755); });
    t.call("put p/f", [&] { return put(d / "p" / "f", pattern_bytes(1, 100000)); });
    t.call("put p/small", [&] { return put(d / "p" / "small", "small file"); });
    for (const char* name : {"p/f", "p/small"}) {
      fs::path f = d / name;
      std::string n = name;
      {
        Watch w(d, {name, "p"});
        int fd = ::open(f.c_str(), O_WRONLY);
        t.call("pwrite " + n, [&] { return ::pwrite(fd, "zz", 2, 5); });
        w.report(t, "pwrite " + n + " before close");
        t.call("close", [&] { return ::close(fd); });
        w.report(t, "pwrite " + n + " after close");
      }
      {
        Watch w(d, {name});
        int fd = ::open(f.c_str(), O_WRONLY | O_APPEND);
        t.call("append " + n, [&] { return ::write(fd, "tail", 4); });
        t.call("fsync", [&] { return ::fsync(fd); });
        w.report(t, "append " + n + " after fsync");
        t.call("close", [&] { return ::close(fd); });
      }
      {
        Watch w(d, {name});
        t.note("read " + n, show(file_text(f)));
        w.report(t, "read " + n);
      }
      {
        Watch w(d, {name});
        int fd = ::open(f.c_str(), O_RDWR);
        t.call("close without writing", [&] { return ::close(fd); });
        w.report(t, "open O_RDWR and close " + n);
      }
      {
        Watch w(d, {name, "p"});
        t.call("truncate shorter " + n, [&] { return ::truncate(f.c_str(), 7); });
        w.report(t, "truncate shorter " + n);
      }
      {
        Watch w(d, {name});
        t.call("truncate longer " + n, [&] { return ::truncate(f.c_str(), 70000); });
        w.report(t, "truncate longer " + n);
      }
      {
        Watch w(d, {name});
        int fd = ::open(f.c_str(), O_WRONLY);
        t.call("ftruncate shorter " + n, [&] { return ::ftruncate(fd, 10); });
        t.call("close", [&] { return ::close(fd); });
        w.report(t, "ftruncate shorter " + n);
      }
      {
        Watch w(d, {name, "p"});
        t.call("open O_TRUNC " + n, [&] {
          int fd = ::open(f.c_str(), O_WRONLY | O_TRUNC);
          return fd < 0 ? -1 : ::close(fd);
        });
        w.report(t, "open O_TRUNC " + n);
      }
      {
        Watch w(d, {name, "p"});
        t.call("open O_TRUNC again (empty) " + n, [&] {
          int fd = ::open(f.c_str(), O_WRONLY | O_TRUNC);
          return fd < 0 ? -1 : ::close(fd);
        });
        w.report(t, "open O_TRUNC of an empty file " + n);
      }
    }
  });
}

TEST_F(PosixTimes, AttributeCalls) {
  compare([](const fs::path& d, Transcript& t) {
    t.call("mkdir p", [&] { return ::mkdir((d / "p").c_str(), 0755); });
    t.call("put p/f", [&] { return put(d / "p" / "f", "content"); });
    t.call("mkdir p/sub", [&] { return ::mkdir((d / "p" / "sub").c_str(), 0755); });
    t.call("symlink p/ln", [&] { return ::symlink("f", (d / "p" / "ln").c_str()); });
    for (const char* name : {"p/f", "p/sub"}) {
      fs::path f = d / name;
      std::string n = name;
      {
        Watch w(d, {name, "p"});
        t.call("chmod " + n, [&] { return ::chmod(f.c_str(), 0700); });
        w.report(t, "chmod " + n);
      }
      {
        Watch w(d, {name});
        t.call("chown " + n, [&] { return ::chown(f.c_str(), 65534, 65534); });
        w.report(t, "chown " + n);
      }
      {
        Watch w(d, {name});
        t.call("chown to the same owner " + n, [&] { return ::chown(f.c_str(), 65534, 65534); });
        w.report(t, "chown to the same owner " + n);
      }
      {
        Watch w(d, {name, "p"});
        t.call("setxattr " + n, [&] { return ::setxattr(f.c_str(), "user.k", "v", 1, 0); });
        w.report(t, "setxattr " + n);
      }
      {
        Watch w(d, {name});
        char buf[8];
        t.call("getxattr " + n, [&] { return ::getxattr(f.c_str(), "user.k", buf, sizeof buf); });
        w.report(t, "getxattr " + n);
      }
      {
        Watch w(d, {name});
        t.call("removexattr " + n, [&] { return ::removexattr(f.c_str(), "user.k"); });
        w.report(t, "removexattr " + n);
      }
    }
    {
      Watch w(d, {"p/ln", "p/f"});
      t.call("lchown symlink", [&] { return ::lchown((d / "p" / "ln").c_str(), 65534, -1); });
      w.report(t, "lchown symlink");
    }
  });
}

TEST_F(PosixTimes, NamespaceCalls) {
  compare([](const fs::path& d, Transcript& t) {
    for (const char* dir : {"a", "b", "a/moving", "a/moving/inner"})
      t.call(std::string("mkdir ") + dir, [&] { return ::mkdir((d / dir).c_str(), 0755); });
    t.call("put a/f", [&] { return put(d / "a" / "f", "file"); });
    auto step = [&](const std::string& what, std::vector<std::string> watched,
                    const std::function<long()>& fn) {
      Watch w(d, std::move(watched));
      t.call(what, fn);
      w.report(t, what);
    };
    auto at = [&](const char* rel) { return (d / rel).string(); };
    step("create a/new", {"a", "b"}, [&] {
      int fd = ::open(at("a/new").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      return fd < 0 ? -1 : ::close(fd);
    });
    step("open O_CREAT of the existing a/new", {"a", "a/new"}, [&] {
      int fd = ::open(at("a/new").c_str(), O_CREAT | O_WRONLY, 0644);
      return fd < 0 ? -1 : ::close(fd);
    });
    step("mknod a/fifo", {"a"}, [&] { return ::mknod(at("a/fifo").c_str(), S_IFIFO | 0644, 0); });
    step("symlink a/ln", {"a"}, [&] { return ::symlink("f", at("a/ln").c_str()); });
    step("mkdir a/dir", {"a"}, [&] { return ::mkdir(at("a/dir").c_str(), 0755); });
    step("rmdir a/dir", {"a"}, [&] { return ::rmdir(at("a/dir").c_str()); });
    step("link a/f b/f2", {"a/f", "a", "b"}, [&] { return ::link(at("a/f").c_str(), at("b/f2").c_str()); });
    step("unlink b/f2", {"a/f", "a", "b"}, [&] { return ::unlink(at("b/f2").c_str()); });
    step("rename a/new a/new2 (same dir)", {"a/new|a/new2", "a", "b"},
         [&] { return ::rename(at("a/new").c_str(), at("a/new2").c_str()); });
    step("rename a/new2 b/new (across)", {"a/new2|b/new", "a", "b"},
         [&] { return ::rename(at("a/new2").c_str(), at("b/new").c_str()); });
    t.call("link b/new a/keep", [&] { return ::link(at("b/new").c_str(), at("a/keep").c_str()); });
    t.call("put b/victim", [&] { return put(d / "b" / "victim", "v"); });
    t.call("link b/victim a/victim-link",
           [&] { return ::link(at("b/victim").c_str(), at("a/victim-link").c_str()); });
    step("rename b/new over b/victim", {"b/new|b/victim", "a/keep", "a/victim-link", "b"},
         [&] { return ::rename(at("b/new").c_str(), at("b/victim").c_str()); });
    step("rename dir a/moving b/moving (across)", {"a/moving|b/moving", "a/moving/inner|b/moving/inner", "a", "b"},
         [&] { return ::rename(at("a/moving").c_str(), at("b/moving").c_str()); });
    step("rename dir b/moving b/moved (same dir)", {"b/moving|b/moved", "b"},
         [&] { return ::rename(at("b/moving").c_str(), at("b/moved").c_str()); });
    step("failed rename (no such entry)", {"a", "b"},
         [&] { return ::rename(at("a/none").c_str(), at("b/none").c_str()); });
    step("failed mkdir (exists)", {"a"}, [&] { return ::mkdir(at("a/fifo").c_str(), 0755); });
    step("unlink a/fifo", {"a", "b"}, [&] { return ::unlink(at("a/fifo").c_str()); });
  });
}

TEST_F(PosixTimes, UtimensatNowAndOmit) {
  Transcript on_mount = compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    t.call("put f", [&] { return put(f, "times"); });
    auto set = [&](const std::string& what, timespec a, timespec m, int flags = 0) {
      timespec old[2] = {{kOld, 111}, {kOld, 222}};
      ::utimensat(AT_FDCWD, f.c_str(), old, 0);
      Times before = times_of(f);
      int64_t start = now_ns();
      timespec ts[2] = {a, m};
      t.call("utimensat " + what, [&] { return ::utimensat(AT_FDCWD, f.c_str(), ts, flags); });
      Times after = times_of(f);
      auto describe = [&](int64_t was, int64_t is) -> std::string {
        if (is == was) return "unchanged";
        if (is >= start - 2'000'000'000 && is <= now_ns() + 2'000'000'000) return "now";
        return std::to_string(is / 1'000'000'000) + "." + std::to_string(is % 1'000'000'000);
      };
      t.note(what + " atime", describe(before.atime, after.atime));
      t.note(what + " mtime", describe(before.mtime, after.mtime));
      t.note(what + " ctime", after.ctime != before.ctime ? "changed" : "same");
    };
    set("NOW, NOW", {0, UTIME_NOW}, {0, UTIME_NOW});
    set("NOW, OMIT", {0, UTIME_NOW}, {0, UTIME_OMIT});
    set("OMIT, NOW", {0, UTIME_OMIT}, {0, UTIME_NOW});
    set("OMIT, OMIT", {0, UTIME_OMIT}, {0, UTIME_OMIT});
    set("explicit, OMIT", {1234567890, 987654321}, {0, UTIME_OMIT});
    set("OMIT, explicit", {0, UTIME_OMIT}, {1234567890, 5});
    set("explicit, explicit", {1500000000, 1}, {1600000000, 999999999});
    set("explicit before 1970", {-100, 0}, {-1, 500000000});
    set("NOW, explicit", {0, UTIME_NOW}, {1400000000, 42});
    t.call("utimensat NULL", [&] { return ::utimensat(AT_FDCWD, f.c_str(), nullptr, 0); });
    t.call("symlink ln", [&] { return ::symlink("f", (d / "ln").c_str()); });
    timespec ts[2] = {{1300000000, 3}, {1300000001, 4}};
    t.call("utimensat on a symlink, no follow",
           [&] { return ::utimensat(AT_FDCWD, (d / "ln").c_str(), ts, AT_SYMLINK_NOFOLLOW); });
    Times ln = times_of(d / "ln");
    t.note("symlink mtime", std::to_string(ln.mtime));
    timespec bad[2] = {{0, 1000000000}, {0, UTIME_OMIT}};
    t.call("utimensat with tv_nsec out of range", [&] { return ::utimensat(AT_FDCWD, f.c_str(), bad, 0); });
    int fd = ::open(f.c_str(), O_RDONLY);
    timespec fts[2] = {{0, UTIME_OMIT}, {1700000000, 77}};
    t.call("futimens through a read-only descriptor", [&] { return ::futimens(fd, fts); });
    ::close(fd);
    t.note("mtime after futimens", std::to_string(times_of(f).mtime));
  });
  (void)on_mount;
}

// Times set on a file whose written data has not been committed yet (what cp -a, rsync
// -a and tar x do before the close): the explicit mtime survives the close, later writes
// move it again, and the data is all there. The mount sends the commit and the setattr
// in one call (doc/protocol.md); both halves must show.
TEST_F(PosixTimes, TimesOfUnwrittenData) {
  Transcript on_mount = compare([](const fs::path& d, Transcript& t) {
    const std::string small = pattern_bytes(3, 3000);
    const std::string large = pattern_bytes(4, 3 << 20);
    auto scenario = [&](const std::string& name, const std::string& data, bool write_after,
                        bool by_path) {
      fs::path f = d / name;
      int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      t.call(name + ": write", [&] { return write_all(fd, data) == long(data.size()) ? 0 : -1; });
      timespec ts[2] = {{1500000000, 11}, {1600000000, 22}};
      t.call(name + ": set times", [&] {
        return by_path ? ::utimensat(AT_FDCWD, f.c_str(), ts, 0) : ::futimens(fd, ts);
      });
      t.call(name + ": fchmod", [&] { return ::fchmod(fd, 0644); });
      if (write_after) t.call(name + ": write more", [&] { return write_all(fd, "tail") == 4 ? 0 : -1; });
      t.call(name + ": close", [&] { return ::close(fd); });
      Times after = times_of(f);
      const bool moved = after.mtime > int64_t{1600000001} * 1'000'000'000;
      t.note(name + " mtime", moved ? "moved by the write" : std::to_string(after.mtime));
      t.note(name + " atime", std::to_string(after.atime));
      const std::string want = write_after ? data + "tail" : data;
      t.note(name + " data", file_text(f) == want ? "as written" : "differs");
      t.note(name + " mode", stat_line(f));
    };
    scenario("small-fd", small, false, false);
    scenario("small-path", small, false, true);
    scenario("large-fd", large, false, false);
    scenario("small-then-write", small, true, false);
    scenario("large-then-write", large, true, true);
  });
  (void)on_mount;
}

}  // namespace
}  // namespace zhsm::test
