// Unit tests of zhsm-admin's subcommands against a fake controller on loopback
// (fake_controller.h): what goes over the wire, the tables, the JSON and the
// errors. The chain commands are in chain_test.cc.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "tools/admin/commands.h"
#include "tools/admin/fake_controller.h"

namespace zhsm::admin {
namespace {

TEST_F(AdminCommands, StatusTables) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_status(link, false, out);
  EXPECT_EQ(out.str(), "controller " + address_ +
                           "\n"
                           "\n"
                           "SERVERS\n"
                           "NAME  ADDRESS         STATE                  HEARTBEAT  LOAD\n"
                           "fs1   127.0.0.1:4001  on, draining           1.2 s ago     7\n"
                           "fs2   127.0.0.1:4002  maintenance           3m 12s ago     0\n"
                           "fs3   127.0.0.1:4003  failed, maintenance  50m 00s ago     0\n"
                           "\n"
                           "BACKENDS\n"
                           "NAME    SERVER  TIER      TOTAL     USED       FREE  OBJECTS\n"
                           "fs1-b1  fs1     ssd   100.0 GiB  3.0 MiB  100.0 GiB        7\n"
                           "fs2-b1  fs2     ssd     1.0 TiB      0 B    1.0 TiB        0\n"
                           "\n"
                           "TOTALS\n"
                           "files         12\n"
                           "directories   3\n"
                           "data objects  7\n"
                           "data bytes    3.0 MiB\n"
                           "clients       1\n"
                           "open tokens   2\n"
                           "copy jobs     4 queued, 1 running\n"
                           "\n"
                           "PROBLEMS (rules that cannot be met; no copy is dropped because of them)\n"
                           "! chain default rule 1 (use tier:tape): no usable backend\n"
                           "! chain cold wants 2 copies, the rules place 1\n"
                           "... and 3 more (zhsm-admin plan)\n");
}

TEST_F(AdminCommands, StatusJsonHasExactNumbers) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_status(link, true, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["controller"], address_);
  ASSERT_EQ(j["servers"].size(), 3u);
  EXPECT_EQ(j["servers"][0]["name"], "fs1");
  EXPECT_EQ(j["servers"][0]["id"], kServer1.str());
  EXPECT_EQ(j["servers"][0]["state"], "on");
  EXPECT_EQ(j["servers"][0]["heartbeat_age_ms"], 1200);
  EXPECT_EQ(j["servers"][0]["backends"][0]["total_bytes"], 100ull << 30);
  EXPECT_EQ(j["servers"][0]["backends"][0]["free_bytes"], (100ull << 30) - (3ull << 20));
  EXPECT_EQ(j["servers"][0]["backends"][0]["objects"], 7);
  EXPECT_EQ(j["servers"][0]["backends"][0]["id"], kBackend1.str());
  EXPECT_EQ(j["servers"][0]["draining"], true);
  EXPECT_EQ(j["servers"][0]["maintenance"], false);
  EXPECT_EQ(j["servers"][1]["state"], "maintenance");
  EXPECT_EQ(j["servers"][1]["maintenance"], true);
  EXPECT_EQ(j["servers"][1]["draining"], false);
  EXPECT_EQ(j["servers"][2]["state"], "failed");
  EXPECT_EQ(j["servers"][2]["maintenance"], true);
  EXPECT_EQ(j["totals"]["data_bytes"], 3ull << 20);
  EXPECT_EQ(j["totals"]["open_tokens"], 2);
  EXPECT_EQ(j["totals"]["files"], 12);
  EXPECT_EQ(j["totals"]["jobs_queued"], 4);
  EXPECT_EQ(j["totals"]["jobs_running"], 1);
  EXPECT_EQ(j["servers"][0]["load"], 7);
  EXPECT_EQ(j["problems"].size(), 2u);
  EXPECT_EQ(j["problem_count"], 5);
}

TEST_F(AdminCommands, FileInfoChunked) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_file_info(link, "/big", false, out);
  EXPECT_EQ(seen_.path, "/big");
  EXPECT_EQ(out.str(),
            "path        /big\n"
            "inode       42\n"
            "fsid        f0f0f0f0-0000-4000-8000-000000000001\n"
            "type        regular\n"
            "mode        0644 (-rw-r--r--)\n"
            "links       1\n"
            "owner       uid 1000, gid 100\n"
            "size        16.0 MiB (16777316 bytes)\n"
            "modified    2023-11-14 22:13:20.000000000 +0000\n"
            "changed     2023-11-14 22:13:20.000000000 +0000\n"
            "accessed    2023-11-14 22:13:20.000000000 +0000\n"
            "version     5\n"
            "data        chunked, 2 data objects\n"
            "chunk size  16.0 MiB (16777216 bytes)\n"
            "\n"
            "DATA OBJECTS\n"
            "INDEX  UUID                                  VERSION      SIZE  SHA256\n"
            "    0  c0c0c0c0-0000-4000-8000-000000000000        3  16.0 MiB  "
            "ab00000000000000000000000000000000000000000000000000000000000001\n"
            "    1  c1c1c1c1-0000-4000-8000-000000000001        1     100 B  "
            "ab00000000000000000000000000000000000000000000000000000000000001\n"
            "\n"
            "COPIES\n"
            "INDEX  BACKEND  SERVER  ADDRESS         STATE     VERSION\n"
            "    0  fs1-b1   fs1     127.0.0.1:4001  current         3\n"
            "    0  fs2-b1   fs2     127.0.0.1:4002  outdated        2\n"
            "    1  fs1-b1   fs1     127.0.0.1:4001  current         1\n");
}

TEST_F(AdminCommands, FileInfoChunkedJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_file_info(link, "/big", true, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["path"], "/big");
  EXPECT_EQ(j["ino"], 42);
  EXPECT_EQ(j["fsid"], kFile.str());
  EXPECT_EQ(j["type"], "regular");
  EXPECT_EQ(j["mode"], 0644);
  EXPECT_EQ(j["size"], (16ull << 20) + 100);
  EXPECT_EQ(j["inline"], false);
  EXPECT_EQ(j["chunk_size"], 16ull << 20);
  ASSERT_EQ(j["chunks"].size(), 2u);
  EXPECT_EQ(j["chunks"][0]["uuid"], kChunk0.str());
  EXPECT_EQ(j["chunks"][0]["size"], 16ull << 20);
  EXPECT_EQ(j["chunks"][0]["sha256"],
            "ab00000000000000000000000000000000000000000000000000000000000001");
  ASSERT_EQ(j["chunks"][0]["copies"].size(), 2u);
  EXPECT_EQ(j["chunks"][0]["copies"][1]["backend"], kBackend2.str());
  EXPECT_EQ(j["chunks"][0]["copies"][1]["backend_name"], "fs2-b1");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["server"], kServer2.str());
  EXPECT_EQ(j["chunks"][0]["copies"][1]["server_name"], "fs2");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["address"], "127.0.0.1:4002");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["state"], "outdated");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["version"], 2);
}

TEST_F(AdminCommands, FileInfoInlineAndDirectory) {
  ControllerLink link(address_);
  std::ostringstream small;
  run_file_info(link, "/small", false, small);
  EXPECT_NE(small.str().find("data        inline (kept in the database)\n"), std::string::npos);
  EXPECT_EQ(small.str().find("DATA OBJECTS"), std::string::npos);

  std::ostringstream dir;
  run_file_info(link, "/d", false, dir);
  EXPECT_NE(dir.str().find("mode      0755 (drwxr-xr-x)\n"), std::string::npos);
  EXPECT_EQ(dir.str().find("chunk size"), std::string::npos);
  EXPECT_EQ(dir.str().find("DATA OBJECTS"), std::string::npos);
}

TEST_F(AdminCommands, NotFoundIsAnErrorWithItsCode) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_file_info(link, "/nope", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_NE(std::string(e.what()).find("/nope"), std::string::npos);
  }
  EXPECT_EQ(out.str(), "");
}

TEST_F(AdminCommands, WhyChunked) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_why(link, "/big", false, out);
  EXPECT_EQ(seen_.path, "/big");
  EXPECT_EQ(out.str(),
            "path           /big\n"
            "size           16.0 MiB (16777316 bytes)\n"
            "data           chunked, 2 data objects\n"
            "chain          cold (named by /archive)\n"
            "copies wanted  2\n"
            "\n"
            "STEPS\n"
            "CHAIN  #  RULE                    MATCHED  OUTCOME\n"
            "cold   1  size > 1G jump default  no       condition not met\n"
            "cold   2  use tier:ssd            yes      copy on fs1-b1\n"
            "cold   3  use any                 yes      copy on fs2-b1\n"
            "\n"
            "WANTED\n"
            "BACKEND  SERVER  ADDRESS\n"
            "fs1-b1   fs1     127.0.0.1:4001\n"
            "fs2-b1   fs2     127.0.0.1:4002\n"
            "\n"
            "COPIES NOW\n"
            "INDEX  VERSION  BACKEND  SERVER  STATE\n"
            "    0        3  fs1-b1   fs1     current\n"
            "    0        3  fs2-b1   fs2     outdated\n"
            "    1        1  -        -       no copy\n");
}

TEST_F(AdminCommands, WhyChunkedJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_why(link, "/big", true, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["path"], "/big");
  EXPECT_EQ(j["chain"], "cold");
  EXPECT_EQ(j["chain_from"], "/archive");
  EXPECT_EQ(j["copies"], 2);
  EXPECT_EQ(j["size"], (16ull << 20) + 100);
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["inline"], false);
  ASSERT_EQ(j["steps"].size(), 3u);
  EXPECT_EQ(j["steps"][0]["chain"], "cold");
  EXPECT_EQ(j["steps"][0]["position"], 1);
  EXPECT_EQ(j["steps"][0]["rule"], "size > 1G jump default");
  EXPECT_EQ(j["steps"][0]["matched"], false);
  EXPECT_EQ(j["steps"][2]["outcome"], "copy on fs2-b1");
  ASSERT_EQ(j["wanted"].size(), 2u);
  EXPECT_EQ(j["wanted"][1]["backend"], kBackend2.str());
  EXPECT_EQ(j["wanted"][1]["backend_name"], "fs2-b1");
  EXPECT_EQ(j["wanted"][1]["server_name"], "fs2");
  EXPECT_EQ(j["problems"], nlohmann::json::array());
  ASSERT_EQ(j["chunks"].size(), 2u);
  EXPECT_EQ(j["chunks"][0]["uuid"], kChunk0.str());
  EXPECT_EQ(j["chunks"][0]["copies"][1]["state"], "outdated");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["version"], 2);
  EXPECT_EQ(j["chunks"][1]["copies"], nlohmann::json::array());
}

TEST_F(AdminCommands, WhyInlineWithProblem) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_why(link, "/small", false, out);
  EXPECT_EQ(out.str(),
            "path           /small\n"
            "size           5 B (5 bytes)\n"
            "data           inline: the data is in the database, no copies\n"
            "chain          default (default: no directory above names a chain)\n"
            "copies wanted  1\n"
            "\n"
            "STEPS\n"
            "CHAIN    #  RULE           MATCHED  OUTCOME\n"
            "default  1  use tier:tape  yes      no usable backend for tier:tape\n"
            "\n"
            "WANTED\n"
            "BACKEND  SERVER  ADDRESS\n"
            "(none)\n"
            "\n"
            "PROBLEMS (copies outside WANTED are kept while there are any)\n"
            "! default #1 use tier:tape: no usable backend for tier:tape\n"
            "\n"
            "COPIES NOW\n"
            "none: the data is inline, in the database\n");

  std::ostringstream js;
  run_why(link, "/small", true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_TRUE(j["chain_from"].is_null());
  EXPECT_EQ(j["inline"], true);
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["problems"],
            nlohmann::json({"default #1 use tier:tape: no usable backend for tier:tape"}));
}

TEST_F(AdminCommands, WhyNotFound) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_why(link, "/nope", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_EQ(std::string(e.what()), "why /nope: no such file: /nope");
  }
}

TEST_F(AdminCommands, PlanTable) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_plan(link, nullptr, false, out);
  EXPECT_EQ(out.str(),
            "MOVES\n"
            "FROM        TO         OBJECTS    BYTES  WAKES\n"
            "fs1-b1      fs2-b1          12  3.0 GiB  fs2\n"
            "(new copy)  fs3-b1           1   1000 B\n"
            "fs2-b1      (dropped)        2  2.0 KiB\n"
            "\n"
            "TOTALS\n"
            "moves             3\n"
            "objects           15\n"
            "bytes             3.0 GiB (3221228520 bytes)\n"
            "objects examined  40\n"
            "\n"
            "PROBLEMS\n"
            "! /x: default #1 use tier:tape: no usable backend for tier:tape\n");
}

TEST_F(AdminCommands, PlanJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_plan(link, nullptr, true, out);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["moves"].size(), 3u);
  EXPECT_EQ(j["moves"][0]["from"], "fs1-b1");
  EXPECT_EQ(j["moves"][0]["to"], "fs2-b1");
  EXPECT_EQ(j["moves"][0]["objects"], 12);
  EXPECT_EQ(j["moves"][0]["bytes"], 3ull << 30);
  EXPECT_EQ(j["moves"][0]["wakes"], nlohmann::json({"fs2"}));
  EXPECT_TRUE(j["moves"][1]["from"].is_null());
  EXPECT_TRUE(j["moves"][2]["to"].is_null());
  EXPECT_EQ(j["totals"]["objects"], 15);
  EXPECT_EQ(j["totals"]["bytes"], (3ull << 30) + 1000 + 2048);
  EXPECT_EQ(j["objects_examined"], 40);
  EXPECT_EQ(j["problems"].size(), 1u);
}

TEST_F(AdminCommands, JobsTable) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_jobs(link, false, out);
  EXPECT_EQ(out.str(),
            "KIND  OBJECT    FROM    TO         BYTES  STATE                PROGRESS       RATE    "
            "ETA  REASON         AGE\n"
            "copy  c0c0c0c0  fs1-b1  fs2-b1  16.0 MiB  running  25% 4.0 MiB/16.0 MiB  2.0 MiB/s  "
            "6.0 s  repair 1/2   4.2 s\n"
            "drop  c1c1c1c1  fs2-b1  -          100 B  queued                      -          -      "
            "-  move 2/2    350 ms\n"
            "\n"
            "queued 1, running 1, rate 5.0 MiB/s, bandwidth limit 100.0 MiB/s per server, "
            "12.0 MiB left, done in 3.0 s\n");
}

TEST_F(AdminCommands, JobsJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_jobs(link, true, out);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["jobs"].size(), 2u);
  EXPECT_EQ(j["jobs"][0]["kind"], "copy");
  EXPECT_EQ(j["jobs"][0]["uuid"], kChunk0.str());
  EXPECT_EQ(j["jobs"][0]["from"], "fs1-b1");
  EXPECT_EQ(j["jobs"][0]["to"], "fs2-b1");
  EXPECT_EQ(j["jobs"][0]["bytes"], 16ull << 20);
  EXPECT_EQ(j["jobs"][0]["state"], "running");
  EXPECT_EQ(j["jobs"][0]["age_ms"], 4200);
  EXPECT_EQ(j["jobs"][1]["to"], "");
  EXPECT_EQ(j["queued"], 1);
  EXPECT_EQ(j["running"], 1);
  EXPECT_EQ(j["bytes_done"], 1ull << 30);
  EXPECT_EQ(j["bytes_per_second"], 5ull << 20);
  EXPECT_EQ(j["bandwidth_limit"], 100ull << 20);
  EXPECT_EQ(j["bytes_left"], 12ull << 20) << "copies only, less what the running one copied";
  EXPECT_EQ(j["eta_seconds"], 3) << "12 MiB at 5 MiB/s, rounded up";
  EXPECT_EQ(j["jobs"][0]["bytes_done"], 4ull << 20);
  EXPECT_EQ(j["jobs"][0]["bytes_per_second"], 2ull << 20);
  EXPECT_EQ(j["jobs"][0]["eta_ms"], 6000);
  EXPECT_EQ(j["jobs"][0]["reason"], "repair");
  EXPECT_EQ(j["jobs"][0]["current"], 1);
  EXPECT_EQ(j["jobs"][0]["wanted"], 2);
  EXPECT_TRUE(j["jobs"][1]["eta_ms"].is_null()) << "queued: no time left known";
}

TEST_F(AdminCommands, NoJobs) {
  seen_.no_jobs = true;
  ControllerLink link(address_);
  std::ostringstream out;
  run_jobs(link, false, out);
  EXPECT_EQ(out.str(),
            "no jobs\n"
            "\n"
            "queued 0, running 0, rate 0 B/s, bandwidth limit unlimited\n");
  std::ostringstream js;
  run_jobs(link, true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["jobs"], nlohmann::json::array());
  EXPECT_EQ(j["bandwidth_limit"], 0);
}

TEST_F(AdminCommands, ServerMaintenanceAndDrain) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_server_maintenance(link, "fs1", true, false, out);
  EXPECT_EQ(seen_.server, "fs1");
  EXPECT_TRUE(seen_.on);
  run_server_maintenance(link, "fs1", false, false, out);
  EXPECT_FALSE(seen_.on);
  run_server_drain(link, "fs1", false, out);
  EXPECT_EQ(out.str(),
            "server fs1: maintenance on\n"
            "server fs1: maintenance off\n"
            "server fs1: draining (see zhsm-admin jobs)\n");

  std::ostringstream js;
  run_server_maintenance(link, "fs1", true, true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["server"], "fs1");
  EXPECT_EQ(j["maintenance"], true);
  std::ostringstream dj;
  run_server_drain(link, "fs1", true, dj);
  EXPECT_EQ(nlohmann::json::parse(dj.str())["draining"], true);

  try {
    run_server_drain(link, "fs9", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_EQ(std::string(e.what()), "drain server fs9: no server fs9");
  }
}

TEST(AdminCommandsNoController, UnreachableControllerIsDisconnected) {
  // Bind and close a socket to find a port nobody listens on.
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string address = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  a.close();
  ControllerLink link(address, std::chrono::seconds(5));
  std::ostringstream out;
  try {
    run_status(link, false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::disconnected) << e.what();
    EXPECT_NE(std::string(e.what()).find(address), std::string::npos);
  }
}

}  // namespace
}  // namespace zhsm::admin
