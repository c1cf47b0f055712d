// The forked helper process of the integration tests (see child_process.h).
#include "test/integration/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>

#include "test/integration/cluster.h"

namespace zhsm::test {

namespace {

constexpr uint64_t kExit = UINT64_MAX;  // the command that ends the child

bool read_exact(int fd, void* out, size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_exact(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t r = ::write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

Child::Child(std::vector<Step> steps) {
  ::signal(SIGPIPE, SIG_IGN);  // a child that died must not take the test along
  int down[2];
  int up[2];
  if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::close(down[1]);
    ::close(up[0]);
    uint64_t i = 0;
    while (read_exact(down[0], &i, sizeof i) && i != kExit) {
      int32_t r = i < steps.size() ? steps[i]() : EINVAL;
      if (!write_exact(up[1], &r, sizeof r)) break;
    }
    ::_exit(0);
  }
  ::close(down[0]);
  ::close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
}

Child::~Child() {
  // An explicit command: another child forked later holds a copy of the pipe, so
  // closing it would not end this one.
  if (to_child_ >= 0) {
    uint64_t exit = kExit;
    write_exact(to_child_, &exit, sizeof exit);
    ::close(to_child_);
  }
  if (from_child_ >= 0) ::close(from_child_);
  if (pid_ <= 0) return;
  int status = 0;
  bool gone = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                         std::chrono::seconds(10), std::chrono::milliseconds(20));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

void Child::start(size_t i) {
  uint64_t n = i;
  write_exact(to_child_, &n, sizeof n);
}

int Child::result(std::chrono::milliseconds limit) {
  pollfd p{from_child_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(limit.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return -1;
  int32_t r = 0;
  if (!read_exact(from_child_, &r, sizeof r)) return -1;
  return r;
}

int Child::run(size_t i, std::chrono::milliseconds limit) {
  start(i);
  return result(limit);
}

}  // namespace zhsm::test
