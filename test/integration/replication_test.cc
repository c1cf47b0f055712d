// File resolve chains, copies and repair on a real cluster of three file servers
// (fs1's backend is tier ssd, fs2's and fs3's are hdd): a chain with two copies
// places each file on two servers, both verified on disk; a file server killed in
// the middle of a write loses nothing a close acknowledged and every file stays
// readable; when it returns, its outdated copies are brought up to date; moving
// files from one copy on ssd to two on hdd never leaves an object with fewer
// current copies than wanted; a rule to a backend that does not exist drops
// nothing; why and plan say what the chains do; a copy corrupted on disk is found
// when read, the read is served from the other copy, and the bad copy is repaired. This binary has its own main().
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/sha256.h"
#include "test/integration/cluster.h"
#include "test/integration/objects.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr auto kCopyWait = std::chrono::seconds(90);

// Current copies of a chunk, by server name.
std::set<std::string> current_servers(const ChunkInfo& c) {
  std::set<std::string> out;
  for (const auto& copy : c.copies)
    if (copy.state == "current") out.insert(copy.server_name);
  return out;
}

// The namespace path of a path on the main mount.
std::string ns_path(const Cluster& cluster, const fs::path& p) {
  return "/" + p.lexically_relative(cluster.mount()).string();
}

class Replication : public MountTest {
 protected:
  CommandResult admin(std::vector<std::string> args) { return cluster().admin(std::move(args)); }
  void admin_ok(std::vector<std::string> args) {
    auto r = admin(args);
    ASSERT_TRUE(r.ok()) << "zhsm-admin " << testing::PrintToString(args) << ": " << r.describe();
  }

  // A chain named `name` with `copies` and `rules`, named for directory `dir`.
  void make_chain(const std::string& name, int copies, const std::vector<std::string>& rules,
                  const fs::path& dir) {
    admin_ok({"chain", "create", name, "--copies", std::to_string(copies)});
    for (const auto& rule : rules) admin_ok({"chain", "add", name, rule});
    admin_ok({"chain", "set-dir", dir.string(), name});
  }

  // Waits until every chunk of `path` has exactly `want` current copies, on servers
  // for which `server_ok` holds, each on another server. Returns the last file info.
  FileInfo await_copies(const fs::path& path, size_t want,
                        const std::function<bool(const std::string&)>& server_ok,
                        std::chrono::seconds limit = kCopyWait) {
    FileInfo info;
    bool done = eventually(
        [&] {
          info = file_info(cluster(), path);
          if (info.chunks.empty()) return false;
          for (const auto& c : info.chunks) {
            auto servers = current_servers(c);
            if (servers.size() != want) return false;
            size_t listed = 0;
            for (const auto& copy : c.copies) listed += copy.state == "current";
            if (listed != want) return false;  // two current copies on one server
            for (const auto& s : servers)
              if (!server_ok(s)) return false;
            if (c.copies.size() != want) return false;  // nothing left to drop
          }
          return true;
        },
        limit, 250ms);
    EXPECT_TRUE(done) << "copies of " << path << " did not settle at " << want << ":\n"
                      << info.raw.dump(2) << "\n" << cluster().log_tails(20);
    return info;
  }

  // Every current copy of every chunk lies on disk with the chunk's checksum.
  void expect_copies_on_disk(const FileInfo& info, const std::string& data) {
    for (const auto& c : info.chunks) {
      SCOPED_TRACE("chunk " + std::to_string(c.index));
      uint64_t offset = c.index * info.chunk_size;
      std::string want = sha256_hex(data, offset, std::min<uint64_t>(info.chunk_size, data.size() - offset));
      EXPECT_EQ(c.sha256, want);
      // Dropped copies leave the disk at their server's next heartbeat.
      std::vector<fs::path> paths;
      EXPECT_TRUE(eventually(
          [&] {
            paths = find_object_copies(cluster(), c.uuid);
            return paths.size() == current_servers(c).size();
          },
          20s))
          << "object files (" << paths.size() << ") vs current copies ("
          << current_servers(c).size() << ")";
      for (const auto& p : paths) {
        StoredObject o = read_stored_object(p);
        ASSERT_EQ(o.error, "") << p;
        EXPECT_EQ(o.data_sha256, want) << p;
        EXPECT_EQ(o.head_sha256, want) << p;
        EXPECT_EQ(o.version, c.version) << p;
      }
    }
  }

  pid_t fileserver_pid(int k) {
    std::ifstream in(cluster().dir() / "run" / ("fs" + std::to_string(k) + ".pid"));
    pid_t pid = 0;
    in >> pid;
    return pid;
  }
  // SIGKILL file server K and wait until it is gone.
  void kill_fileserver(int k) {
    pid_t pid = fileserver_pid(k);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }, 10s)) << "fs" << k << " still runs";
  }
  // Starts what is not running (the killed file server) again.
  void restart_fileservers() {
    auto r = cluster().cluster_command("up", {"--fileservers", "3"}, 300s);
    ASSERT_TRUE(r.ok()) << r.describe();
  }

  // Reads `path` with the page cache dropped first, so the bytes come from the servers.
  std::string read_cold(const fs::path& path) {
    ::sync();
    std::ofstream("/proc/sys/vm/drop_caches") << "3\n";
    return file_text(path);
  }

  // zhsm_controller_replicator_passes_total from the controller's metrics, or -1.
  double replicator_passes() {
    return cluster().controller_metric("zhsm_controller_replicator_passes_total");
  }

  // The numbers of zhsm-admin why PATH --json.
  nlohmann::json why(const fs::path& path) { return cluster().admin_json({"why", path.string()}); }
};

// Two copies on two servers, both verified on disk, and why says so.
TEST_F(Replication, ChainWithTwoCopiesPlacesEachFileOnTwoServers) {
  fs::path dir = mount_dir_ / "two";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  make_chain("two", 2, {"use any", "use any"}, dir);
  std::string data = pattern_bytes(0x2c, 20 * kMiB);  // two data objects
  ASSERT_EQ(put(dir / "a", data), static_cast<long>(data.size()));
  FileInfo info = await_copies(dir / "a", 2, [](const std::string&) { return true; });
  ASSERT_EQ(info.chunks.size(), 2u);
  expect_copies_on_disk(info, data);

  nlohmann::json w = why(dir / "a");
  EXPECT_EQ(w["chain"], "two") << w.dump(2);
  EXPECT_EQ(w["chain_from"], ns_path(cluster(), dir)) << w.dump(2);
  EXPECT_EQ(w["copies"], 2) << w.dump(2);
  ASSERT_EQ(w["wanted"].size(), 2u) << w.dump(2);
  EXPECT_NE(w["wanted"][0]["server"], w["wanted"][1]["server"]) << w.dump(2);
  EXPECT_TRUE(w["problems"].empty()) << w.dump(2);
  ASSERT_EQ(w["steps"].size(), 2u) << w.dump(2);
  for (const auto& s : w["steps"]) EXPECT_EQ(s["matched"], true) << w.dump(2);
}

// A file server killed with SIGKILL in the middle of a large write: what close
// acknowledged before stays readable from the other copy, and so does the file
// being written, if its close succeeded. Back up, its outdated copies are repaired.
TEST_F(Replication, KilledServerLosesNothingAndIsRepairedOnReturn) {
  fs::path dir = mount_dir_ / "kill";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  make_chain("pair", 2, {"use any", "use any"}, dir);
  std::string first = pattern_bytes(0x51, 18 * kMiB);
  ASSERT_EQ(put(dir / "first", first), static_cast<long>(first.size()));
  FileInfo info = await_copies(dir / "first", 2, [](const std::string&) { return true; });
  // The victim: a server holding a copy of `first`.
  std::string victim_name = *current_servers(info.chunks[0]).begin();
  int victim = victim_name.back() - '0';
  ASSERT_GE(victim, 1);
  ASSERT_LE(victim, 3);

  // A large write, with the victim killed part-way.
  std::string second = pattern_bytes(0x52, 64 * kMiB);
  int fd = ::open((dir / "second").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  bool write_ok = true;
  for (size_t off = 0; off < second.size(); off += 4 * kMiB) {
    if (off == 24 * kMiB) kill_fileserver(victim);
    if (pwrite_all(fd, second.substr(off, 4 * kMiB), static_cast<off_t>(off)) < 0) write_ok = false;
  }
  bool closed_ok = ::fsync(fd) == 0;
  closed_ok = ::close(fd) == 0 && closed_ok && write_ok;

  // Everything acknowledged reads back, from the copy that is left.
  EXPECT_EQ(read_cold(dir / "first"), first) << "first file after the kill";
  if (closed_ok) {
    EXPECT_EQ(read_cold(dir / "second"), second) << "second file, acknowledged by its close";
  } else {
    // Its close reported the failure; what it holds now still reads without an error.
    std::string now = read_cold(dir / "second");
    EXPECT_NE(now.rfind("<errno", 0), 0u) << "second file unreadable after a failed close: " << now;
  }
  // A change while the victim is away leaves its copy outdated.
  std::string patch = pattern_bytes(0x53, kMiB);
  {
    int pf = ::open((dir / "first").c_str(), O_WRONLY);
    ASSERT_GE(pf, 0);
    ASSERT_EQ(pwrite_all(pf, patch, 0), static_cast<long>(patch.size()));
    ASSERT_EQ(::close(pf), 0);
  }
  first.replace(0, patch.size(), patch);
  EXPECT_EQ(read_cold(dir / "first"), first) << "first file after a write with a server away";

  // Back up: the victim's copies are brought up to date, checksums equal.
  restart_fileservers();
  info = await_copies(dir / "first", 2, [](const std::string&) { return true; });
  EXPECT_TRUE(current_servers(info.chunks[0]).count(victim_name))
      << "the returning server's outdated copy was not brought up to date: " << info.raw.dump(2);
  expect_copies_on_disk(info, first);
  if (closed_ok) {
    FileInfo second_info = await_copies(dir / "second", 2, [](const std::string&) { return true; });
    expect_copies_on_disk(second_info, second);
  }
}

// One copy on ssd becomes two on hdd: the data moves, and while it moves no object
// ever has fewer current copies than the one it had.
TEST_F(Replication, ChainChangeMovesDataNeverBelowWanted) {
  fs::path dir = mount_dir_ / "tiered";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  make_chain("fast", 1, {"use tier:ssd"}, dir);
  std::vector<std::string> contents;
  for (int i = 0; i < 4; ++i) {
    contents.push_back(pattern_bytes(0x70 + i, 17 * kMiB));
    ASSERT_EQ(put(dir / std::to_string(i), contents.back()), static_cast<long>(contents.back().size()));
    // New data goes where the chains want it from the start, not to be moved there later.
    FileInfo placed = file_info(cluster(), dir / std::to_string(i));
    for (const auto& c : placed.chunks)
      EXPECT_EQ(current_servers(c), std::set<std::string>{"fs1"}) << placed.raw.dump(2);
  }
  for (int i = 0; i < 4; ++i)
    await_copies(dir / std::to_string(i), 1, [](const std::string& s) { return s == "fs1"; });

  // A preview before the change: chain `fast` as if it wanted two copies on hdd. It lists
  // the move (two new copies of every object on the hdd servers, the ssd copy dropped)
  // and changes nothing.
  nlohmann::json preview = cluster().admin_json(
      {"plan", "--chain", "fast", "--copies", "2", "--rules", "use tier:hdd", "use tier:hdd"});
  uint64_t new_copies = 0, drops = 0;
  for (const auto& m : preview["moves"]) {
    if (m["to"].is_null()) {
      EXPECT_EQ(m["from"], "fs1-b1") << preview.dump(2);
      drops += m["objects"].get<uint64_t>();
    } else {
      EXPECT_TRUE(m["to"] == "fs2-b1" || m["to"] == "fs3-b1") << preview.dump(2);
      new_copies += m["objects"].get<uint64_t>();
    }
  }
  EXPECT_EQ(new_copies, 16u) << "4 files of 2 objects, 2 copies each: " << preview.dump(2);
  EXPECT_EQ(drops, 8u) << preview.dump(2);
  nlohmann::json fast = cluster().admin_json({"chain", "show", "fast"});
  EXPECT_EQ(fast.dump().find("hdd"), std::string::npos) << "the preview changed the chain: "
                                                        << fast.dump(2);
  EXPECT_TRUE(cluster().admin_json({"plan"})["moves"].empty()) << "the preview queued work";
  auto bad = admin({"plan", "--chain", "fast", "--rules", "size > 1Q use tier:hdd"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE((bad.out + bad.err).find("1Q"), std::string::npos) << bad.describe();

  admin_ok({"chain", "create", "cold", "--copies", "2"});
  admin_ok({"chain", "add", "cold", "use tier:hdd"});
  admin_ok({"chain", "add", "cold", "use", "tier:hdd"});  // the words may come apart
  nlohmann::json plan_before = cluster().admin_json({"plan"});
  admin_ok({"chain", "set-dir", dir.string(), "cold"});

  // While the move runs: every chunk keeps at least one current copy.
  bool settled = false;
  auto deadline = std::chrono::steady_clock::now() + kCopyWait;
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    settled = true;
    for (int i = 0; i < 4; ++i) {
      FileInfo info = file_info(cluster(), dir / std::to_string(i));
      for (const auto& c : info.chunks) {
        auto servers = current_servers(c);
        ASSERT_GE(servers.size(), 1u) << "an object lost its last current copy during the move:\n"
                                      << info.raw.dump(2);
        if (servers != std::set<std::string>{"fs2", "fs3"} || c.copies.size() != 2) settled = false;
      }
    }
    if (!settled) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(settled) << "the files did not move to fs2 and fs3\n" << cluster().log_tails(20);
  for (int i = 0; i < 4; ++i) {
    FileInfo info = file_info(cluster(), dir / std::to_string(i));
    expect_copies_on_disk(info, contents[i]);
    EXPECT_EQ(read_cold(dir / std::to_string(i)), contents[i]);
  }
  nlohmann::json plan_after = cluster().admin_json({"plan"});
  EXPECT_TRUE(plan_after["moves"].empty()) << "nothing should be left to move: " << plan_after.dump(2);
}

// A rule to a backend that does not exist is reported and drops nothing.
TEST_F(Replication, RuleToMissingBackendDropsNothing) {
  fs::path dir = mount_dir_ / "missing";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::string data = pattern_bytes(0x99, 17 * kMiB);
  ASSERT_EQ(put(dir / "f", data), static_cast<long>(data.size()));
  FileInfo before = await_copies(dir / "f", 1, [](const std::string&) { return true; });

  make_chain("nowhere", 1, {"use nosuch"}, dir);
  nlohmann::json w = why(dir / "f");
  ASSERT_FALSE(w["problems"].empty()) << w.dump(2);
  EXPECT_NE(w["problems"][0].get<std::string>().find("nosuch"), std::string::npos) << w.dump(2);
  nlohmann::json plan = cluster().admin_json({"plan"});
  EXPECT_FALSE(plan["problems"].empty()) << plan.dump(2);
  for (const auto& m : plan["moves"]) EXPECT_NE(m["from"], before.chunks[0].copies[0].backend_name)
      << "the plan drops or moves the only copy: " << plan.dump(2);

  // Two whole passes of the replicator later, the copy is where it was.
  double start = replicator_passes();
  ASSERT_GE(start, 0) << "no replicator pass counter in the controller's metrics";
  ASSERT_TRUE(eventually([&] { return replicator_passes() >= start + 2; }, 60s, 200ms))
      << "the replicator made no two passes in 60 s";
  FileInfo after = file_info(cluster(), dir / "f");
  ASSERT_EQ(after.chunks.size(), before.chunks.size());
  for (size_t i = 0; i < after.chunks.size(); ++i) {
    EXPECT_EQ(current_servers(after.chunks[i]), current_servers(before.chunks[i]))
        << after.raw.dump(2);
    EXPECT_EQ(after.chunks[i].copies.size(), before.chunks[i].copies.size()) << after.raw.dump(2);
  }
  EXPECT_EQ(read_cold(dir / "f"), data);
  // status lists the problem too.
  nlohmann::json status = cluster().admin_json({"status"});
  EXPECT_NE(status["problems"].dump().find("nosuch"), std::string::npos) << status.dump(2);
  // Back to the default chain: later tests see no problem of this one.
  admin_ok({"chain", "set-dir", dir.string(), "-"});
}

// A chain with --ack 2: a close is answered only once two copies are current. With one
// server left to take a copy, the close fails at once, and the data stays stored.
TEST_F(Replication, CloseWaitsForTheChainsAckCopies) {
  fs::path dir = mount_dir_ / "sync";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  admin_ok({"chain", "create", "sync", "--copies", "2", "--ack", "2"});
  admin_ok({"chain", "add", "sync", "use any"});
  admin_ok({"chain", "add", "sync", "use any"});
  admin_ok({"chain", "set-dir", dir.string(), "sync"});
  std::string data = pattern_bytes(0xa2, 17 * kMiB);
  ASSERT_EQ(put(dir / "f", data), static_cast<long>(data.size()));
  FileInfo info = file_info(cluster(), dir / "f");  // right after the close, no waiting
  ASSERT_EQ(info.chunks.size(), 2u) << info.raw.dump(2);
  for (const auto& c : info.chunks)
    EXPECT_EQ(current_servers(c).size(), 2u) << "the close came back before two copies were "
                                                "current: " << info.raw.dump(2);
  expect_copies_on_disk(info, data);

  // Only fs1 can take data: the close cannot get its two copies.
  admin_ok({"server", "maintenance", "fs2", "on"});
  admin_ok({"server", "maintenance", "fs3", "on"});
  std::string lonely = pattern_bytes(0xa3, 2 * kMiB);
  int fd = ::open((dir / "lonely").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite_all(fd, lonely, 0), static_cast<long>(lonely.size()));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  EXPECT_EQ(rc, -1) << "fsync succeeded with one copy where the chain's ack asks for two";
  EXPECT_EQ(err, EIO);
  EXPECT_EQ(read_cold(dir / "lonely"), lonely) << "the data of a close that failed its ack";
  admin_ok({"server", "maintenance", "fs2", "off"});
  admin_ok({"server", "maintenance", "fs3", "off"});
  await_copies(dir / "lonely", 2, [](const std::string&) { return true; });
}

// `accesses` counts opens: a file opened often enough moves to ssd.
TEST_F(Replication, OftenOpenedFilesFollowAnAccessesRule) {
  fs::path dir = mount_dir_ / "heat";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  admin_ok({"chain", "create", "heat"});
  admin_ok({"chain", "add", "heat", "accesses >= 5 use tier:ssd"});
  admin_ok({"chain", "add", "heat", "use tier:hdd"});
  admin_ok({"chain", "set-dir", dir.string(), "heat"});
  std::string data = pattern_bytes(0x4e, 3 * kMiB);
  ASSERT_EQ(put(dir / "f", data), static_cast<long>(data.size()));
  await_copies(dir / "f", 1, [](const std::string& s) { return s == "fs2" || s == "fs3"; });
  nlohmann::json w = why(dir / "f");
  ASSERT_EQ(w["steps"].size(), 2u) << w.dump(2);
  EXPECT_EQ(w["steps"][0]["matched"], false) << "opened once: " << w.dump(2);

  for (int i = 0; i < 6; ++i) {
    int fd = ::open((dir / "f").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    char b;
    ASSERT_EQ(::pread(fd, &b, 1, 0), 1);
    ::close(fd);
  }
  w = why(dir / "f");
  EXPECT_EQ(w["steps"][0]["matched"], true) << "opened 7 times: " << w.dump(2);
  FileInfo info = await_copies(dir / "f", 1, [](const std::string& s) { return s == "fs1"; });
  expect_copies_on_disk(info, data);
}

// A copy corrupted on disk is detected when it is read, the read is served from the
// other copy, and the corrupt copy is copied again from the good one.
TEST_F(Replication, CorruptCopyIsDetectedServedFromTheOtherAndRepaired) {
  fs::path dir = mount_dir_ / "corrupt";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  make_chain("mirror", 2, {"use any", "use any"}, dir);
  std::string data = pattern_bytes(0xc0, 17 * kMiB);
  ASSERT_EQ(put(dir / "f", data), static_cast<long>(data.size()));
  FileInfo info = await_copies(dir / "f", 2, [](const std::string&) { return true; });

  // One copy is corrupted; the server of the other goes into maintenance, so that readers
  // try the corrupt copy first (a server in maintenance is read only when no other is).
  const ChunkInfo& chunk = info.chunks[0];
  const std::string bad_backend = chunk.copies[0].backend_name;  // "fsK-b1"
  const std::string good_server = chunk.copies[1].server_name;
  fs::path bad;
  for (const auto& p : find_object_copies(cluster(), chunk.uuid))
    if (p.string().rfind(cluster().backend_dir(bad_backend[2] - '0').string() + "/", 0) == 0) bad = p;
  ASSERT_FALSE(bad.empty()) << "no object file of " << bad_backend;
  {
    int fd = ::open(bad.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char b = 0;
    const off_t at = static_cast<off_t>(kObjectHeadBlock + 5 * kMiB);
    ASSERT_EQ(::pread(fd, &b, 1, at), 1);
    b = static_cast<char>(b ^ 0x5a);
    ASSERT_EQ(::pwrite(fd, &b, 1, at), 1);
    ::close(fd);
  }
  ASSERT_NE(read_stored_object(bad).data_sha256, chunk.sha256) << "the corruption did not take";

  admin_ok({"server", "maintenance", good_server, "on"});
  EXPECT_EQ(read_cold(dir / "f"), data) << "the read was not served from the good copy";
  const fs::path bad_log = cluster().dir() / "logs" / (bad_backend.substr(0, 3) + ".log");
  const std::string reported = "event=object_corrupt backend=" + bad_backend + " uuid=" + chunk.uuid.str();
  EXPECT_TRUE(eventually([&] { return file_text(bad_log).find(reported) != std::string::npos; }, 20s))
      << "the read did not try the corrupt copy on " << bad_backend << " first\n"
      << cluster().log_tails(20);
  // The good copy is the source of the repair: its server returns from maintenance.
  admin_ok({"server", "maintenance", good_server, "off"});
  bool repaired = eventually(
      [&] { return read_stored_object(bad).data_sha256 == chunk.sha256; }, kCopyWait, 250ms);
  EXPECT_TRUE(repaired) << "the corrupt copy on " << bad_backend << " was not repaired\n"
                        << cluster().log_tails(20);
  info = await_copies(dir / "f", 2, [](const std::string&) { return true; });
  expect_copies_on_disk(info, data);
}

// A chain with a stripe spreads a large file's data objects over several backends, from
// the first write on, each object whole on one of them.
TEST_F(Replication, StripedChainSpreadsALargeFileOverBackends) {
  fs::path dir = mount_dir_ / "striped";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  admin_ok({"chain", "create", "wide", "--stripe", "3"});
  admin_ok({"chain", "add", "wide", "use any"});
  admin_ok({"chain", "set-dir", dir.string(), "wide"});
  std::string data = pattern_bytes(0x5e, 3 * 16 * kMiB + kMiB);  // four data objects
  ASSERT_EQ(put(dir / "big", data), static_cast<long>(data.size()));
  FileInfo info = file_info(cluster(), dir / "big");
  ASSERT_EQ(info.chunks.size(), 4u) << info.raw.dump(2);
  std::set<std::string> servers;
  for (const auto& c : info.chunks) {
    auto held = current_servers(c);
    ASSERT_EQ(held.size(), 1u) << info.raw.dump(2);
    servers.insert(*held.begin());
  }
  EXPECT_EQ(servers.size(), 3u) << "objects 0..2 on three backends, object 3 with object 0: "
                                << info.raw.dump(2);
  EXPECT_EQ(current_servers(info.chunks[0]), current_servers(info.chunks[3])) << info.raw.dump(2);
  expect_copies_on_disk(info, data);
  EXPECT_EQ(read_cold(dir / "big"), data);

  // The replicator leaves the spread as it is.
  double start = replicator_passes();
  ASSERT_TRUE(eventually([&] { return replicator_passes() >= start + 2; }, 60s, 200ms));
  FileInfo later = file_info(cluster(), dir / "big");
  for (size_t i = 0; i < later.chunks.size(); ++i)
    EXPECT_EQ(current_servers(later.chunks[i]), current_servers(info.chunks[i])) << later.raw.dump(2);
}

// Draining a server moves everything off it (copy first, then drop), and the files stay
// readable. Last in this binary: fs3 stays draining.
TEST_F(Replication, DrainMovesEverythingOffAServer) {
  fs::path dir = mount_dir_ / "drain";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  make_chain("both", 2, {"use any", "use any"}, dir);
  std::vector<std::string> contents;
  for (int i = 0; i < 3; ++i) {
    contents.push_back(pattern_bytes(0xd0 + i, 3 * kMiB));
    ASSERT_EQ(put(dir / std::to_string(i), contents.back()), static_cast<long>(contents.back().size()));
    await_copies(dir / std::to_string(i), 2, [](const std::string&) { return true; });
  }
  admin_ok({"server", "drain", "fs3"});
  nlohmann::json status = cluster().admin_json({"status"});
  bool marked = false;
  for (const auto& s : status["servers"])
    if (s["name"] == "fs3") marked = s["draining"] == true;
  EXPECT_TRUE(marked) << status.dump(2);
  for (int i = 0; i < 3; ++i) {
    FileInfo info = await_copies(dir / std::to_string(i), 2,
                                 [](const std::string& s) { return s != "fs3"; });
    expect_copies_on_disk(info, contents[i]);
    EXPECT_EQ(read_cold(dir / std::to_string(i)), contents[i]);
  }
}

}  // namespace
}  // namespace zhsm::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  zhsm::test::ClusterOptions options;
  options.fileservers = 3;
  options.tiers = "ssd,hdd,hdd";
  ::testing::AddGlobalTestEnvironment(zhsm::test::make_cluster_environment(options));
  return RUN_ALL_TESTS();
}
