// The namespace as a local filesystem keeps it: link counts of files and
// directories, rename with RENAME_NOREPLACE and RENAME_EXCHANGE, directories
// moved across parents (and refused when moved into their own subtree), fifos,
// sockets and device nodes as metadata, names of 255 bytes, and paths close to
// PATH_MAX. Each scenario runs on the mount and on a native directory, and the
// transcripts must agree.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace zhsm::test {
namespace {

class PosixNames : public MountTest {};

long rename2(const fs::path& from, const fs::path& to, unsigned flags) {
  return ::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags);
}

long nlink_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return -1;
  return static_cast<long>(st.st_nlink);
}

uint64_t ino_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string listing(const fs::path& p) {
  std::string err;
  std::string out;
  for (auto& [name, count] : list_dir(p, &err)) out += name + (count > 1 ? "(x" + std::to_string(count) + ")" : "") + " ";
  return err.empty() ? out : err;
}

TEST_F(PosixNames, LinkCounts) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    t.call("put f", [&] { return put(f, "linked"); });
    t.note("f nlink", nlink_of(f));
    t.call("link f g", [&] { return ::link(f.c_str(), (d / "g").c_str()); });
    t.call("mkdir sub", [&] { return ::mkdir((d / "sub").c_str(), 0755); });
    t.call("link f sub/h", [&] { return ::link(f.c_str(), (d / "sub" / "h").c_str()); });
    t.note("f nlink", nlink_of(f));
    t.note("sub/h nlink", nlink_of(d / "sub" / "h"));
    t.note("same inode", ino_of(f) == ino_of(d / "sub" / "h") ? "yes" : "no");
    t.call("link onto an existing name", [&] { return ::link(f.c_str(), (d / "g").c_str()); });
    t.call("link a directory", [&] { return ::link((d / "sub").c_str(), (d / "sublink").c_str()); });
    int fd = static_cast<int>(t.call("open f", [&] { return ::open(f.c_str(), O_RDWR); }));
    t.call("unlink f", [&] { return ::unlink(f.c_str()); });
    t.note("g nlink", nlink_of(d / "g"));
    t.call("unlink g", [&] { return ::unlink((d / "g").c_str()); });
    t.call("unlink sub/h", [&] { return ::unlink((d / "sub" / "h").c_str()); });
    struct stat st {};
    t.call("fstat after the last unlink", [&] { return ::fstat(fd, &st); });
    t.note("nlink of the open, unlinked file", static_cast<long long>(st.st_nlink));
    t.call("linkat of the unlinked file via /proc", [&] {
      std::string proc = "/proc/self/fd/" + std::to_string(fd);
      return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, (d / "revived").c_str(), AT_SYMLINK_FOLLOW);
    });
    t.call("close", [&] { return ::close(fd); });
    // Directories: 2 + subdirectories; files do not count.
    t.note(". nlink", nlink_of(d));
    t.call("mkdir a", [&] { return ::mkdir((d / "a").c_str(), 0755); });
    t.note("a nlink", nlink_of(d / "a"));
    for (const char* s : {"a/x", "a/y", "a/z"})
      t.call(std::string("mkdir ") + s, [&] { return ::mkdir((d / s).c_str(), 0755); });
    t.call("put a/file", [&] { return put(d / "a" / "file", "f"); });
    t.call("mkfifo a/fifo", [&] { return ::mkfifo((d / "a" / "fifo").c_str(), 0644); });
    t.note("a nlink", nlink_of(d / "a"));
    t.note(". nlink", nlink_of(d));
    t.call("rmdir a/z", [&] { return ::rmdir((d / "a" / "z").c_str()); });
    t.note("a nlink", nlink_of(d / "a"));
    t.call("mkdir b", [&] { return ::mkdir((d / "b").c_str(), 0755); });
    t.call("rename a/y b/y", [&] { return ::rename((d / "a" / "y").c_str(), (d / "b" / "y").c_str()); });
    t.note("a nlink", nlink_of(d / "a"));
    t.note("b nlink", nlink_of(d / "b"));
    t.call("mkdir b/empty", [&] { return ::mkdir((d / "b" / "empty").c_str(), 0755); });
    t.call("rename a/x over b/empty", [&] { return ::rename((d / "a" / "x").c_str(), (d / "b" / "empty").c_str()); });
    t.note("a nlink", nlink_of(d / "a"));
    t.note("b nlink", nlink_of(d / "b"));
    t.call("rename b/empty over b/y (same dir)",
           [&] { return ::rename((d / "b" / "empty").c_str(), (d / "b" / "y").c_str()); });
    t.note("b nlink", nlink_of(d / "b"));
    t.call("rename dir a into b", [&] { return ::rename((d / "a").c_str(), (d / "b" / "a").c_str()); });
    t.note(". nlink", nlink_of(d));
    t.note("b nlink", nlink_of(d / "b"));
    t.note("b/a nlink", nlink_of(d / "b" / "a"));
    t.note("b/y nlink", nlink_of(d / "b" / "y"));
    t.call("rmdir b/y", [&] { return ::rmdir((d / "b" / "y").c_str()); });
    t.note("b nlink", nlink_of(d / "b"));
    int dfd = static_cast<int>(t.call("open b/a", [&] { return ::open((d / "b" / "a").c_str(), O_RDONLY | O_DIRECTORY); }));
    t.call("unlink b/a/file", [&] { return ::unlink((d / "b" / "a" / "file").c_str()); });
    t.call("unlink b/a/fifo", [&] { return ::unlink((d / "b" / "a" / "fifo").c_str()); });
    t.call("rmdir b/a", [&] { return ::rmdir((d / "b" / "a").c_str()); });
    // (fstat of the removed directory differs: zhsm keeps no token for open
    // directories, so the inode is gone at once; see client-fuse/README.md.)
    t.call("create in the removed directory", [&] {
      return ::openat(dfd, "new", O_CREAT | O_WRONLY, 0644);
    });
    t.call("close", [&] { return ::close(dfd); });
    t.note("b nlink", nlink_of(d / "b"));
  });
}

TEST_F(PosixNames, RenameNoReplaceAndExchange) {
  compare([](const fs::path& d, Transcript& t) {
    t.call("put a", [&] { return put(d / "a", "content of a"); });
    t.call("put b", [&] { return put(d / "b", "content of b"); });
    t.call("NOREPLACE onto an existing file", [&] { return rename2(d / "a", d / "b", RENAME_NOREPLACE); });
    t.note("a", show(file_text(d / "a")));
    t.note("b", show(file_text(d / "b")));
    t.call("NOREPLACE onto itself", [&] { return rename2(d / "a", d / "a", RENAME_NOREPLACE); });
    t.call("NOREPLACE to a new name", [&] { return rename2(d / "a", d / "c", RENAME_NOREPLACE); });
    t.note("a", stat_line(d / "a"));
    t.note("c", show(file_text(d / "c")));
    t.call("EXCHANGE two files", [&] { return rename2(d / "b", d / "c", RENAME_EXCHANGE); });
    t.note("b", show(file_text(d / "b")));
    t.note("c", show(file_text(d / "c")));
    t.call("EXCHANGE with a missing target", [&] { return rename2(d / "b", d / "missing", RENAME_EXCHANGE); });
    t.call("EXCHANGE with a missing source", [&] { return rename2(d / "missing", d / "b", RENAME_EXCHANGE); });
    t.call("EXCHANGE|NOREPLACE", [&] { return rename2(d / "b", d / "c", RENAME_EXCHANGE | RENAME_NOREPLACE); });
    t.call("EXCHANGE with itself", [&] { return rename2(d / "b", d / "b", RENAME_EXCHANGE); });
    // Directories, with their contents, across parents.
    for (const char* p : {"p1", "p2", "p1/dir1", "p2/dir2", "p2/dir2/deep"})
      t.call(std::string("mkdir ") + p, [&] { return ::mkdir((d / p).c_str(), 0755); });
    t.call("put p1/dir1/one", [&] { return put(d / "p1" / "dir1" / "one", "1"); });
    t.call("put p2/dir2/two", [&] { return put(d / "p2" / "dir2" / "two", "2"); });
    t.call("put p2/file", [&] { return put(d / "p2" / "file", "file in p2"); });
    t.call("EXCHANGE two directories across parents",
           [&] { return rename2(d / "p1" / "dir1", d / "p2" / "dir2", RENAME_EXCHANGE); });
    t.note("p1/dir1", listing(d / "p1" / "dir1"));
    t.note("p2/dir2", listing(d / "p2" / "dir2"));
    t.note("p1/dir1/.. is p1", ino_of(d / "p1" / "dir1" / "..") == ino_of(d / "p1") ? "yes" : "no");
    t.note("p2/dir2/.. is p2", ino_of(d / "p2" / "dir2" / "..") == ino_of(d / "p2") ? "yes" : "no");
    t.note("p1 nlink", nlink_of(d / "p1"));
    t.note("p2 nlink", nlink_of(d / "p2"));
    t.call("EXCHANGE a directory and a file across parents",
           [&] { return rename2(d / "p1" / "dir1", d / "p2" / "file", RENAME_EXCHANGE); });
    t.note("p1/dir1", stat_line(d / "p1" / "dir1"));
    t.note("p1/dir1 content", show(file_text(d / "p1" / "dir1")));
    t.note("p2/file", listing(d / "p2" / "file"));
    t.note("p1 nlink", nlink_of(d / "p1"));
    t.note("p2 nlink", nlink_of(d / "p2"));
    t.note("p2/file/.. is p2", ino_of(d / "p2" / "file" / "..") == ino_of(d / "p2") ? "yes" : "no");
    t.call("EXCHANGE a directory with its own child",
           [&] { return rename2(d / "p2", d / "p2" / "file", RENAME_EXCHANGE); });
    t.call("EXCHANGE a child with its ancestor",
           [&] { return rename2(d / "p2" / "file" / "deep", d / "p2", RENAME_EXCHANGE); });
    t.call("NOREPLACE a directory onto an empty directory",
           [&] { return rename2(d / "p2" / "dir2", d / "p2" / "file" / "deep", RENAME_NOREPLACE); });
    t.note("p2", listing(d / "p2"));
  });
}

TEST_F(PosixNames, DirectoryRenames) {
  compare([](const fs::path& d, Transcript& t) {
    for (const char* p : {"a", "a/b", "a/b/c", "x", "x/full", "x/empty"})
      t.call(std::string("mkdir ") + p, [&] { return ::mkdir((d / p).c_str(), 0755); });
    t.call("put a/b/c/file", [&] { return put(d / "a" / "b" / "c" / "file", "deep file"); });
    t.call("put x/full/f", [&] { return put(d / "x" / "full" / "f", "f"); });
    t.call("put x/file", [&] { return put(d / "x" / "file", "plain"); });
    t.call("move a into itself", [&] { return ::rename((d / "a").c_str(), (d / "a" / "a").c_str()); });
    t.call("move a into its child", [&] { return ::rename((d / "a").c_str(), (d / "a" / "b" / "a").c_str()); });
    t.call("move a into its grandchild",
           [&] { return ::rename((d / "a").c_str(), (d / "a" / "b" / "c" / "a").c_str()); });
    t.call("move a onto its child", [&] { return ::rename((d / "a").c_str(), (d / "a" / "b").c_str()); });
    t.call("move a child onto its ancestor", [&] { return ::rename((d / "a" / "b").c_str(), (d / "a").c_str()); });
    t.call("move a dir onto a non-empty dir", [&] { return ::rename((d / "a").c_str(), (d / "x" / "full").c_str()); });
    t.call("move a dir onto a file", [&] { return ::rename((d / "a").c_str(), (d / "x" / "file").c_str()); });
    t.call("move a file onto a dir", [&] { return ::rename((d / "x" / "file").c_str(), (d / "x" / "empty").c_str()); });
    t.call("move a dir with a trailing slash onto a file",
           [&] { return ::rename((d.string() + "/a/").c_str(), (d / "x" / "file").c_str()); });
    t.call("move a dir with . as last component",
           [&] { return ::rename((d / "a" / ".").c_str(), (d / "y").c_str()); });
    t.note("a", listing(d / "a"));
    t.call("move a/b under x", [&] { return ::rename((d / "a" / "b").c_str(), (d / "x" / "b").c_str()); });
    t.note("x/b/c/file", show(file_text(d / "x" / "b" / "c" / "file")));
    t.note("x/b/.. is x", ino_of(d / "x" / "b" / "..") == ino_of(d / "x") ? "yes" : "no");
    t.note("a", listing(d / "a"));
    t.note("a nlink", nlink_of(d / "a"));
    t.note("x nlink", nlink_of(d / "x"));
    t.call("move x/b/c to the top, replacing the empty a",
           [&] { return ::rename((d / "x" / "b" / "c").c_str(), (d / "a").c_str()); });
    t.note("a", listing(d / "a"));
    t.note("a/.. is .", ino_of(d / "a" / "..") == ino_of(d) ? "yes" : "no");
    t.call("move x under a", [&] { return ::rename((d / "x").c_str(), (d / "a" / "x").c_str()); });
    t.call("now move a under a/x/b", [&] { return ::rename((d / "a").c_str(), (d / "a" / "x" / "b" / "a").c_str()); });
    t.call("cd into a/x/b and move a there via ../..", [&] {
      return ::rename((d / "a" / "x" / "b" / ".." / ".." / "x").c_str(), (d / "a" / "x" / "b" / "x").c_str());
    });
    t.note(".", listing(d));
    t.note("a/x", listing(d / "a" / "x"));
    // Many moves: the tree stays a tree.
    for (int i = 0; i < 20; ++i) {
      fs::path from = d / "a" / "x" / (i % 2 ? "b" : "full");
      fs::path to = d / (i % 2 ? "b" : "full");
      t.call("move out " + std::to_string(i), [&] { return ::rename(from.c_str(), to.c_str()); });
      t.call("move back " + std::to_string(i), [&] { return ::rename(to.c_str(), from.c_str()); });
    }
    t.note("a/x", listing(d / "a" / "x"));
    t.note("a/x nlink", nlink_of(d / "a" / "x"));
  });
}

TEST_F(PosixNames, SpecialFiles) {
  compare([](const fs::path& d, Transcript& t) {
    struct Node {
      const char* name;
      mode_t mode;
      dev_t rdev;
    };
    const Node nodes[] = {
        {"fifo", S_IFIFO | 0640, 0},
        {"sock", S_IFSOCK | 0755, 0},
        {"null", S_IFCHR | 0666, makedev(1, 3)},
        {"disk", S_IFBLK | 0660, makedev(8, 1)},
        {"bigdev", S_IFCHR | 0600, makedev(4000, 300000)},
    };
    for (const auto& n : nodes) {
      fs::path p = d / n.name;
      t.call(std::string("mknod ") + n.name, [&] { return ::mknod(p.c_str(), n.mode, n.rdev); });
      struct stat st {};
      ::lstat(p.c_str(), &st);
      t.note(n.name, stat_line(st) + " rdev=" + std::to_string(major(st.st_rdev)) + ":" +
                         std::to_string(minor(st.st_rdev)));
    }
    t.call("mkfifo", [&] { return ::mkfifo((d / "fifo2").c_str(), 0600); });
    t.note("fifo2", stat_line(d / "fifo2"));
    // They behave as metadata: chmod, chown, link, rename, unlink.
    t.call("chmod null", [&] { return ::chmod((d / "null").c_str(), 0600); });
    t.call("chown disk", [&] { return ::chown((d / "disk").c_str(), 65534, 65534); });
    t.call("link fifo", [&] { return ::link((d / "fifo").c_str(), (d / "fifo-link").c_str()); });
    t.call("rename sock", [&] { return ::rename((d / "sock").c_str(), (d / "sock2").c_str()); });
    for (const char* n : {"null", "disk", "fifo", "fifo-link", "sock2"}) t.note(n, stat_line(d / n));
    t.call("truncate a fifo", [&] { return ::truncate((d / "fifo").c_str(), 0); });
    t.call("mknod with an existing name", [&] { return ::mknod((d / "null").c_str(), S_IFCHR | 0600, makedev(1, 5)); });
    t.call("unlink fifo-link", [&] { return ::unlink((d / "fifo-link").c_str()); });
    t.call("unlink null", [&] { return ::unlink((d / "null").c_str()); });
    t.note("listing", listing(d));
    // A fifo carries data between two descriptors.
    int rd = static_cast<int>(t.call("open fifo for reading", [&] {
      return ::open((d / "fifo").c_str(), O_RDONLY | O_NONBLOCK);
    }));
    int wr = static_cast<int>(t.call("open fifo for writing", [&] { return ::open((d / "fifo").c_str(), O_WRONLY); }));
    t.call("write", [&] { return ::write(wr, "through the pipe", 16); });
    char buf[32] = {};
    long n = t.call("read", [&] { return ::read(rd, buf, sizeof buf); });
    t.note("data", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    ::close(wr);
    ::close(rd);
    // A unix socket bound on the filesystem: bind makes the node, connect finds it.
    int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::string chdir_back = fs::current_path().string();
    // sun_path is short: bind relative to the directory.
    ::chdir(d.c_str());
    std::strcpy(addr.sun_path, "s.sock");
    t.call("bind", [&] { return ::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr); });
    t.call("listen", [&] { return ::listen(server, 1); });
    t.note("s.sock", stat_line(d / "s.sock"));
    int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    t.call("connect", [&] { return ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr); });
    int conn = static_cast<int>(t.call("accept", [&] { return ::accept(server, nullptr, nullptr); }));
    t.call("send", [&] { return ::send(client, "ping", 4, 0); });
    char sbuf[8] = {};
    n = t.call("recv", [&] { return ::recv(conn, sbuf, sizeof sbuf, 0); });
    t.note("socket data", show(std::string(sbuf, static_cast<size_t>(std::max(0L, n)))));
    t.call("bind again on the same name", [&] {
      int again = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      long r = ::bind(again, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      int e = errno;
      ::close(again);
      errno = e;
      return r;
    });
    ::chdir(chdir_back.c_str());
    if (conn >= 0) ::close(conn);
    ::close(client);
    ::close(server);
    t.call("unlink the socket", [&] { return ::unlink((d / "s.sock").c_str()); });
  });
}

TEST_F(PosixNames, NameLengths) {
  compare([](const fs::path& d, Transcript& t) {
    std::string n255(255, 'n');
    std::string n256(256, 'n');
    // 255 bytes of UTF-8 ("é" is two bytes) plus one ASCII byte, and raw bytes.
    std::string utf8;
    while (utf8.size() < 254) utf8 += "\xc3\xa9";
    utf8 += "x";
    std::string raw = "\x01\x7f\xff\xfe bytes \t and \n newline";
    for (const std::string* name : {&n255, &utf8, &raw}) {
      std::string w = std::to_string(name->size()) + "-byte name";
      fs::path p = d / *name;
      t.call("create " + w, [&] { return put(p, "x"); });
      t.note("stat " + w, stat_line(p));
      t.call("unlink " + w, [&] { return ::unlink(p.c_str()); });
      t.call("mkdir " + w, [&] { return ::mkdir(p.c_str(), 0755); });
      t.call("rmdir " + w, [&] { return ::rmdir(p.c_str()); });
      t.call("symlink " + w, [&] { return ::symlink(name->c_str(), p.c_str()); });
      char buf[512];
      long n = t.call("readlink " + w, [&] { return ::readlink(p.c_str(), buf, sizeof buf); });
      t.note("target matches", n == static_cast<long>(name->size()) && std::memcmp(buf, name->data(), name->size()) == 0 ? "yes" : "no");
      t.call("rename to a short name", [&] { return ::rename(p.c_str(), (d / "short").c_str()); });
      t.call("rename back", [&] { return ::rename((d / "short").c_str(), p.c_str()); });
      t.call("mknod " + w + " (exists)", [&] { return ::mknod(p.c_str(), S_IFIFO | 0600, 0); });
    }
    auto names = list_dir(d);
    t.note("listed the 255-byte name", names.count(n255) ? "yes" : "no");
    t.note("listed the UTF-8 name", names.count(utf8) ? "yes" : "no");
    t.note("listed the raw name", names.count(raw) ? "yes" : "no");
    fs::path p = d / n256;
    t.call("create 256", [&] { return put(p, "x"); });
    t.call("mkdir 256", [&] { return ::mkdir(p.c_str(), 0755); });
    t.call("mknod 256", [&] { return ::mknod(p.c_str(), S_IFIFO | 0600, 0); });
    t.call("symlink 256", [&] { return ::symlink("x", p.c_str()); });
    t.call("link to 256", [&] { return ::link((d / n255).c_str(), p.c_str()); });
    t.call("rename to 256", [&] { return ::rename((d / n255).c_str(), p.c_str()); });
    t.call("stat 256", [&] {
      struct stat st {};
      return ::stat(p.c_str(), &st);
    });
    t.note("listing size", static_cast<long long>(list_dir(d).size()));
  });
}

// Nested directories of 250-byte names, walked with relative paths from a
// descriptor, so the prefix of the test directory does not count: a relative
// path of PATH_MAX - 1 bytes works, one of PATH_MAX bytes does not.
TEST_F(PosixNames, PathsNearPathMax) {
  compare([](const fs::path& d, Transcript& t) {
    int base = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string rel;
    const std::string part(250, 'p');
    int depth = 0;
    // 16 levels of "ppp…/" are 16 * 251 = 4016 bytes.
    for (; depth < 16; ++depth) {
      std::string next = rel + part;
      if (::mkdirat(base, next.c_str(), 0755) != 0) break;
      rel = next + "/";
    }
    t.note("depth", depth);
    t.note("prefix bytes", static_cast<long long>(rel.size()));
    // A file name that brings the relative path to exactly PATH_MAX - 1 bytes.
    std::string leaf(PATH_MAX - 1 - rel.size(), 'f');
    std::string full = rel + leaf;
    t.note("path bytes", static_cast<long long>(full.size()));
    t.call("create at PATH_MAX - 1", [&] {
      int fd = ::openat(base, full.c_str(), O_CREAT | O_WRONLY, 0644);
      if (fd < 0) return -1L;
      long n = ::write(fd, "deep", 4);
      ::close(fd);
      return n;
    });
    t.call("stat it", [&] {
      struct stat st {};
      return ::fstatat(base, full.c_str(), &st, 0) == 0 ? static_cast<long>(st.st_size) : -1;
    });
    std::string too_long = full + "g";
    t.call("create at PATH_MAX", [&] { return ::openat(base, too_long.c_str(), O_CREAT | O_WRONLY, 0644); });
    t.call("stat at PATH_MAX", [&] {
      struct stat st {};
      return ::fstatat(base, too_long.c_str(), &st, 0);
    });
    // From inside the deepest directory everything works with short names.
    int deep = static_cast<int>(t.call("open the deepest directory", [&] {
      return ::openat(base, rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }));
    t.call("mkdir below it", [&] { return ::mkdirat(deep, "further", 0755); });
    t.call("rename inside it", [&] { return ::renameat(deep, leaf.c_str(), deep, "short"); });
    char buf[8] = {};
    t.call("read back", [&] {
      int fd = ::openat(deep, "short", O_RDONLY);
      if (fd < 0) return -1L;
      long n = ::read(fd, buf, sizeof buf);
      ::close(fd);
      return n;
    });
    t.note("content", show(buf));
    ::close(deep);
    ::close(base);
  });
}

}  // namespace
}  // namespace zhsm::test
