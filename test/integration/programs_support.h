// Helpers of the real-program tests (programs_test.cc): run a shell script in a
// directory, and describe a whole tree in comparable lines (type, mode, owner,
// size, content hash, mtime, link target, hard-link group), so a tree made by a
// program on the mount can be checked against the same program's result on a
// native directory, or against its source.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "test/integration/cluster.h"

namespace zhsm::test {

// Runs `script` with /bin/sh in `cwd` (the script's $1... are `args`), with
// this process's environment plus `env`, at most `timeout`. `set -e` is on.
CommandResult shell(const fs::path& cwd, const std::string& script,
                    const std::vector<std::string>& args = {},
                    const std::vector<std::string>& env = {},
                    std::chrono::seconds timeout = 600s);

// What a tree listing shows of each entry.
struct ListingOptions {
  bool mtime = true;          // modification times (ns) of regular files
  bool nonfile_mtime = true;  // ... and of directories, symlinks, fifos, devices
  bool owner = true;      // uid and gid
};

// One line per entry below `root` (not root itself), sorted by path:
//   "PATH type=reg mode=0644 uid=0 gid=0 size=12 nlink=1 sha256=... mtime=S.NS link=FIRST"
// `link=` names the first path (in sorted order) of the same inode, for hard links;
// symlinks show `target=`, directories neither size nor nlink (they differ
// between file systems by design). Errors appear as lines of their own.
std::vector<std::string> tree_listing(const fs::path& root, const ListingOptions& options = {});

// Fails the current test (non-fatally) when the listings differ, naming up to
// `max_shown` lines only in one of them. `what` says which trees they are.
void expect_same_listing(const std::vector<std::string>& got, const std::vector<std::string>& want,
                         const std::string& what, size_t max_shown = 20);

}  // namespace zhsm::test
