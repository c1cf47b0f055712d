// The integration-test cluster: runs tools/zhsm-cluster in a temporary
// directory, keeps it up for the whole test binary, and always takes it down
// again (gtest environment teardown, SIGINT/SIGTERM, crashes). Also the small
// process, polling and file helpers every integration test uses.
#include "test/integration/cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/sha256.h"

extern char** environ;

namespace zhsm::test {
namespace {

Cluster* g_cluster = nullptr;  // the cluster of this binary, owned by ClusterEnvironment

// Prepared for the signal handler, which may only call async-signal-safe functions.
std::vector<std::string> g_down_strings;
std::vector<char*> g_down_argv;
pid_t g_main_pid = 0;
volatile sig_atomic_t g_cluster_running = 0;

// What a signal-ended run removes: the cluster directory and the live NativeDirs,
// as the argv of one rm command. Rebuilt on the main thread whenever the set
// changes and published through an atomic pointer; old argvs are leaked on
// purpose, so a handler never reads one that is being freed.
std::mutex g_removals_mu;  // guards g_removal_paths and g_removal_strings
std::set<std::string> g_removal_paths;
std::deque<std::string> g_removal_strings;  // only grows: published pointers stay valid
std::atomic<char* const*> g_removal_argv{nullptr};
// A tmpfs below the cluster directory (ClusterOptions::small_backend_mib), detached by the
// signal handler after the cluster is down; empty when there is none.
std::string g_tmpfs_path;

void publish_removals() {
  auto* argv = new std::vector<char*>;
  for (const char* fixed : {"/bin/rm", "-rf", "--one-file-system", "--"}) {
    g_removal_strings.emplace_back(fixed);
    argv->push_back(g_removal_strings.back().data());
  }
  for (const auto& p : g_removal_paths) {
    g_removal_strings.push_back(p);
    argv->push_back(g_removal_strings.back().data());
  }
  argv->push_back(nullptr);
  g_removal_argv.store(g_removal_paths.empty() ? nullptr : argv->data());
}

void remove_on_signal(const fs::path& p, bool add) {
  std::lock_guard lock(g_removals_mu);
  if (add) g_removal_paths.insert(p.string());
  else g_removal_paths.erase(p.string());
  publish_removals();
}

// The socket directory tools/zhsm-pg makes for the cluster in `dir`:
// /tmp/zhsm-pg-<first 16 hex digits of sha256(DIR/pg)>. It outlives `down`.
fs::path pg_socket_dir(const fs::path& dir) {
  std::string pg = (dir / "pg").string();
  return "/tmp/zhsm-pg-" + to_hex(sha256(pg.data(), pg.size())).substr(0, 16);
}

// fork + execve + wait, as a signal handler may.
void run_from_handler(char* const* argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execve(argv[0], argv, environ);
    ::_exit(127);
  }
  if (pid > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = ::getenv(name);
  return (v && *v) ? std::string(v) : std::string(fallback);
}

fs::path source_root() { return env_or("ZHSM_SOURCE_ROOT", ZHSM_DEFAULT_SOURCE_ROOT); }

fs::path cluster_script() { return source_root() / "tools" / "zhsm-cluster"; }

fs::path temp_base() { return env_or("TMPDIR", "/tmp"); }

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (temp_base() / (prefix + "XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp " + pattern + ": " + ::strerror(errno));
  return fs::weakly_canonical(fs::path(buf.data()));
}

int anonymous_file() {
  int fd = ::open(temp_base().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string pattern = (temp_base() / "zhsm-out-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(buf.data());
  return fd;
}

std::string slurp_fd(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string tail_lines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  size_t seen = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (nl + 1 < text.size() && ++seen > lines) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

// Unescapes the octal escapes (\040 for a space, ...) of /proc/self/mountinfo.
std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') octal = false;
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

void unmount(const fs::path& path) {
  run_command({"/bin/sh", "-c", "exec fusermount3 -u \"$0\" 2>/dev/null || exec umount \"$0\"",
               path.string()},
              {}, 30s);
  if (is_mounted(path) &&
      !eventually([&] { return !is_mounted(path); }, 5s, 100ms)) {
    run_command({"/bin/sh", "-c", "exec fusermount3 -uz \"$0\" 2>/dev/null || exec umount -l \"$0\"",
                 path.string()},
                {}, 30s);
  }
}

void emergency_down(int sig) {
  if (::getpid() == g_main_pid && g_cluster_running && !g_down_argv.empty()) {
    g_cluster_running = 0;
    static const char kMsg[] = "\nzhsm integration test: signal received, taking the cluster down\n";
    ssize_t ignored = ::write(2, kMsg, sizeof kMsg - 1);
    (void)ignored;
    run_from_handler(g_down_argv.data());
  }
  if (::getpid() == g_main_pid && !g_tmpfs_path.empty())
    ::umount2(g_tmpfs_path.c_str(), MNT_DETACH);
  if (::getpid() == g_main_pid) {
    if (char* const* rm = g_removal_argv.exchange(nullptr)) run_from_handler(rm);
  }
  // SA_RESETHAND restored the default action: the signal does what it would have.
  ::raise(sig);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = emergency_down;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    ::sigaction(sig, &sa, nullptr);
}

// Starts the cluster before the first test of the binary and stops it after the
// last one (whatever the tests' results were).
class ClusterEnvironment : public ::testing::Environment {
 public:
  explicit ClusterEnvironment(ClusterOptions options) : options_(options) {}

  void SetUp() override {
    g_main_pid = ::getpid();
    if (::getenv("ZHSM_BUILD_DIR") == nullptr)
      ::setenv("ZHSM_BUILD_DIR", ZHSM_DEFAULT_BUILD_DIR, 1);
    ASSERT_TRUE(fs::exists(cluster_script()))
        << cluster_script() << " does not exist (set ZHSM_SOURCE_ROOT)";
    dir_ = make_temp_dir("zhsm-it-");
    // PostgreSQL runs as its own user and keeps its data below DIR when it can.
    ::chmod(dir_.c_str(), 0755);
    remove_on_signal(dir_, true);
    remove_on_signal(pg_socket_dir(dir_), true);
    cluster_ = std::make_unique<Cluster>(dir_);
    g_cluster = cluster_.get();
    cluster_->prepare_emergency_down();
    install_signal_handlers();
    if (options_.small_backend_mib > 0) {
      const fs::path backend = cluster_->backend_dir(1);
      fs::create_directories(backend);
      const std::string size = "size=" + std::to_string(options_.small_backend_mib) + "m,mode=0755";
      ASSERT_EQ(::mount("tmpfs", backend.c_str(), "tmpfs", 0, size.c_str()), 0)
          << "cannot mount a tmpfs at " << backend << ": " << ::strerror(errno);
      g_tmpfs_path = backend.string();
    }
    ASSERT_TRUE(cluster_->up(options_)) << "the cluster did not come up; tests are skipped";
  }

  void TearDown() override {
    if (!cluster_) return;
    if (cluster_->running()) {
      // Every daemon and mount must have lived through the tests.
      auto status = cluster_->cluster_command("status", {}, 60s);
      EXPECT_TRUE(status.ok()) << "not everything ran any more at the end of the tests:\n"
                               << status.out << status.err;
    }
    bool failed = ::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
                  ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
    if (failed) std::cerr << "daemon logs of the failed run:\n" << cluster_->log_tails() << "\n";
    bool down_ok = cluster_->down();
    EXPECT_TRUE(down_ok) << "zhsm-cluster down failed";
    if (!g_tmpfs_path.empty()) {
      EXPECT_EQ(::umount2(g_tmpfs_path.c_str(), MNT_DETACH), 0)
          << "cannot unmount " << g_tmpfs_path << ": " << ::strerror(errno);
      g_tmpfs_path.clear();
    }
    bool keep = ::getenv("ZHSM_KEEP_CLUSTER") != nullptr;
    std::error_code ec;
    if (keep) {
      std::cerr << "cluster directory kept: " << dir_ << "\n";
    } else if (is_mounted(cluster_->mount())) {
      ADD_FAILURE() << cluster_->mount() << " is still mounted; not removing " << dir_;
    } else if (failed) {
      // The data goes; the daemons' logs stay for whoever looks into the failure.
      for (const char* bulky : {"backends", "pg", "state"}) fs::remove_all(dir_ / bulky, ec);
      std::cerr << "logs of the failed run kept in " << (dir_ / "logs") << "\n";
    } else {
      fs::remove_all(dir_, ec);
    }
    if (!keep) fs::remove(pg_socket_dir(dir_), ec);  // only when empty
    remove_on_signal(dir_, false);
    remove_on_signal(pg_socket_dir(dir_), false);
    g_cluster = nullptr;
    cluster_.reset();
  }

 private:
  ClusterOptions options_;
  fs::path dir_;
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace

::testing::Environment* make_cluster_environment(ClusterOptions options) {
  return new ClusterEnvironment(options);
}

std::string CommandResult::describe() const {
  std::ostringstream os;
  os << "exit=" << exit_code << (timed_out ? " (timed out)" : "") << "\n--- stdout (tail)\n"
     << tail_lines(out, 30) << "\n--- stderr (tail)\n" << tail_lines(err, 30);
  return os.str();
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env, std::chrono::seconds timeout) {
  CommandResult result;
  if (argv.empty()) return result;
  // Everything the child needs is built before fork: it may only exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : env)
      if (x.substr(0, x.find('=')) == name) overridden = true;
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& x : env) env_strings.push_back(x);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  int out_fd = anonymous_file();
  int err_fd = anonymous_file();
  if (out_fd < 0 || err_fd < 0) {
    result.err = std::string("cannot create output file: ") + ::strerror(errno);
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    return result;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(argp[0], argp.data(), envp.data());
    ::_exit(127);
  }
  if (pid < 0) {
    result.err = std::string("fork: ") + ::strerror(errno);
    ::close(out_fd);
    ::close(err_fd);
    return result;
  }
  ::setpgid(pid, pid);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool done = false;
  while (!done) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
    } else if (r < 0 && errno != EINTR) {
      break;
    } else if (std::chrono::steady_clock::now() > deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(50ms);
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      done = true;
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.out = slurp_fd(out_fd);
  result.err = slurp_fd(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  return result;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit,
                std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

Cluster& Cluster::get() {
  if (!g_cluster) throw std::logic_error("no cluster: the test binary lacks ClusterEnvironment");
  return *g_cluster;
}

Cluster::Cluster(fs::path dir) : dir_(std::move(dir)) {}

void Cluster::prepare_emergency_down() {
  g_down_strings = {cluster_script().string(), "down", "--dir", dir_.string()};
  g_down_argv.clear();
  for (auto& s : g_down_strings) g_down_argv.push_back(s.data());
  g_down_argv.push_back(nullptr);
}

bool Cluster::up(const ClusterOptions& options) {
  const int fileservers = options.fileservers;
  fileservers_ = fileservers;
  running_ = true;  // a half-started cluster must be taken down too
  g_cluster_running = 1;
  std::vector<std::string> args = {"--fileservers", std::to_string(fileservers)};
  if (options.token_lifetime_s > 0) {
    args.push_back("--token-lifetime");
    args.push_back(std::to_string(options.token_lifetime_s));
  }
  if (!options.tiers.empty()) {
    args.push_back("--tiers");
    args.push_back(options.tiers);
  }
  if (options.repair_grace_s > 0) {
    args.push_back("--repair-grace");
    args.push_back(std::to_string(options.repair_grace_s));
  }
  auto r = cluster_command("up", args, 900s);
  EXPECT_TRUE(r.ok()) << "zhsm-cluster up --dir " << dir_.string() << " failed: " << r.describe()
                      << "\n" << log_tails();
  if (!r.ok()) return false;
  bool mounted = eventually([&] { return is_mounted(mount()); }, 20s, 100ms);
  EXPECT_TRUE(mounted) << mount() << " is not a mount point after zhsm-cluster up";
  EXPECT_FALSE(controller_address().empty()) << "no listen= line in run/controller.ports";
  for (int k = 1; k <= fileservers; ++k)
    EXPECT_FALSE(fileserver_address(k).empty()) << "no listen= line in run/fs" << k << ".ports";
  return mounted;
}

bool Cluster::down() {
  if (!running_) return true;
  for (const auto& m : extra_mounts_)
    if (is_mounted(m)) unmount(m);
  extra_mounts_.clear();
  auto r = cluster_command("down", {}, 300s);
  running_ = false;
  g_cluster_running = 0;
  if (!r.ok()) std::cerr << "zhsm-cluster down failed: " << r.describe() << "\n";
  if (is_mounted(mount())) {
    std::cerr << mount() << " still mounted after zhsm-cluster down; unmounting\n";
    unmount(mount());
    return false;
  }
  return r.ok();
}

fs::path Cluster::add_mount(const std::string& name) {
  fs::path m = dir_ / name;
  std::error_code ec;
  fs::create_directories(m, ec);
  auto r = cluster_command("mount", {m.string()});
  extra_mounts_.push_back(m);
  if (!r.ok()) throw std::runtime_error("zhsm-cluster mount failed: " + r.describe());
  if (!eventually([&] { return is_mounted(m); }, 20s, 100ms))
    throw std::runtime_error(m.string() + " is not a mount point after zhsm-cluster mount");
  return m;
}

pid_t Cluster::client_pid(const fs::path& mount_point) const {
  std::ifstream mounts(dir_ / "run" / "mounts");
  std::string line;
  std::string want = mount_point.lexically_normal().string();
  while (std::getline(mounts, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || line.substr(tab + 1) != want) continue;
    std::ifstream pid_file(dir_ / "run" / ("fuse-" + line.substr(0, tab) + ".pid"));
    long pid = 0;
    if (pid_file >> pid) return static_cast<pid_t>(pid);
  }
  return 0;
}

CommandResult Cluster::cluster_command(const std::string& subcommand,
                                       const std::vector<std::string>& args,
                                       std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {cluster_script().string(), subcommand, "--dir", dir_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, timeout);
}

CommandResult Cluster::admin(const std::vector<std::string>& args) const {
  return cluster_command("admin", args, 60s);
}

nlohmann::json Cluster::admin_json(std::vector<std::string> args) const {
  args.push_back("--json");
  auto r = admin(args);
  std::string cmd = "zhsm-cluster admin";
  for (const auto& a : args) cmd += " " + a;
  if (!r.ok()) throw std::runtime_error(cmd + " failed: " + r.describe());
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(cmd + " printed no JSON (" + e.what() + "): " + r.describe());
  }
}

fs::path Cluster::backend_dir(int k) const { return dir_ / "backends" / ("fs" + std::to_string(k)); }

std::vector<std::pair<std::string, std::string>> Cluster::ports(const std::string& name) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(dir_ / "run" / (name + ".ports"));
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

namespace {

// The body of GET /metrics at "HOST:PORT" (IPv4), read in this process: a child
// process (curl) would share the test's open files, and its exit would flush them.
std::optional<std::string> get_metrics(const std::string& addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(addr.substr(colon + 1))));
  if (::inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) return std::nullopt;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string got;
  const std::string ask = "GET /metrics HTTP/1.0\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ask.size())) {
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const auto body = got.find("\r\n\r\n");
  if (got.compare(0, 12, "HTTP/1.1 200") != 0 && got.compare(0, 12, "HTTP/1.0 200") != 0)
    return std::nullopt;
  if (body == std::string::npos) return std::nullopt;
  return got.substr(body + 4);
}

}  // namespace

double Cluster::metric(const std::string& name, const std::string& series) const {
  std::string addr;
  for (const auto& [k, v] : ports(name))
    if (k == "metrics") addr = v;
  if (addr.empty()) return -1;
  auto body = get_metrics(addr);
  if (!body) return -1;
  std::istringstream in(*body);
  for (std::string line; std::getline(in, line);)
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

CommandResult Cluster::crash_postgres() const {
  const fs::path pg = dir_ / "pg";
  std::error_code ec;
  const fs::path data = fs::canonical(pg / "data", ec);
  fs::path pg_ctl;  // the newest installed version's, as tools/zhsm-pg picks it
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path c = e.path() / "bin" / "pg_ctl";
    if (fs::exists(c) && (pg_ctl.empty() || c > pg_ctl)) pg_ctl = c;
  }
  std::vector<std::string> stop = {pg_ctl.string(), "-D", data.string(), "-m", "immediate",
                                   "-w", "-t", "60", "stop"};
  if (::geteuid() == 0) stop.insert(stop.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  CommandResult r = run_command(stop);
  if (!r.ok()) return r;
  return run_command({(source_root() / "tools" / "zhsm-pg").string(), "start", pg.string()});
}

std::string Cluster::controller_address() const {
  for (auto& [k, v] : ports("controller"))
    if (k == "listen") return v;
  return "";
}

std::string Cluster::fileserver_address(int k) const {
  for (auto& [key, v] : ports("fs" + std::to_string(k)))
    if (key == "listen") return v;
  return "";
}

fs::path Cluster::scratch(const std::string& name) const {
  fs::path p = mount() / name;
  std::error_code ec;
  fs::remove_all(p, ec);
  fs::create_directory(p, ec);
  if (ec) throw std::runtime_error("cannot create " + p.string() + ": " + ec.message());
  return p;
}

std::string Cluster::log_tails(size_t lines) const {
  std::ostringstream os;
  std::error_code ec;
  std::vector<fs::path> logs;
  for (fs::directory_iterator it(dir_ / "logs", ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (p.extension() != ".log" || name == "build.log" || name == "zhsm-pg.log") continue;
    if (!it->is_regular_file(ec) || it->file_size(ec) == 0) continue;
    logs.push_back(p);
  }
  std::sort(logs.begin(), logs.end());
  for (const auto& p : logs) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    os << "==> " << p.lexically_relative(dir_).string() << " <==\n" << tail_lines(ss.str(), lines) << "\n";
  }
  return os.str();
}

bool is_mounted(const fs::path& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string want = path.lexically_normal().string();
  while (!want.empty() && want.size() > 1 && want.back() == '/') want.pop_back();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (unescape_mountinfo(mount_point) == want) return true;
  }
  return false;
}

NativeDir::NativeDir() {
  path_ = make_temp_dir("zhsm-native-");
  ::chmod(path_.c_str(), 0755);
  remove_on_signal(path_, true);
}

NativeDir::~NativeDir() {
  remove_on_signal(path_, false);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Outcome outcome(const std::function<long()>& fn) {
  errno = 0;
  long r = fn();
  Outcome o;
  o.ret = r;
  o.err = r < 0 ? errno : 0;
  if (r < 0) o.ret = -1;
  return o;
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{ret=" << o.ret;
  if (o.err) {
    const char* name = ::strerrorname_np(o.err);
    os << " errno=" << (name ? name : std::to_string(o.err).c_str());
  }
  return os << "}";
}

long Transcript::call(const std::string& what, const std::function<long()>& fn) {
  Outcome o = outcome(fn);
  std::ostringstream os;
  os << what << " -> " << o;
  lines_.push_back(os.str());
  return o.err ? -1 : o.ret;
}

void Transcript::note(const std::string& what, const std::string& value) {
  lines_.push_back(what + " = " + value);
}

void expect_same_transcripts(const Transcript& mount, const Transcript& native) {
  const auto& a = mount.lines();
  const auto& b = native.lines();
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    std::string za = i < a.size() ? a[i] : "(nothing)";
    std::string nb = i < b.size() ? b[i] : "(nothing)";
    EXPECT_EQ(za, nb) << "step " << i << ": mount (left) differs from native (right)";
  }
}

void MountTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (auto& c : name)
    if (c == '/') c = '_';
  mount_dir_ = Cluster::get().scratch(name);
  ::chmod(mount_dir_.c_str(), 0755);
  native_ = std::make_unique<NativeDir>();
  native_dir_ = native_->path();
}

Transcript MountTest::compare(
    const std::function<void(const fs::path& dir, Transcript& t)>& scenario) {
  Transcript on_mount;
  Transcript on_native;
  scenario(mount_dir_, on_mount);
  scenario(native_dir_, on_native);
  if (::getenv("ZHSM_SHOW_TRANSCRIPTS")) {
    for (const auto& line : on_mount.lines()) std::cerr << "  mount: " << line << "\n";
  }
  expect_same_transcripts(on_mount, on_native);
  return on_mount;
}

void fill_pattern(uint64_t seed, uint64_t index, uint8_t* out, size_t size) {
  uint64_t state = seed * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xbf58476d1ce4e5b9ULL;
  size_t i = 0;
  while (i < size) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    size_t n = std::min<size_t>(8, size - i);
    std::memcpy(out + i, &z, n);
    i += n;
  }
}

std::string read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << ::strerror(errno);
    return "";
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ADD_FAILURE() << "read " << path << ": " << ::strerror(errno);
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool write_file(const fs::path& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << ::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ADD_FAILURE() << "write " << path << ": " << ::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    ADD_FAILURE() << "close " << path << ": " << ::strerror(errno);
    return false;
  }
  return true;
}

const nlohmann::json* json_field(const nlohmann::json& j,
                                 std::initializer_list<const char*> names) {
  if (!j.is_object()) return nullptr;
  for (const char* n : names) {
    auto it = j.find(n);
    if (it != j.end()) return &*it;
  }
  return nullptr;
}

}  // namespace zhsm::test
