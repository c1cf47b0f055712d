// Real programs on the mount: git (clone, checkouts at several revisions, fsck,
// gc, commit), tar (extract a real tree and compare it), SQLite (a database
// filled with many transactions, an index, deletes and VACUUM, in rollback and
// WAL mode), cp -a and rsync -a of a tree with symlinks, hard links, a fifo and
// odd modes, an editor-style save (temp file, fsync, rename over the original)
// repeated, and make of a small C project twice. Each program's result on the
// mount is compared with its source or with the same program's result on a
// native directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>

#include "test/integration/cluster.h"
#include "test/integration/programs_support.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

class Programs : public MountTest {
 protected:
  // The environment of every git call: no user or system configuration, a
  // fixed identity, and the C locale for parsable output.
  std::vector<std::string> git_env() const {
    return {"HOME=" + native_dir_.string(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=zhsm test",
            "GIT_AUTHOR_EMAIL=test@zhsm.invalid", "GIT_COMMITTER_NAME=zhsm test",
            "GIT_COMMITTER_EMAIL=test@zhsm.invalid", "LC_ALL=C"};
  }
};

// Asserts that a command worked, with its output in the message.
#define EXPECT_RAN(result, what) EXPECT_TRUE((result).ok()) << (what) << ": " << (result).describe()
#define ASSERT_RAN(result, what) ASSERT_TRUE((result).ok()) << (what) << ": " << (result).describe()

// A repository with history: 300 files in 12 directories, a 300 KB file and a
// binary one, an executable, a symlink; five commits on main, a tag, a branch
// `feature` with a directory rename and two commits, one more commit on main and
// a merge of feature.
const char kMakeRepo[] = R"SH(
git init -q -b main repo
cd repo
i=0
while [ $i -lt 300 ]; do
  d=dir$((i % 12)); mkdir -p $d
  printf 'file %d\nsecond line of file %d\n' $i $i > $d/f$i.txt
  i=$((i + 1))
done
seq 1 50000 > big.txt
head -c 200000 /dev/urandom > blob.bin
printf '#!/bin/sh\necho run\n' > run.sh; chmod 755 run.sh
ln -s dir0/f0.txt link0
git add -A; git commit -q -m 'c1: 300 files'
for c in 2 3 4 5; do
  i=$c
  while [ $i -lt 300 ]; do echo "change $c" >> dir$((i % 12))/f$i.txt; i=$((i + 7)); done
  git rm -q dir$((c + 4))/f$((c + 4)).txt
  mkdir -p new$c; seq 1 $((c * 1000)) > new$c/seq.txt
  seq $c 3 40000 >> big.txt
  git add -A; git commit -q -m "c$c"
done
git tag v1 HEAD~2
git checkout -q -b feature HEAD~1
git mv dir1 moved1
echo feature > feature.txt
git add -A; git commit -q -m 'feature: rename dir1'
head -c 100000 /dev/urandom > moved1/blob2.bin
git add -A; git commit -q -m 'feature: blob2'
git checkout -q main
echo 'main only' > main.txt
git add -A; git commit -q -m 'c6'
git merge -q --no-edit feature
)SH";

TEST_F(Programs, GitCloneCheckoutFsck) {
  auto env = git_env();
  ASSERT_RAN(shell(native_dir_, kMakeRepo, {}, env), "making the repository");
  fs::path src = native_dir_ / "repo";
  // A local clone onto the mount copies the object files themselves; a clone
  // of that over file:// goes through packs. The native clone is the reference.
  ASSERT_RAN(shell(mount_dir_, "git clone -q \"$1\" clone", {src.string()}, env), "git clone onto the mount");
  ASSERT_RAN(shell(native_dir_, "git clone -q \"$1\" ref", {src.string()}, env), "native git clone");
  fs::path clone = mount_dir_ / "clone";
  fs::path ref = native_dir_ / "ref";

  for (const char* rev : {"v1", "origin/main~3", "origin/feature", "origin/feature~1", "origin/main~1",
                          "origin/main"}) {
    SCOPED_TRACE(std::string("revision ") + rev);
    EXPECT_RAN(shell(clone, "git checkout -q --detach \"$1\"", {rev}, env), "checkout on the mount");
    EXPECT_RAN(shell(ref, "git checkout -q --detach \"$1\"", {rev}, env), "native checkout");
    auto diff = shell(native_dir_, "diff -r --no-dereference --exclude=.git \"$1\" \"$2\"",
                      {ref.string(), clone.string()});
    EXPECT_RAN(diff, "diff -r of the checked-out trees");
    // Modes and links too; times differ (checkout time), so they are left out.
    ListingOptions no_times{.mtime = false, .nonfile_mtime = false};
    auto want = tree_listing(ref, no_times);
    auto got = tree_listing(clone, no_times);
    std::erase_if(want, [](const std::string& l) { return l.starts_with(".git"); });
    std::erase_if(got, [](const std::string& l) { return l.starts_with(".git"); });
    expect_same_listing(got, want, std::string("checkout of ") + rev);
    auto status = shell(clone, "git status --porcelain", {}, env);
    EXPECT_RAN(status, "git status");
    EXPECT_EQ(status.out, "") << "git status on the mount shows changes after checking out " << rev;
  }

  auto fsck = shell(clone, "git fsck --full --strict", {}, env);
  EXPECT_RAN(fsck, "git fsck --full on the mount");
  EXPECT_EQ(fsck.err, "") << "git fsck reported problems";

  // A commit made on the mount, then gc (repacking on the mount), then fsck.
  ASSERT_RAN(shell(clone, "git checkout -q main && echo 'on the mount' >> main.txt && "
                          "git commit -q -am 'c7 on the mount' && git gc -q --prune=now",
                   {}, env), "commit and gc on the mount");
  fsck = shell(clone, "git fsck --full --strict", {}, env);
  EXPECT_RAN(fsck, "git fsck --full after gc");
  EXPECT_EQ(fsck.err, "") << "git fsck after gc reported problems";
  auto count = shell(clone, "git rev-list --count HEAD", {}, env);
  auto ref_count = shell(ref, "git rev-list --count main", {}, env);
  EXPECT_RAN(count, "rev-list");
  EXPECT_EQ(std::atoi(count.out.c_str()), std::atoi(ref_count.out.c_str()) + 1);

  // A clone of the mount's repository (packs written on the mount, read back).
  ASSERT_RAN(shell(native_dir_, "git clone -q \"file://$1\" back && git -C back fsck --full",
                   {clone.string()}, env), "cloning the mount's repository back");
  auto diff = shell(native_dir_, "diff -r --no-dereference --exclude=.git \"$1\" back",
                    {clone.string()});
  EXPECT_RAN(diff, "the clone of the clone differs");
}

// Two real header trees, more than a thousand files with symlinks among them.
const char kTarTrees[] = "linux x86_64-linux-gnu";

TEST_F(Programs, TarExtractAndCompare) {
  ASSERT_RAN(shell(native_dir_, std::string("tar -cf src.tar -C /usr/include ") + kTarTrees),
             "making the archive");
  fs::path archive = native_dir_ / "src.tar";
  auto files = shell(native_dir_, "tar -tf src.tar | wc -l");
  EXPECT_GT(std::atoi(files.out.c_str()), 1000) << "the archive is smaller than meant";
  std::error_code ec;
  fs::create_directory(native_dir_ / "x", ec);
  fs::create_directory(mount_dir_ / "x", ec);
  ASSERT_RAN(shell(mount_dir_ / "x", "tar -xpf \"$1\"", {archive.string()}), "tar -x onto the mount");
  ASSERT_RAN(shell(native_dir_ / "x", "tar -xpf \"$1\"", {archive.string()}), "native tar -x");

  for (std::string tree : {"linux", "x86_64-linux-gnu"}) {
    auto diff = shell(mount_dir_, "diff -r --no-dereference \"$1\" \"$2\"",
                      {"/usr/include/" + tree, (mount_dir_ / "x" / tree).string()});
    EXPECT_RAN(diff, "diff -r of /usr/include/" + tree + " and its extracted copy");
  }
  // tar's own check: contents, sizes, modes, owners, mtimes, link targets.
  auto compare = shell(mount_dir_ / "x", "tar --compare -f \"$1\"", {archive.string()});
  EXPECT_RAN(compare, "tar --compare on the mount");
  EXPECT_EQ(compare.out, "") << "tar --compare found differences";
  // And everything stat shows, against the native extraction (directory mtimes
  // included: tar sets them after filling each directory).
  expect_same_listing(tree_listing(mount_dir_ / "x"), tree_listing(native_dir_ / "x"),
                      "tar -x on the mount vs on a native directory");
}

// An SQL script: 200 transactions of 30 rows (blobs of 0.2 to 3 KB), an index,
// deletes and updates in more transactions, VACUUM, and the checks.
std::string sqlite_script(const std::string& journal_mode) {
  std::ostringstream s;
  s << "PRAGMA journal_mode=" << journal_mode << ";\n"
    << "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v BLOB);\n";
  for (int tx = 0; tx < 200; ++tx) {
    s << "BEGIN;\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30)\n"
      << "  INSERT INTO t(k, v) SELECT 'key-' || (" << tx << " * 30 + x), randomblob(200 + (x * "
      << (tx + 1) << ") % 2800) FROM c;\nCOMMIT;\n";
  }
  s << "CREATE INDEX t_k ON t(k);\n";
  for (int tx = 0; tx < 30; ++tx) {
    s << "BEGIN;\nDELETE FROM t WHERE id % 3 = 0 AND id % 30 = " << tx << ";\n"
      << "UPDATE t SET v = randomblob(700) WHERE id % 5 = 0 AND id % 30 = " << tx << ";\nCOMMIT;\n";
  }
  s << "VACUUM;\n";
  return s.str();
}

TEST_F(Programs, SqliteIntegrity) {
  for (std::string mode : {"DELETE", "WAL"}) {
    SCOPED_TRACE("journal_mode=" + mode);
    fs::path script = native_dir_ / ("fill-" + mode + ".sql");
    ASSERT_TRUE(write_file(script, sqlite_script(mode)));
    fs::path db = mount_dir_ / ("db-" + mode + ".sqlite");
    auto fill = shell(mount_dir_, "sqlite3 -bail \"$1\" < \"$2\"", {db.string(), script.string()});
    ASSERT_RAN(fill, "filling the database on the mount");
    // A new process opens the database again for the checks.
    auto check = shell(mount_dir_,
                       "sqlite3 \"$1\" 'PRAGMA integrity_check;' 'SELECT count(*) FROM t;' "
                       "'SELECT count(*) FROM t INDEXED BY t_k WHERE k >= \"\";' "
                       "'SELECT count(*) FROM t WHERE id % 3 = 0;'",
                       {db.string()});
    ASSERT_RAN(check, "PRAGMA integrity_check");
    // 6000 rows inserted, every third deleted.
    EXPECT_EQ(check.out, "ok\n4000\n4000\n0\n") << "integrity_check or the row counts are wrong";
  }
}

// A tree for cp -a and rsync -a: hard links (two extra names, one in another
// directory), relative, absolute and dangling symlinks, a fifo, setuid, setgid,
// sticky and mode-0000 entries, other owners, a setgid directory, odd names,
// files across the inline limit, and chosen mtimes (with nanoseconds).
const char kMakeOddTree[] = R"SH(
mkdir -p src/a/b/c src/sticky src/private src/sg
cd src
printf 'hello\n' > a/hello.txt
ln a/hello.txt a/hardlink.txt
ln a/hello.txt a/b/c/hardlink2.txt
head -c 200000 /dev/urandom > a/b/big.bin
head -c 65536 /dev/urandom > a/b/exactly-64k.bin
: > empty
ln -s hello.txt a/rel-link
ln -s /etc/hostname abs-link
ln -s does-not-exist dangling
mkfifo a/fifo
printf 'x\n' > setuid; chmod 4755 setuid
printf 'x\n' > setgid; chmod 2755 setgid
printf 'x\n' > none; chmod 0000 none
printf 'x\n' > ro; chmod 0444 ro
printf 'secret\n' > private/secret; chmod 0600 private/secret
printf 'owned\n' > a/owned; chown 1234:5678 a/owned
chown -h 4321:8765 a/rel-link
printf 'in sg\n' > sg/file
printf 'spaces\n' > 'name with spaces'
printf 'utf8\n' > 'ünïcødé'
printf 'long\n' > "$(printf 'n%.0s' $(seq 1 200))"
touch -d '1999-12-31 23:59:59.123456789' a/hello.txt
touch -h -d '2001-02-03 04:05:06.987654321' a/rel-link
touch -d '2010-01-01 00:00:00' empty
chgrp 100 sg; chmod 2775 sg
chmod 1777 sticky
chmod 0700 private
chmod 0711 a/b
touch -d '2020-05-05 05:05:05.5' a/b/c
)SH";

TEST_F(Programs, CpAndRsyncPreserveEverything) {
  ASSERT_RAN(shell(native_dir_, kMakeOddTree), "making the tree");
  fs::path src = native_dir_ / "src";
  auto want = tree_listing(src);
  ASSERT_GT(want.size(), 20u);
  ListingOptions rsync_shown{.nonfile_mtime = false};
  auto want_rsync = tree_listing(src, rsync_shown);

  for (fs::path base : {native_dir_, mount_dir_}) {
    bool native = base == native_dir_;
    std::string where = native ? " (native)" : " (mount)";
    auto cp = shell(base, "cp -a \"$1\" cp", {src.string()});
    EXPECT_RAN(cp, "cp -a" + where);
    expect_same_listing(tree_listing(base / "cp"), want, "cp -a" + where);
    // rsync -aH (3.5.0 in Debian 12) does not always set the times of directories,
    // symlinks and fifos, natively either: those are left out for rsync.
    auto rs = shell(base, "rsync -aH \"$1/\" rsync/", {src.string()});
    EXPECT_RAN(rs, "rsync -aH" + where);
    expect_same_listing(tree_listing(base / "rsync", rsync_shown), want_rsync, "rsync -aH" + where);
    // A second rsync finds nothing to do: sizes and times are as it left them.
    auto again = shell(base, "rsync -aHi \"$1/\" rsync/", {src.string()});
    EXPECT_RAN(again, "second rsync" + where);
    EXPECT_EQ(again.out, "") << "the second rsync -aHi" << where << " itemized changes";
    // And back: rsync from the copy to a native directory reproduces the source.
    auto back = shell(native_dir_, "rsync -aH \"$1/\" \"$2\"",
                      {(base / "rsync").string(), (native_dir_ / ("back" + std::string(native ? "-n" : "-m"))).string()});
    EXPECT_RAN(back, "rsync back" + where);
    expect_same_listing(tree_listing(native_dir_ / ("back" + std::string(native ? "-n" : "-m")), rsync_shown),
                        want_rsync, "rsync back from the copy" + where);
  }
}

TEST_F(Programs, EditorSaveByRename) {
  // The pattern of vim's and most editors' safe save: write a temporary file,
  // fsync it, rename it over the original, fsync the directory. A reader that
  // had the old file open keeps reading the old content.
  for (fs::path dir : {native_dir_, mount_dir_}) {
    SCOPED_TRACE(dir == native_dir_ ? "native" : "mount");
    fs::path doc = dir / "doc.txt";
    fs::path tmp = dir / ".doc.txt.swp";
    std::string first = "the first version\n";
    ASSERT_TRUE(write_file(doc, first));
    int reader = ::open(doc.c_str(), O_RDONLY);
    ASSERT_GE(reader, 0) << ::strerror(errno);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(dfd, 0) << ::strerror(errno);
    ino_t last_ino = 0;
    for (int i = 0; i < 40; ++i) {
      // Sizes across the inline limit (64 KiB) and back.
      size_t size = (i % 4 == 3) ? 100000 + i : 50 + i * 13;
      std::string content = "version " + std::to_string(i) + "\n" + pattern_bytes(i, size);
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0) << "open temp: " << ::strerror(errno);
      EXPECT_EQ(write_all(fd, content), static_cast<long>(content.size()));
      EXPECT_EQ(::fsync(fd), 0) << "fsync: " << ::strerror(errno);
      EXPECT_EQ(::close(fd), 0) << "close: " << ::strerror(errno);
      ASSERT_EQ(::rename(tmp.c_str(), doc.c_str()), 0) << "rename: " << ::strerror(errno);
      EXPECT_EQ(::fsync(dfd), 0) << "fsync of the directory: " << ::strerror(errno);
      EXPECT_EQ(file_text(doc), content) << "after save " << i;
      struct stat st {};
      ASSERT_EQ(::stat(doc.c_str(), &st), 0);
      EXPECT_EQ(st.st_size, static_cast<off_t>(content.size()));
      EXPECT_EQ(st.st_nlink, 1u);
      EXPECT_NE(st.st_ino, last_ino) << "each save is a new inode";
      last_ino = st.st_ino;
    }
    EXPECT_EQ(pread_text(reader, 4096, 0), first) << "the reader of the replaced file";
    ::close(reader);
    ::close(dfd);
    EXPECT_EQ(list_dir(dir), (std::map<std::string, int>{{"doc.txt", 1}}))
        << "the temporary file is gone, nothing else appeared";
  }
}

const char kMakeProject[] = R"SH(
mkdir proj && cd proj
cat > util.h <<'EOF'
int twice(int x);
EOF
cat > util.c <<'EOF'
#include "util.h"
int twice(int x) { return 2 * x; }
EOF
cat > main.c <<'EOF'
#include <stdio.h>
#include "util.h"
int main(void) { printf("%d\n", twice(21)); return 0; }
EOF
cat > Makefile <<'EOF'
CFLAGS = -O0
prog: main.o util.o
	$(CC) -o $@ main.o util.o
main.o: main.c util.h
util.o: util.c util.h
EOF
)SH";

TEST_F(Programs, MakeTwice) {
  ASSERT_RAN(shell(mount_dir_, kMakeProject), "writing the project");
  fs::path proj = mount_dir_ / "proj";
  auto first = shell(proj, "make");
  ASSERT_RAN(first, "first make");
  auto run = shell(proj, "./prog");
  EXPECT_RAN(run, "running the program");
  EXPECT_EQ(run.out, "42\n");
  auto second = shell(proj, "make");
  EXPECT_RAN(second, "second make");
  EXPECT_NE(second.out.find("is up to date"), std::string::npos)
      << "the second make did something:\n" << second.out;
  EXPECT_RAN(shell(proj, "make -q"), "make -q says the target is not up to date");
  // One changed source: only its object and the program are rebuilt.
  ASSERT_RAN(shell(proj, "echo '/* changed */' >> util.c"), "changing util.c");
  auto third = shell(proj, "make");
  EXPECT_RAN(third, "make after a change");
  EXPECT_NE(third.out.find("util.o util.c"), std::string::npos) << third.out;
  EXPECT_EQ(third.out.find("main.c"), std::string::npos) << "main.o was rebuilt:\n" << third.out;
  EXPECT_RAN(shell(proj, "make -q"), "make -q after the rebuild");
}

}  // namespace
}  // namespace zhsm::test
