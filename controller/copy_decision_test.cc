// decide_copies: what the chains want copied and dropped for one file, given its copies and
// the servers (controller/copy_decision.h).
#include "controller/copy_decision.h"

#include <gtest/gtest.h>

#include <set>

namespace zhsm {
namespace {

constexpr int64_t kNow = 1'000'000'000;
constexpr uint64_t kGiB = 1ull << 30;

class CopyDecisionTest : public ::testing::Test {
 protected:
  // Server fsK with backend fsK-b1 (tier `tier`), live unless said otherwise.
  Uuid add_server(int k, const std::string& tier = "hdd", int64_t silent_ms = 0) {
    ServerState s;
    s.id = Uuid::random();
    s.name = "fs" + std::to_string(k);
    s.address = "127.0.0.1:" + std::to_string(9000 + k);
    s.last_heartbeat_ms = kNow - silent_ms;
    BackendReport b;
    b.id = Uuid::random();
    b.name = s.name + "-b1";
    b.tier = tier;
    b.free_bytes = kGiB * (10 + k);  // fs3 has the most room
    b.total_bytes = 100 * kGiB;
    s.backends.push_back(b);
    servers_.push_back(s);
    return b.id;
  }
  ServerState& server(int k) { return servers_[k - 1]; }

  void chain(const std::string& name, uint32_t copies, const std::vector<std::string>& rules) {
    std::vector<std::string> errors;
    auto parsed = parse_chains({ChainRow{name, copies, 1, 1, rules, {}}}, &errors);
    ASSERT_TRUE(errors.empty()) << errors[0];
    chains_[name] = parsed[name];
  }

  // A one-chunk file with copies on the given backends.
  void file_with(const std::vector<std::pair<Uuid, proto::CopyState>>& copies,
                 uint64_t version = 5) {
    file_ = PlacementFile{};
    file_.attr.ino = 42;
    file_.attr.size = 1000;
    file_.path = "/dir/f";
    ChunkInfo c;
    c.uuid = Uuid::random();
    c.version = version;
    c.size = 1000;
    c.sha256 = std::string(32, 's');
    for (const auto& [backend, state] : copies) {
      CopyInfo copy;
      copy.backend = backend;
      for (const auto& s : servers_)
        for (const auto& b : s.backends)
          if (b.id == backend) {
            copy.backend_name = b.name;
            copy.server = s.id;
            copy.server_name = s.name;
            copy.address = s.address;
          }
      copy.state = state;
      copy.version = state == proto::CopyState::CURRENT ? version : version - 1;
      c.copies.push_back(copy);
    }
    file_.chunks = {c};
  }

  FileDecision decide() {
    CopyDecisionOptions o;
    o.heartbeat_timeout_ms = 10000;
    o.repair_grace_ms = 60000;
    return decide_copies(file_, chains_, servers_, kNow, o);
  }

  static std::vector<std::string> describe(const FileDecision& d) {
    std::vector<std::string> out;
    for (const auto& a : d.actions)
      out.push_back((a.kind == CopyActionKind::kCopy ? "copy to " : "drop ") + a.backend_name);
    return out;
  }

  std::vector<ServerState> servers_;
  std::map<std::string, Chain> chains_;
  PlacementFile file_;
};

constexpr auto kCurrent = proto::CopyState::CURRENT;
constexpr auto kOutdated = proto::CopyState::OUTDATED;
constexpr auto kTarget = proto::CopyState::TARGET;

TEST_F(CopyDecisionTest, OneCopyWhereItIsNeedsNothing) {
  Uuid b1 = add_server(1);
  add_server(2);
  add_server(3);
  chain("default", 1, {"use any"});
  file_with({{b1, kCurrent}});
  FileDecision d = decide();
  EXPECT_TRUE(d.actions.empty()) << testing::PrintToString(describe(d));
  EXPECT_TRUE(d.problems.empty());
  EXPECT_EQ(d.chain, "default");
}

TEST_F(CopyDecisionTest, ASecondCopyGoesToAnotherServerFromTheCurrentOne) {
  Uuid b1 = add_server(1);
  add_server(2);
  add_server(3);
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}});
  FileDecision d = decide();
  ASSERT_EQ(describe(d), std::vector<std::string>{"copy to fs3-b1"}) << "the most free space";
  ASSERT_EQ(d.actions[0].sources.size(), 1u);
  EXPECT_EQ(d.actions[0].sources[0].backend, b1);
}

TEST_F(CopyDecisionTest, ActionsSayHowEndangeredTheObjectIs) {
  Uuid b1 = add_server(1);
  Uuid b2 = add_server(2);
  add_server(3);
  chain("default", 3, {"use any", "use any", "use any"});
  file_with({{b1, kCurrent}, {b2, kOutdated}});
  FileDecision d = decide();
  ASSERT_EQ(d.actions.size(), 2u) << testing::PrintToString(describe(d));
  for (const auto& a : d.actions) {
    EXPECT_EQ(a.current, 1u);
    EXPECT_EQ(a.wanted, 3u);
    EXPECT_EQ(a.update, a.backend == b2) << a.backend_name << ": holds an older copy";
  }
  ASSERT_EQ(d.chunks.size(), 1u);
  EXPECT_EQ(d.chunks[0].evaluation.ack, 1u) << "a close waits for one copy unless asked";
}

TEST_F(CopyDecisionTest, UnwantedCopiesGoOnlyOnceEveryWantedCopyIsCurrent) {
  Uuid b1 = add_server(1, "ssd");
  Uuid b2 = add_server(2);
  Uuid b3 = add_server(3);
  chain("default", 2, {"use tier:hdd", "use tier:hdd"});
  file_with({{b1, kCurrent}, {b2, kCurrent}, {b3, kTarget}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"copy to fs3-b1"}) << "copy first";
  file_with({{b1, kCurrent}, {b2, kCurrent}, {b3, kCurrent}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"drop fs1-b1"}) << "then drop";
}

TEST_F(CopyDecisionTest, AProblemDropsNothing) {
  Uuid b1 = add_server(1, "ssd");
  Uuid b2 = add_server(2);
  chain("default", 1, {"use nosuch"});
  file_with({{b1, kCurrent}, {b2, kCurrent}});
  FileDecision d = decide();
  EXPECT_TRUE(d.actions.empty()) << testing::PrintToString(describe(d));
  ASSERT_FALSE(d.problems.empty());
  EXPECT_NE(d.problems[0].find("nosuch"), std::string::npos) << d.problems[0];
}

TEST_F(CopyDecisionTest, AnOutdatedCopyIsBroughtUpToDateInPlace) {
  Uuid b1 = add_server(1);
  Uuid b2 = add_server(2);
  add_server(3);  // the most free space, but holds nothing
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}, {b2, kOutdated}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"copy to fs2-b1"});
}

TEST_F(CopyDecisionTest, ACopyUnderWayKeepsItsPlace) {
  Uuid b1 = add_server(1);
  Uuid b2 = add_server(2);
  add_server(3);  // more free space now, but the copy to fs2 is already running
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}, {b2, kTarget}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"copy to fs2-b1"});
}

TEST_F(CopyDecisionTest, AServerAwayKeepsItsPlaceUntilItIsLost) {
  Uuid b1 = add_server(1);
  Uuid b2 = add_server(2, "hdd", 20000);  // offline for 20 s: away, not lost
  add_server(3);
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}, {b2, kOutdated}});
  FileDecision d = decide();
  EXPECT_TRUE(d.actions.empty()) << "no copy elsewhere while fs2 may come back: "
                                 << testing::PrintToString(describe(d));
  EXPECT_EQ(d.waits, std::vector<std::string>{"fs2"});

  server(2).last_heartbeat_ms = kNow - 120000;  // past the repair grace: lost
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"copy to fs3-b1"});

  server(2).maintenance = true;  // a planned absence is never lost
  EXPECT_TRUE(decide().actions.empty());
}

TEST_F(CopyDecisionTest, ALostServersCopyIsDroppedOnceReplaced) {
  Uuid b1 = add_server(1);
  Uuid b2 = add_server(2, "hdd", 120000);
  Uuid b3 = add_server(3);
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}, {b2, kCurrent}, {b3, kCurrent}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"drop fs2-b1"});
}

TEST_F(CopyDecisionTest, DrainingMovesEverythingOff) {
  Uuid b1 = add_server(1);
  add_server(2);
  Uuid b3 = add_server(3);
  server(1).draining = true;
  chain("default", 1, {"use any"});
  file_with({{b1, kCurrent}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"copy to fs3-b1"});
  file_with({{b1, kCurrent}, {b3, kCurrent}});
  EXPECT_EQ(describe(decide()), std::vector<std::string>{"drop fs1-b1"});
}

TEST_F(CopyDecisionTest, NoReachableSourceIsAProblem) {
  Uuid b1 = add_server(1, "hdd", 20000);  // away, holds the only current copy
  add_server(2);
  add_server(3);
  chain("default", 2, {"use any", "use any"});
  file_with({{b1, kCurrent}});
  FileDecision d = decide();
  EXPECT_TRUE(d.actions.empty());
  ASSERT_FALSE(d.problems.empty());
  EXPECT_NE(d.problems[0].find("no current copy on a reachable server"), std::string::npos)
      << d.problems[0];
  EXPECT_EQ(d.waits, std::vector<std::string>{"fs1"}) << "the source to wake";
}

TEST_F(CopyDecisionTest, FilesUseTheChainTheirDirectoryNames) {
  Uuid b1 = add_server(1, "ssd");
  add_server(2);
  chain("default", 1, {"use tier:ssd"});
  chain("cold", 1, {"use tier:hdd"});
  file_with({{b1, kCurrent}});
  file_.chain = "cold";
  FileDecision d = decide();
  EXPECT_EQ(d.chain, "cold");
  EXPECT_EQ(describe(d), std::vector<std::string>{"copy to fs2-b1"});
}

TEST_F(CopyDecisionTest, AStripeSpreadsNewObjectsAndKeepsPlacedOnes) {
  add_server(1);
  add_server(2);
  add_server(3);
  chain("wide", 1, {"use any"});
  chains_["wide"].stripe = 3;
  std::vector<BackendFacts> backends =
      new_data_backends(servers_, kNow, CopyDecisionOptions{}, 0);
  FileFacts facts;
  std::vector<Uuid> chosen;
  for (uint64_t i = 0; i < 4; ++i) {
    facts.chunk_index = i;
    Evaluation ev = evaluate_chains(chains_, "wide", facts, backends);
    ASSERT_EQ(ev.backends.size(), 1u);
    chosen.push_back(ev.backends[0]);
  }
  EXPECT_EQ(std::set<Uuid>(chosen.begin(), chosen.begin() + 3).size(), 3u) << "three backends";
  EXPECT_EQ(chosen[3], chosen[0]) << "object 3 goes where object 0 went";
  EXPECT_LT(chosen[0], chosen[1]) << "in UUID order";
  EXPECT_LT(chosen[1], chosen[2]);

  // An object already placed stays where it is.
  facts.chunk_index = 1;
  for (auto& b : backends) b.holds_current = b.id == chosen[2];
  EXPECT_EQ(evaluate_chains(chains_, "wide", facts, backends).backends[0], chosen[2]);
}

}  // namespace
}  // namespace zhsm
