// Unit tests of `zhsm-admin chain ...` against the fake controller
// (fake_controller.h): the requests sent (rule words joined, `-` of set-dir as an
// empty name), the chain tables and JSON, and controller errors passed on whole.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "tools/admin/commands.h"
#include "tools/admin/fake_controller.h"

namespace zhsm::admin {
namespace {

TEST_F(AdminCommands, ChainListTable) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_list(link, false, out);
  EXPECT_EQ(out.str(),
            "CHAIN    COPIES  RULES  DIRECTORIES\n"
            "cold          2      1  /archive, /old\n"
            "default       1      2\n");
}

TEST_F(AdminCommands, ChainListJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_list(link, true, out);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["chains"].size(), 2u);
  EXPECT_EQ(j["chains"][0]["name"], "cold");
  EXPECT_EQ(j["chains"][0]["copies"], 2);
  EXPECT_EQ(j["chains"][0]["rules"], nlohmann::json({"use tier:hdd"}));
  EXPECT_EQ(j["chains"][0]["directories"], nlohmann::json({"/archive", "/old"}));
  EXPECT_EQ(j["chains"][1]["directories"], nlohmann::json::array());
}

TEST_F(AdminCommands, ChainShowTableAndJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_show(link, "cold", false, out);
  EXPECT_EQ(seen_.chain, "cold");
  EXPECT_EQ(out.str(),
            "chain        cold\n"
            "copies       2\n"
            "directories  /archive, /old\n"
            "\n"
            "RULES\n"
            "#  RULE\n"
            "1  use tier:hdd\n");

  std::ostringstream js;
  run_chain_show(link, "cold", true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["name"], "cold");
  EXPECT_EQ(j["copies"], 2);
  EXPECT_EQ(j["rules"], nlohmann::json({"use tier:hdd"}));
  EXPECT_EQ(j["directories"], nlohmann::json({"/archive", "/old"}));
}

TEST_F(AdminCommands, ChainShowUnknownIsNotFound) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_chain_show(link, "warm", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_EQ(std::string(e.what()), "chain warm: no chain named warm");
  }
  EXPECT_EQ(out.str(), "");
}

TEST_F(AdminCommands, ChainCreateAndDelete) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_create(link, "warm", 3, 1, false, out);
  EXPECT_EQ(seen_.chain, "warm");
  EXPECT_EQ(seen_.copies, 3u);
  EXPECT_EQ(out.str(), "chain warm created, 3 copies, no rules\n");

  std::ostringstream js;
  run_chain_create(link, "one", 1, 4, true, js);
  EXPECT_EQ(seen_.copies, 1u);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["chain"], "one");
  EXPECT_EQ(j["copies"], 1);
  EXPECT_EQ(j["created"], true);
  EXPECT_EQ(j["stripe"], 4);

  std::ostringstream del;
  run_chain_delete(link, "warm", false, del);
  EXPECT_EQ(seen_.chain, "warm");
  EXPECT_EQ(del.str(), "chain warm deleted\n");
  std::ostringstream del_json;
  run_chain_delete(link, "warm", true, del_json);
  EXPECT_EQ(nlohmann::json::parse(del_json.str())["deleted"], true);
}

TEST_F(AdminCommands, ChainControllerErrorsPassThrough) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_chain_create(link, "default", 1, 1, false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::exists);
    EXPECT_EQ(std::string(e.what()), "create chain default: chain default exists");
  }
  try {
    run_chain_delete(link, "cold", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::busy);
    EXPECT_EQ(std::string(e.what()),
              "delete chain cold: chain cold is named by 2 directories (/archive, /old)");
  }
  EXPECT_EQ(out.str(), "");
}

TEST(JoinRuleWords, OneArgumentOrSeveralWords) {
  EXPECT_EQ(join_rule_words({"size > 1G use tier:hdd"}), "size > 1G use tier:hdd");
  EXPECT_EQ(join_rule_words({"size", ">", "1G", "use", "tier:hdd"}), "size > 1G use tier:hdd");
  EXPECT_EQ(join_rule_words({"path", "~", "\"/a b/*\"", "skip", "any"}),
            "path ~ \"/a b/*\" skip any");
  EXPECT_EQ(join_rule_words({}), "");
}

TEST_F(AdminCommands, ChainAddSendsTheJoinedRuleAndShowsTheChain) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_add(link, "default", join_rule_words({"name", "~", "*.iso", "use", "tier:hdd"}), 2,
                false, out);
  EXPECT_EQ(seen_.chain, "default");
  EXPECT_EQ(seen_.rule, "name ~ *.iso use tier:hdd");
  EXPECT_EQ(seen_.at, 2u);
  EXPECT_EQ(out.str(),
            "chain        default\n"
            "copies       1\n"
            "directories  (none)\n"
            "\n"
            "RULES\n"
            "#  RULE\n"
            "1  size > 1G use tier:hdd\n"
            "2  name ~ *.iso use tier:hdd\n"
            "3  use any\n");

  std::ostringstream js;
  run_chain_add(link, "default", "use tier:ssd", 0, true, js);
  EXPECT_EQ(seen_.at, 0u);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["name"], "default");
  EXPECT_EQ(j["rules"],
            nlohmann::json({"size > 1G use tier:hdd", "use any", "use tier:ssd"}));
}

TEST_F(AdminCommands, ChainAddRuleErrorIsShownWhole) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_chain_add(link, "default", "size > 1X use tier:hdd", 0, false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    // The context on a line of its own, then the controller's three lines as they came.
    EXPECT_EQ(std::string(e.what()), std::string("add a rule to chain default\n") + kRuleError);
  }
  EXPECT_EQ(out.str(), "");
}

TEST_F(AdminCommands, ChainRemoveShowsTheChain) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_remove(link, "default", 1, false, out);
  EXPECT_EQ(seen_.chain, "default");
  EXPECT_EQ(seen_.at, 1u);
  EXPECT_NE(out.str().find("RULES\n#  RULE\n1  use any\n"), std::string::npos) << out.str();

  std::ostringstream js;
  run_chain_remove(link, "default", 2, true, js);
  EXPECT_EQ(nlohmann::json::parse(js.str())["rules"], nlohmann::json({"size > 1G use tier:hdd"}));

  try {
    run_chain_remove(link, "default", 3, false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::range);
    EXPECT_EQ(std::string(e.what()), "remove rule 3 of chain default: chain default has 2 rules");
  }
}

TEST_F(AdminCommands, ChainSetDirAndInheritAgain) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_set_dir(link, "/archive", "cold", false, out);
  EXPECT_EQ(seen_.path, "/archive");
  EXPECT_EQ(seen_.chain, "cold");
  EXPECT_EQ(out.str(), "/archive: chain cold\n");

  // main.cc turns the CHAIN argument "-" into the empty name.
  std::ostringstream again;
  seen_.chain = "unchanged";
  run_chain_set_dir(link, "/archive", "", false, again);
  EXPECT_EQ(seen_.chain, "");
  EXPECT_EQ(again.str(), "/archive: no chain of its own, inherits its parent's again\n");

  std::ostringstream js;
  run_chain_set_dir(link, "/archive", "", true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["path"], "/archive");
  EXPECT_TRUE(j["chain"].is_null());
  std::ostringstream js2;
  run_chain_set_dir(link, "/old", "cold", true, js2);
  EXPECT_EQ(nlohmann::json::parse(js2.str())["chain"], "cold");
}

}  // namespace
}  // namespace zhsm::admin
