// The cluster every integration test runs against: tools/zhsm-cluster started
// once per test binary in a fresh temporary directory (private PostgreSQL, a
// controller, two file servers, a FUSE mount), and the helpers tests share to
// reach it: run zhsm-cluster and zhsm-admin, parse their JSON, wait for a
// condition with bounded polling, make scratch directories on the mount and on
// a native filesystem to compare against. The cluster is always stopped again:
// at the end of the binary, on SIGINT/SIGTERM and when the binary crashes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace zhsm::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What a finished command left behind.
struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal, or -1 when it could not start
  bool timed_out = false;
  std::string out;     // standard output
  std::string err;     // standard error

  bool ok() const { return exit_code == 0 && !timed_out; }
  // One line for assertion messages: exit code and the tails of both streams.
  std::string describe() const;
};

// Runs argv[0] (a path) with `argv`, the environment of this process plus `env`
// entries ("NAME=value"). Waits at most `timeout`, then kills the command's
// process group. Output goes through unlinked temporary files, so daemons the
// command leaves running cannot keep the call waiting.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {},
                          std::chrono::seconds timeout = 120s);

// Polls `condition` every `interval` until it returns true or `limit` has passed.
// Returns whether it became true. For effects that are allowed to take a while
// (attribute caches, heartbeats), never as a replacement for an assertion.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds limit = 10s,
                std::chrono::milliseconds interval = 50ms);

// How a test binary wants its cluster started.
struct ClusterOptions {
  int fileservers = 2;
  int token_lifetime_s = 0;  // the controller's --token-lifetime; 0: its default
  std::string tiers;         // zhsm-cluster --tiers (fsK's backend tier); empty: ssd
  int repair_grace_s = 0;    // the controller's --repair-grace; 0: its default
  // > 0: fs1's backend directory is a tmpfs of this many MiB, mounted before the cluster
  // starts and unmounted after it stopped (tests of a full disk).
  int small_backend_mib = 0;
};

// One zhsm cluster in a private directory. Not thread-safe: tests drive it from
// the main thread.
class Cluster {
 public:
  // The cluster of this test binary (set up by ClusterEnvironment).
  static Cluster& get();

  // `dir` must exist; nothing starts until up().
  explicit Cluster(fs::path dir);

  // zhsm-cluster up --dir DIR --fileservers N [--token-lifetime SEC]; asserts
  // (non-fatally) and returns false if it fails.
  bool up(const ClusterOptions& options);
  bool up(int fileservers = 2) { return up(ClusterOptions{fileservers, 0, {}, 0}); }
  // Unmounts extra mounts, then zhsm-cluster down. Safe to call when nothing runs.
  bool down();
  bool running() const { return running_; }

  // zhsm-cluster mount --dir DIR DIR/NAME: a second client mount. Returns its path.
  // Mounting a NAME again after its client died starts a new client there.
  fs::path add_mount(const std::string& name);
  // The pid of the zhsm-fuse serving the cluster mount at `mount_point`
  // (DIR/run/fuse-KEY.pid), or 0 when there is none.
  pid_t client_pid(const fs::path& mount_point) const;

  // zhsm-cluster ARGS... with --dir inserted after the subcommand.
  CommandResult cluster_command(const std::string& subcommand,
                                const std::vector<std::string>& args = {},
                                std::chrono::seconds timeout = 120s) const;
  // zhsm-cluster admin --dir DIR ARGS... (the caller adds --json where wanted).
  CommandResult admin(const std::vector<std::string>& args) const;
  // admin(args + --json), parsed. Fails the calling test (fatally, throws) when the
  // command fails or its output is not JSON.
  nlohmann::json admin_json(std::vector<std::string> args) const;

  const fs::path& dir() const { return dir_; }
  fs::path mount() const { return dir_ / "mnt"; }
  fs::path key_file() const { return dir_ / "cluster.key"; }
  // DIR/backends/fsK: the backend directory of file server K (backend fsK-b1).
  fs::path backend_dir(int k) const;
  int fileservers() const { return fileservers_; }

  // `listen=` of DIR/run/controller.ports and DIR/run/fsK.ports.
  std::string controller_address() const;
  std::string fileserver_address(int k) const;
  // All key=value lines of a ports file (DIR/run/NAME.ports).
  std::vector<std::pair<std::string, std::string>> ports(const std::string& name) const;
  // The value of `series` (a metric name with its labels, as the daemon writes it:
  // zhsm_controller_requests_total{op="lookup"}) in the metrics of daemon `name`
  // (controller, fsK, fuse-KEY: the `metrics=` of its ports file); -1 when the daemon
  // does not answer or has no such series.
  double metric(const std::string& name, const std::string& series) const;
  double controller_metric(const std::string& series) const { return metric("controller", series); }

  // Kills PostgreSQL as a power loss would (pg_ctl stop -m immediate: no checkpoint;
  // what its log had not flushed is gone) and starts it again on its data. The daemons
  // reconnect on their own. Returns the first command that failed, else the start's.
  CommandResult crash_postgres() const;

  // A fresh, empty directory on the main mount for one test, named after it.
  fs::path scratch(const std::string& name) const;

  // Daemon logs below DIR (for failure reports): the last `lines` lines of each.
  std::string log_tails(size_t lines = 40) const;

  // Paths and argv prepared for the signal handler (which may not allocate).
  void prepare_emergency_down();

 private:
  fs::path dir_;
  int fileservers_ = 0;
  bool running_ = false;
  std::vector<fs::path> extra_mounts_;
};

// The gtest environment that starts the cluster before the first test of the
// binary and always stops it after the last one; cluster_main.cc installs it
// with the default options, a test binary with a main() of its own with others.
::testing::Environment* make_cluster_environment(ClusterOptions options = {});

// Whether `path` is a mount point right now (/proc/self/mountinfo).
bool is_mounted(const fs::path& path);

// A fresh directory on the local (native) filesystem, removed by the destructor.
// Mode 0755 so that other users can reach it like the mount.
class NativeDir {
 public:
  NativeDir();
  ~NativeDir();
  NativeDir(const NativeDir&) = delete;
  NativeDir& operator=(const NativeDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The result of one syscall: its return value and errno (0 on success). Tests run
// the same call on the mount and on a native directory and compare these.
struct Outcome {
  long ret = 0;
  int err = 0;
  bool operator==(const Outcome&) const = default;
};
// Runs `fn` with errno cleared and captures (return value, errno if it failed).
Outcome outcome(const std::function<long()>& fn);
std::ostream& operator<<(std::ostream& os, const Outcome& o);

// What a sequence of syscalls returned, line by line. A scenario is run once on
// the mount and once on a native directory, each with its own Transcript, and
// the two are compared: so every difference from a local filesystem shows up
// with the step where it happened.
class Transcript {
 public:
  // Runs `fn`, records "what -> outcome" and returns fn's return value.
  long call(const std::string& what, const std::function<long()>& fn);
  // Records a value observed along the way (file content, a stat field).
  void note(const std::string& what, const std::string& value);
  void note(const std::string& what, long long value) { note(what, std::to_string(value)); }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

// Fails the current test for every line where the mount's transcript differs
// from the native one.
void expect_same_transcripts(const Transcript& mount, const Transcript& native);

// A test with a fresh directory of its own on the mount and one on a native
// filesystem, both mode 0755.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Runs `scenario` in the mount directory and in the native one, and expects
  // both transcripts to be equal. Returns the mount's transcript.
  Transcript compare(const std::function<void(const fs::path& dir, Transcript& t)>& scenario);

  Cluster& cluster() { return Cluster::get(); }

  fs::path mount_dir_;
  std::unique_ptr<NativeDir> native_;
  fs::path native_dir_;
};

// Deterministic pseudo-random bytes: block `index` of `seed` filled into `out`
// (the same arguments always give the same bytes).
void fill_pattern(uint64_t seed, uint64_t index, uint8_t* out, size_t size);

// Whole-file helpers on plain paths; they assert (non-fatally) and return
// empty / false on failure.
std::string read_file(const fs::path& path);
bool write_file(const fs::path& path, const std::string& data, mode_t mode = 0644);

// JSON fields whose spelling may be snake_case or camelCase: the first key of
// `names` present in `j`, or nullptr when none is.
const nlohmann::json* json_field(const nlohmann::json& j, std::initializer_list<const char*> names);

}  // namespace zhsm::test
