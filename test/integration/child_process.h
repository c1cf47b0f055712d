// A forked helper process for tests that need more than one process: lock owners are
// per process, and concurrent appenders should be real processes. The child runs the
// steps it was built with, one at a time when the test asks, and reports each step's
// result; steps run in the child's copy of the test's memory, so they may keep state
// (a descriptor) in variables they capture by reference.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <vector>

namespace zhsm::test {

class Child {
 public:
  // Runs in the child; returns 0 or an errno. Use only plain syscalls in a step (the
  // child is a fork of a process that may have other threads).
  using Step = std::function<int()>;

  // Forks; the child waits for start().
  explicit Child(std::vector<Step> steps);
  // Closes the command pipe (the child exits), waits a little, then kills it.
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Asks the child to run step `i`.
  void start(size_t i);
  // The result of the step started last: its return value, or -1 when the child did
  // not answer within `limit` or is gone.
  int result(std::chrono::milliseconds limit = std::chrono::seconds(120));
  // start(i), then result(limit).
  int run(size_t i, std::chrono::milliseconds limit = std::chrono::seconds(120));

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

}  // namespace zhsm::test
