// The fake controller of fake_controller.h: fixed servers, files, chains, an
// evaluation, a plan and jobs, served over loopback for the command tests.
#include "tools/admin/fake_controller.h"

#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <vector>

#include "common/error.h"

namespace zhsm::admin {

namespace {

void fill_backend(proto::BackendInfo::Builder b, const Uuid& id, const char* name,
                  uint64_t total, uint64_t used, uint64_t objects) {
  b.setId(id.data());
  b.setName(name);
  b.setTier("ssd");
  b.setPath(std::string("/srv/") + name);
  b.setTotalBytes(total);
  b.setUsedBytes(used);
  b.setFreeBytes(total - used);
  b.setObjectCount(objects);
}

void fill_copy(proto::CopyRef::Builder c, const Uuid& backend, const char* bname,
               const Uuid& server, const char* sname, const char* address,
               proto::CopyState state, uint64_t version) {
  c.setBackend(backend.data());
  c.setBackendName(bname);
  c.setServer(server.data());
  c.setServerName(sname);
  c.setAddress(address);
  c.setState(state);
  c.setVersion(version);
}



void fill_chain(proto::ChainDef::Builder c, const char* name, uint32_t copies,
                const std::vector<std::string>& rules, const std::vector<std::string>& dirs) {
  c.setName(name);
  c.setCopies(copies);
  auto r = c.initRules(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) r.set(i, rules[i]);
  auto d = c.initDirs(dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i)
    d.set(i, capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(dirs[i].data()),
                                 dirs[i].size()));
}

std::string path_of(capnp::Data::Reader p) {
  return std::string(reinterpret_cast<const char*>(p.begin()), p.size());
}


// Two chains: "default" (1 copy, two rules, named by no directory) and "cold"
// (2 copies, one rule, named by /archive and /old).
void serve_chains(proto::Request::Reader req, proto::Response::Builder resp, Seen& seen) {
  const std::vector<std::string> default_rules = {"size > 1G use tier:hdd", "use any"};
  switch (req.which()) {
    case proto::Request::CHAIN_LIST: {
      auto list = resp.initChains(2);
      fill_chain(list[0], "cold", 2, {"use tier:hdd"}, {"/archive", "/old"});
      fill_chain(list[1], "default", 1, default_rules, {});
      return;
    }
    case proto::Request::CHAIN_SHOW: {
      seen.chain = req.getChainShow();
      if (seen.chain != "cold") throw Error(Errc::not_found, "no chain named " + seen.chain);
      fill_chain(resp.initChains(1)[0], "cold", 2, {"use tier:hdd"}, {"/archive", "/old"});
      return;
    }
    case proto::Request::CHAIN_SET: {
      auto c = req.getChainSet();
      seen.chain = c.getName();
      seen.copies = c.getCopies();
      seen.stripe = c.getStripe();
      seen.ack = c.getAck();
      if (seen.chain != "cold") throw Error(Errc::not_found, "no chain named " + seen.chain);
      auto out = resp.initChains(1)[0];
      fill_chain(out, "cold", seen.copies == 0 ? 2 : seen.copies, {"use tier:hdd"},
                 {"/archive", "/old"});
      out.setAck(seen.ack == 0 ? 1 : seen.ack);
      return;
    }
    case proto::Request::CHAIN_CREATE:
      seen.chain = req.getChainCreate().getName();
      seen.copies = req.getChainCreate().getCopies();
      seen.stripe = req.getChainCreate().getStripe();
      seen.ack = req.getChainCreate().getAck();
      if (seen.chain == "default") throw Error(Errc::exists, "chain default exists");
      resp.setDone();
      return;
    case proto::Request::CHAIN_DELETE:
      seen.chain = req.getChainDelete();
      if (seen.chain == "cold")
        throw Error(Errc::busy, "chain cold is named by 2 directories (/archive, /old)");
      resp.setDone();
      return;
    case proto::Request::CHAIN_ADD_RULE: {
      auto e = req.getChainAddRule();
      seen.chain = e.getChain();
      seen.rule = e.getRule();
      seen.at = e.getAt();
      if (seen.rule == "size > 1X use tier:hdd") throw Error(Errc::invalid, kRuleError);
      std::vector<std::string> rules = default_rules;
      size_t at = seen.at == 0 ? rules.size() : std::min<size_t>(seen.at - 1, rules.size());
      rules.insert(rules.begin() + at, seen.rule);
      fill_chain(resp.initChains(1)[0], "default", 1, rules, {});
      return;
    }
    case proto::Request::CHAIN_REMOVE_RULE: {
      auto e = req.getChainRemoveRule();
      seen.chain = e.getChain();
      seen.at = e.getAt();
      std::vector<std::string> rules = default_rules;
      if (seen.at == 0 || seen.at > rules.size())
        throw Error(Errc::range, "chain default has 2 rules");
      rules.erase(rules.begin() + (seen.at - 1));
      fill_chain(resp.initChains(1)[0], "default", 1, rules, {});
      return;
    }
    case proto::Request::CHAIN_SET_DIR:
      seen.path = path_of(req.getChainSetDir().getPath());
      seen.chain = req.getChainSetDir().getChain();
      resp.setDone();
      return;
    default:
      throw Error(Errc::unimplemented, "not served by the fake");
  }
}

// why for "/big" (chain cold from /archive, two chunks, complete) and "/small"
// (inline, the default chain, one problem); other paths are not found.
void serve_why(proto::Request::Reader req, proto::Response::Builder resp, Seen& seen) {
  seen.path = path_of(req.getWhy().getPath());
  auto w = resp.initWhy();
  w.setPath(req.getWhy().getPath());
  if (seen.path == "/big") {
    w.setChain("cold");
    std::string from = "/archive";
    w.setChainFrom(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(from.data()),
                                       from.size()));
    w.setCopies(2);
    auto steps = w.initSteps(3);
    steps[0].setChain("cold");
    steps[0].setPosition(1);
    steps[0].setRule("size > 1G jump default");
    steps[0].setMatched(false);
    steps[0].setOutcome("condition not met");
    steps[1].setChain("cold");
    steps[1].setPosition(2);
    steps[1].setRule("use tier:ssd");
    steps[1].setMatched(true);
    steps[1].setOutcome("copy on fs1-b1");
    steps[2].setChain("cold");
    steps[2].setPosition(3);
    steps[2].setRule("use any");
    steps[2].setMatched(true);
    steps[2].setOutcome("copy on fs2-b1");
    auto wanted = w.initWanted(2);
    fill_copy(wanted[0], kBackend1, "fs1-b1", kServer1, "fs1", "127.0.0.1:4001",
              proto::CopyState::TARGET, 0);
    fill_copy(wanted[1], kBackend2, "fs2-b1", kServer2, "fs2", "127.0.0.1:4002",
              proto::CopyState::TARGET, 0);
    w.initAttr().setSize((16ull << 20) + 100);
    auto chunks = w.initChunks(2);
    chunks[0].setIndex(0);
    chunks[0].setUuid(kChunk0.data());
    chunks[0].setVersion(3);
    chunks[0].setSize(16ull << 20);
    auto c0 = chunks[0].initCopies(2);
    fill_copy(c0[0], kBackend1, "fs1-b1", kServer1, "fs1", "127.0.0.1:4001",
              proto::CopyState::CURRENT, 3);
    fill_copy(c0[1], kBackend2, "fs2-b1", kServer2, "fs2", "127.0.0.1:4002",
              proto::CopyState::OUTDATED, 2);
    chunks[1].setIndex(1);
    chunks[1].setUuid(kChunk1.data());
    chunks[1].setVersion(1);
    chunks[1].setSize(100);
  } else if (seen.path == "/small") {
    w.setChain("default");
    w.setCopies(1);
    auto step = w.initSteps(1)[0];
    step.setChain("default");
    step.setPosition(1);
    step.setRule("use tier:tape");
    step.setMatched(true);
    step.setOutcome("no usable backend for tier:tape");
    w.initProblems(1).set(0, "default #1 use tier:tape: no usable backend for tier:tape");
    w.initAttr().setSize(5);
    w.setInline(true);
  } else {
    throw Error(Errc::not_found, "no such file: " + seen.path);
  }
}

void serve_plan(proto::PlanReply::Builder p) {
  auto moves = p.initMoves(3);
  moves[0].setFromBackend("fs1-b1");
  moves[0].setToBackend("fs2-b1");
  moves[0].setObjects(12);
  moves[0].setBytes(3ull << 30);
  auto wakes = moves[0].initWakes(1);
  wakes.set(0, "fs2");
  moves[1].setToBackend("fs3-b1");
  moves[1].setObjects(1);
  moves[1].setBytes(1000);
  moves[2].setFromBackend("fs2-b1");
  moves[2].setObjects(2);
  moves[2].setBytes(2048);
  p.setObjects(40);
  p.initProblems(1).set(0, "/x: default #1 use tier:tape: no usable backend for tier:tape");
}

void serve_jobs(proto::JobsReply::Builder r, const Seen& seen) {
  r.setBytesDone(1ull << 30);
  if (seen.no_jobs) return;
  auto jobs = r.initJobs(2);
  jobs[0].setKind("copy");
  jobs[0].setUuid(kChunk0.data());
  jobs[0].setFromBackend("fs1-b1");
  jobs[0].setToBackend("fs2-b1");
  jobs[0].setBytes(16ull << 20);
  jobs[0].setState("running");
  jobs[0].setAgeMs(4200);
  jobs[0].setBytesDone(4ull << 20);
  jobs[0].setBytesPerSecond(2ull << 20);
  jobs[0].setEtaMs(6000);
  jobs[0].setReason("repair");
  jobs[0].setCurrent(1);
  jobs[0].setWanted(2);
  jobs[1].setKind("drop");
  jobs[1].setUuid(kChunk1.data());
  jobs[1].setFromBackend("fs2-b1");
  jobs[1].setBytes(100);
  jobs[1].setState("queued");
  jobs[1].setAgeMs(350);
  jobs[1].setReason("move");
  jobs[1].setCurrent(2);
  jobs[1].setWanted(2);
  r.setQueued(1);
  r.setRunning(1);
  r.setBytesPerSecond(5ull << 20);
  r.setBandwidthLimit(100ull << 20);
}

// Serves clusterStatus with three servers (listed out of name order; fs1
// draining, fs2 in maintenance, fs3 failed and marked for maintenance), fileInfo
// for "/big" (two chunks), "/small" (inline) and "/d" (directory), other paths not
// found, and the chain, why, plan, jobs and server requests above. Remembers
// what it was asked in `seen`.
class FakeController : public RpcHandler {
 public:
  explicit FakeController(Seen* seen) : seen_(seen) {}

  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override {
    switch (req.which()) {
      case proto::Request::CLUSTER_STATUS: {
        auto st = resp.initClusterStatus();
        auto servers = st.initServers(3);
        auto s2 = servers[0];
        s2.setId(kServer2.data());
        s2.setName("fs2");
        s2.setAddress("127.0.0.1:4002");
        s2.setState("maintenance");
        s2.setMaintenance(true);
        s2.setLastHeartbeatAgeMs(192'000);
        fill_backend(s2.initBackends(1)[0], kBackend2, "fs2-b1", 1ull << 40, 0, 0);
        auto s3 = servers[2];
        s3.setId(kServer3.data());
        s3.setName("fs3");
        s3.setAddress("127.0.0.1:4003");
        s3.setState("failed");
        s3.setMaintenance(true);
        s3.setLastHeartbeatAgeMs(3'000'000);
        auto s1 = servers[1];
        s1.setId(kServer1.data());
        s1.setName("fs1");
        s1.setAddress("127.0.0.1:4001");
        s1.setState("on");
        s1.setDraining(true);
        s1.setLastHeartbeatAgeMs(1200);
        s1.setLoad(7);
        fill_backend(s1.initBackends(1)[0], kBackend1, "fs1-b1", 100ull << 30, 3ull << 20, 7);
        st.setFiles(12);
        st.setDirectories(3);
        st.setDataObjects(7);
        st.setDataBytes(3ull << 20);
        st.setClients(1);
        st.setOpenTokens(2);
        st.setJobsQueued(4);
        st.setJobsRunning(1);
        auto problems = st.initProblems(2);
        problems.set(0, "chain default rule 1 (use tier:tape): no usable backend");
        problems.set(1, "chain cold wants 2 copies, the rules place 1");
        st.setProblemCount(5);
        co_return;
      }
      case proto::Request::FILE_INFO: {
        auto p = req.getFileInfo().getPath();
        std::string path(reinterpret_cast<const char*>(p.begin()), p.size());
        seen_->path = path;
        auto fi = resp.initFileInfo();
        auto a = fi.initAttr();
        a.setIno(42);
        a.setFsid(kFile.data());
        a.setType(proto::FileType::REGULAR);
        a.setMode(0644);
        a.setNlink(1);
        a.setUid(1000);
        a.setGid(100);
        a.setMtimeNs(1'700'000'000'000'000'000);
        a.setCtimeNs(1'700'000'000'000'000'000);
        a.setAtimeNs(1'700'000'000'000'000'000);
        a.setVersion(5);
        fi.setChunkSize(16ull << 20);
        if (path == "/big") {
          a.setSize((16ull << 20) + 100);
          auto chunks = fi.initChunks(2);
          chunks[0].setIndex(0);
          chunks[0].setUuid(kChunk0.data());
          chunks[0].setVersion(3);
          chunks[0].setSize(16ull << 20);
          std::array<uint8_t, 32> sha{};
          sha[0] = 0xab;
          sha[31] = 0x01;
          chunks[0].setSha256(capnp::Data::Reader(sha.data(), sha.size()));
          auto c0 = chunks[0].initCopies(2);
          fill_copy(c0[0], kBackend1, "fs1-b1", kServer1, "fs1", "127.0.0.1:4001",
                    proto::CopyState::CURRENT, 3);
          fill_copy(c0[1], kBackend2, "fs2-b1", kServer2, "fs2", "127.0.0.1:4002",
                    proto::CopyState::OUTDATED, 2);
          chunks[1].setIndex(1);
          chunks[1].setUuid(kChunk1.data());
          chunks[1].setVersion(1);
          chunks[1].setSize(100);
          chunks[1].setSha256(capnp::Data::Reader(sha.data(), sha.size()));
          fill_copy(chunks[1].initCopies(1)[0], kBackend1, "fs1-b1", kServer1, "fs1",
                    "127.0.0.1:4001", proto::CopyState::CURRENT, 1);
        } else if (path == "/small") {
          a.setSize(5);
          fi.setInline(true);
        } else if (path == "/d") {
          a.setType(proto::FileType::DIRECTORY);
          a.setMode(0755);
          a.setNlink(2);
        } else {
          throw Error(Errc::not_found, "no such file: " + path);
        }
        co_return;
      }
      case proto::Request::WHY:
        serve_why(req, resp, *seen_);
        co_return;
      case proto::Request::PLAN:
        seen_->plan_chains.clear();
        seen_->plan_rules.clear();
        seen_->plan_copies.clear();
        for (auto c : req.getPlan().getChains()) {
          seen_->plan_chains.push_back(c.getName());
          seen_->plan_copies.push_back(c.getCopies());
          std::vector<std::string> rules;
          for (auto r : c.getRules()) rules.push_back(r);
          seen_->plan_rules.push_back(rules);
          if (!rules.empty() && rules.back() == "size > 1X use tier:hdd")
            throw Error(Errc::invalid, kRuleError);
        }
        serve_plan(resp.initPlan());
        co_return;
      case proto::Request::JOBS:
        serve_jobs(resp.initJobs(), *seen_);
        co_return;
      case proto::Request::SERVER_MAINTENANCE:
        seen_->server = req.getServerMaintenance().getName();
        seen_->on = req.getServerMaintenance().getOn();
        if (seen_->server != "fs1") throw Error(Errc::not_found, "no server " + seen_->server);
        resp.setDone();
        co_return;
      case proto::Request::SERVER_DRAIN:
        seen_->server = req.getServerDrain();
        if (seen_->server != "fs1") throw Error(Errc::not_found, "no server " + seen_->server);
        resp.setDone();
        co_return;
      default:
        serve_chains(req, resp, *seen_);
        co_return;
    }
  }

 private:
  Seen* seen_;
};

}  // namespace

void AdminCommands::SetUp() {
  setenv("TZ", "UTC", 1);
  tzset();
  server_ = std::make_unique<RpcServer>(
      io_, "127.0.0.1:0",
      [this](const std::string&) { return std::make_shared<FakeController>(&seen_); },
      "fake-controller");
  server_->start();
  thread_ = std::thread([this] { io_.run(); });
  address_ = "127.0.0.1:" + std::to_string(server_->port());
}

void AdminCommands::TearDown() {
  server_->stop();
  work_.reset();
  io_.stop();
  thread_.join();
}

}  // namespace zhsm::admin
