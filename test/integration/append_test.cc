// O_APPEND from several writers: four processes on one mount and two processes on two
// mounts append lines to one log at the same time; every line must be in the file
// exactly once and whole (no line torn, overwritten or interleaved with another). And a
// reader on one mount that keeps the log open sees what the other mount appends
// (tail -f, as its loop does and with the program itself), polled with a bound.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "test/integration/child_process.h"
#include "test/integration/cluster.h"
#include "test/integration/two_mount_test.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr auto kWriters = std::chrono::seconds(900);  // a bound for all writers together

// Line `i` of writer `w`: fixed width, with a filler that depends on both, so a torn or
// interleaved line cannot pass for a good one.
// Into `buf` (at least 96 bytes) without allocating, so a forked child may call it;
// returns the length.
size_t format_line(char* buf, size_t size, int w, int i) {
  int n = std::snprintf(buf, size, "w%02d %05d %.*s\n", w, i, 20 + (w * 7 + i) % 40,
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  return n < 0 ? 0 : static_cast<size_t>(n);
}

std::string line_of(int w, int i) {
  char buf[96];
  return std::string(buf, format_line(buf, sizeof buf, w, i));
}

// A writer: opens `path` with O_APPEND and writes `lines` lines, each with one write().
Child::Step appender(const char* path, int writer, int lines) {
  return [path, writer, lines] {
    int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return errno;
    char line[96];
    for (int i = 0; i < lines; ++i) {
      size_t size = format_line(line, sizeof line, writer, i);
      ssize_t n = ::write(fd, line, size);
      if (n != static_cast<ssize_t>(size)) {
        int err = n < 0 ? errno : EIO;
        ::close(fd);
        return err;
      }
    }
    return ::close(fd) == 0 ? 0 : errno;
  };
}

// Checks that `content` holds exactly the lines of writers [0, writers) x [0, lines),
// each once and whole, in any order; and that each writer's lines are in its order.
void expect_all_lines(const std::string& content, int writers, int lines) {
  std::map<std::string, int> seen;
  std::map<int, int> last;  // writer -> last index seen
  size_t bad = 0;
  size_t out_of_order = 0;
  std::string first_bad;
  std::istringstream in(content);
  std::string line;
  while (std::getline(in, line)) {
    ++seen[line + "\n"];
    int w = -1;
    int i = -1;
    if (std::sscanf(line.c_str(), "w%d %d", &w, &i) != 2 || w < 0 || w >= writers || i < 0 ||
        i >= lines || line + "\n" != line_of(w, i)) {
      if (bad++ == 0) first_bad = line;
      continue;
    }
    auto it = last.find(w);
    if (it != last.end() && i <= it->second) ++out_of_order;
    last[w] = i;
  }
  EXPECT_EQ(bad, 0u) << "torn or foreign lines, the first: '" << first_bad << "'";
  EXPECT_EQ(out_of_order, 0u) << "lines of one writer out of its order";
  size_t missing = 0;
  size_t doubled = 0;
  size_t expected_bytes = 0;
  for (int w = 0; w < writers; ++w) {
    for (int i = 0; i < lines; ++i) {
      std::string l = line_of(w, i);
      expected_bytes += l.size();
      auto it = seen.find(l);
      if (it == seen.end()) ++missing;
      else if (it->second > 1) ++doubled;
    }
  }
  EXPECT_EQ(missing, 0u) << "lines lost";
  EXPECT_EQ(doubled, 0u) << "lines written twice";
  EXPECT_EQ(content.size(), expected_bytes);
}

// Starts every writer, then waits for all; each must report success.
void run_writers(std::vector<std::unique_ptr<Child>>& writers) {
  for (auto& w : writers) w->start(0);
  auto deadline = std::chrono::steady_clock::now() + kWriters;
  for (size_t k = 0; k < writers.size(); ++k) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int r = writers[k]->result(std::max(left, std::chrono::milliseconds(1)));
    EXPECT_EQ(r, 0) << "writer " << k << ": " << (r < 0 ? "no answer" : errno_text(r));
  }
}

using Appends = TwoMountTest;

TEST_F(Appends, FourProcessesOnOneMount) {
  constexpr int kProcs = 4;
  constexpr int kLines = 500;
  const std::string path = (a_ / "log").string();
  std::vector<std::unique_ptr<Child>> writers;
  for (int w = 0; w < kProcs; ++w)
    writers.push_back(std::make_unique<Child>(std::vector<Child::Step>{
        appender(path.c_str(), w, kLines)}));
  run_writers(writers);
  expect_all_lines(file_text(a_ / "log"), kProcs, kLines);
  // The other mount reads the same file.
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "log") == file_text(a_ / "log"); },
                         kVisible));
}

TEST_F(Appends, TwoMountsAtOnce) {
  constexpr int kLines = 1000;
  const std::string on_a = (a_ / "log").string();
  const std::string on_b = (b_ / "log").string();
  ASSERT_TRUE(write_file(a_ / "log", ""));
  ASSERT_TRUE(eventually([&] { return present(b_ / "log"); }, kVisible));
  std::vector<std::unique_ptr<Child>> writers;
  writers.push_back(std::make_unique<Child>(std::vector<Child::Step>{
      appender(on_a.c_str(), 0, kLines)}));
  writers.push_back(std::make_unique<Child>(std::vector<Child::Step>{
      appender(on_b.c_str(), 1, kLines)}));
  run_writers(writers);
  std::string content = file_text(a_ / "log");
  expect_all_lines(content, 2, kLines);
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "log") == content; }, kVisible))
      << "the second mount reads " << show(file_text(b_ / "log"));
}

TEST_F(Appends, AnOpenReaderOnTheOtherMountSeesAppends) {
  ASSERT_TRUE(write_file(a_ / "log", line_of(0, 0)));
  ASSERT_TRUE(eventually([&] { return present(b_ / "log"); }, kVisible));
  int reader = ::open((b_ / "log").c_str(), O_RDONLY);
  ASSERT_GE(reader, 0) << errno_text(errno);
  std::string seen;
  // Reads what is new at the end, as tail -f does: fstat, then read from where it was.
  auto read_new = [&] {
    struct stat st {};
    if (::fstat(reader, &st) != 0) return;
    if (st.st_size <= static_cast<off_t>(seen.size())) return;
    std::string more = pread_text(reader, static_cast<size_t>(st.st_size) - seen.size(),
                                  static_cast<off_t>(seen.size()));
    if (more.rfind("<errno", 0) != 0) seen += more;
  };
  std::string expected = line_of(0, 0);
  EXPECT_TRUE(eventually([&] { read_new(); return seen == expected; }, kVisible))
      << "the reader saw " << show(seen);

  int writer = ::open((a_ / "log").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(writer, 0) << errno_text(errno);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 5; ++i) {
      std::string line = line_of(round, i);
      ASSERT_EQ(write_all(writer, line), static_cast<long>(line.size())) << errno_text(errno);
      expected += line;
    }
    if (round == 2) {
      ASSERT_EQ(::fsync(writer), 0) << errno_text(errno);
    }
    EXPECT_TRUE(eventually([&] { read_new(); return seen == expected; }, kVisible))
        << "round " << round << ": the reader on the other mount saw " << show(seen)
        << ", expected " << show(expected);
  }
  ::close(writer);
  ::close(reader);
}

// The program itself: GNU tail -f on the second mount (polling, as it does on a FUSE
// filesystem) prints what the first mount appends, line by line, as it comes.
TEST_F(Appends, TailFollowsTheOtherMount) {
  ASSERT_TRUE(write_file(a_ / "log", line_of(0, 0)));
  ASSERT_TRUE(eventually([&] { return present(b_ / "log"); }, kVisible));
  char out_template[] = "/tmp/zhsm-tail-XXXXXX";
  int out = ::mkstemp(out_template);
  ASSERT_GE(out, 0) << errno_text(errno);
  const std::filesystem::path out_path(out_template);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  const std::string log = (b_ / "log").string();
  std::vector<std::string> args = {"tail", "-s", "0.2", "-n", "+1", "-f", log};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t tail = -1;
  const int spawned = ::posix_spawnp(&tail, "tail", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out);
  ASSERT_EQ(spawned, 0) << std::strerror(spawned);
  struct Stop {
    pid_t pid;
    std::filesystem::path path;
    ~Stop() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } stop{tail, out_path};

  std::string expected = line_of(0, 0);
  EXPECT_TRUE(eventually([&] { return file_text(out_path) == expected; }, kVisible))
      << "tail printed " << show(file_text(out_path));
  int writer = ::open((a_ / "log").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(writer, 0) << errno_text(errno);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 3; ++i) {
      std::string line = line_of(round, i);
      ASSERT_EQ(write_all(writer, line), static_cast<long>(line.size())) << errno_text(errno);
      expected += line;
    }
    EXPECT_TRUE(eventually([&] { return file_text(out_path) == expected; }, kVisible))
        << "round " << round << ": tail on the other mount printed " << show(file_text(out_path))
        << ", expected " << show(expected);
  }
  ::close(writer);
}

}  // namespace
}  // namespace zhsm::test
