// Running one syscall (or a short sequence) as another user, for the permission
// tests: a forked child drops to the identity (setgroups, setresgid, setresuid:
// real, effective and saved ids, so nothing of root is left) and runs the
// function; its return value and errno come back through a pipe. The test
// process needs root. Each call is one short-lived child, so a file descriptor
// opened inside does not survive: functions return 0 or -1, not descriptors.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "test/integration/cluster.h"

namespace zhsm::test {

struct Identity {
  std::string name;           // for transcripts: "nobody", "other", ...
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (the primary one is added)
};

// nobody:nogroup (65534:65534) without supplementary groups.
Identity nobody();
// 65534:65534 with the supplementary group kTestGroup.
Identity nobody_in_test_group();
// A second unprivileged user, 12345:12345.
Identity other_user();
// A group no test user has as primary group.
inline constexpr gid_t kTestGroup = 4242;

// Runs `fn` as `who` in a child process. Outcome{-1, errno} when fn fails; when the
// child cannot take the identity or dies, ret = -2 and err says why (the test
// then fails at the comparison, as it should).
Outcome as_user(const Identity& who, const std::function<long()>& fn);

// t.call("WHAT as NAME", fn run as `who`).
long call_as(Transcript& t, const Identity& who, const std::string& what,
             const std::function<long()>& fn);

}  // namespace zhsm::test
