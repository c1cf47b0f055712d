// The fake controller zhsm-admin's command tests run against: an RpcServer on
// loopback whose handler answers every admin request from fixed data (below and in
// fake_controller.cc) and remembers what it was asked. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/rpc_server.h"
#include "common/uuid.h"

namespace zhsm::admin {

inline const Uuid kServer1 = *Uuid::parse("11111111-1111-4111-8111-111111111111");
inline const Uuid kServer2 = *Uuid::parse("22222222-2222-4222-8222-222222222222");
inline const Uuid kServer3 = *Uuid::parse("33333333-3333-4333-8333-333333333333");
inline const Uuid kBackend1 = *Uuid::parse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
inline const Uuid kBackend2 = *Uuid::parse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
inline const Uuid kFile = *Uuid::parse("f0f0f0f0-0000-4000-8000-000000000001");
inline const Uuid kChunk0 = *Uuid::parse("c0c0c0c0-0000-4000-8000-000000000000");
inline const Uuid kChunk1 = *Uuid::parse("c1c1c1c1-0000-4000-8000-000000000001");

// The controller's answer to chainAddRule "size > 1X use tier:hdd": a rule that does
// not parse, in three lines (the rule, a caret under the bad word, the reason).
inline const char* const kRuleError =
    "size > 1X use tier:hdd\n"
    "       ^\n"
    "bad size '1X' (a number with K, M, G or T)";

// What the fake controller was last asked, and how it should answer jobs.
struct Seen {
  std::string path;  // fileInfo, why, chainSetDir
  std::string chain;
  std::string rule;
  uint32_t at = 0;
  uint32_t copies = 0;
  uint32_t stripe = 0;
  uint32_t ack = 0;
  // plan: the chains of its preview (name, copies, ack and rules of each)
  std::vector<std::string> plan_chains;
  std::vector<std::vector<std::string>> plan_rules;
  std::vector<uint32_t> plan_copies;
  std::string server;
  bool on = false;
  bool no_jobs = false;  // answer jobs with an empty list
};

// Starts the fake controller (fake_controller.cc says what it serves) on a free
// loopback port (`address_`) with TZ=UTC, and stops it after the test.
class AdminCommands : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<RpcServer> server_;
  std::thread thread_;
  std::string address_;
  Seen seen_;
};

}  // namespace zhsm::admin
