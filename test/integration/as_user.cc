// Runs a function as another user in a forked child (see as_user.h).
#include "test/integration/as_user.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace zhsm::test {
namespace {

struct ChildResult {
  long ret = 0;
  int err = 0;
  int stage = 0;  // 0: fn ran; 1: setgroups, 2: setresgid, 3: setresuid failed
};

}  // namespace

Identity nobody() { return {"nobody", 65534, 65534, {}}; }

Identity nobody_in_test_group() { return {"nobody+4242", 65534, 65534, {kTestGroup}}; }

Identity other_user() { return {"other", 12345, 12345, {}}; }

Outcome as_user(const Identity& who, const std::function<long()>& fn) {
  // Built before fork: the child only makes syscalls.
  std::vector<gid_t> groups = who.groups;
  if (std::find(groups.begin(), groups.end(), who.gid) == groups.end()) groups.push_back(who.gid);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Outcome{-2, errno};
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Outcome{-2, e};
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildResult r;
    if (::setgroups(groups.size(), groups.data()) != 0) {
      r.stage = 1;
    } else if (::setresgid(who.gid, who.gid, who.gid) != 0) {
      r.stage = 2;
    } else if (::setresuid(who.uid, who.uid, who.uid) != 0) {
      r.stage = 3;
    }
    if (r.stage != 0) {
      r.ret = -2;
      r.err = errno;
    } else {
      errno = 0;
      r.ret = fn();
      r.err = r.ret < 0 ? errno : 0;
    }
    ssize_t ignored = ::write(fds[1], &r, sizeof r);
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  ssize_t n;
  do {
    n = ::read(fds[0], &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof r)) return Outcome{-2, ECHILD};
  if (r.stage != 0) return Outcome{-2, r.err};
  Outcome o;
  o.ret = r.ret < 0 ? -1 : r.ret;
  o.err = r.ret < 0 ? r.err : 0;
  return o;
}

long call_as(Transcript& t, const Identity& who, const std::string& what,
             const std::function<long()>& fn) {
  return t.call(what + " as " + who.name, [&] {
    Outcome o = as_user(who, fn);
    errno = o.err;
    return o.ret;
  });
}

}  // namespace zhsm::test
