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
            "CHAIN    COPIES  ACK  STRIPE  RULES  DIRECTORIES\n"
            "cold          2    1       1      1  /archive, /old\n"
            "default       1    1       1      2\n");
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
            "ack          a close waits for 1 copy\n"
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
  run_chain_create(link, "warm", 3, 1, 1, false, out);
  EXPECT_EQ(seen_.chain, "warm");
  EXPECT_EQ(seen_.copies, 3u);
  EXPECT_EQ(out.str(), "chain warm created, 3 copies, no rules\n");

  std::ostringstream js;
  run_chain_create(link, "one", 1, 4, 2, true, js);
  EXPECT_EQ(seen_.copies, 1u);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["chain"], "one");
  EXPECT_EQ(j["copies"], 1);
  EXPECT_EQ(j["created"], true);
  EXPECT_EQ(j["stripe"], 4);
  EXPECT_EQ(j["ack"], 2);
  EXPECT_EQ(seen_.ack, 2u) << "the ack is sent";
  std::ostringstream with_ack;
  run_chain_create(link, "sync", 2, 1, 2, false, with_ack);
  EXPECT_EQ(with_ack.str(), "chain sync created, 2 copies, a close waits for 2 copies, no rules\n");

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
    run_chain_create(link, "default", 1, 1, 1, false, out);
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
            "ack          a close waits for 1 copy\n"
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

TEST_F(AdminCommands, ChainSetSendsOnlyWhatChangesAndShowsTheChain) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_chain_set(link, "cold", 0, 0, 2, false, out);
  EXPECT_EQ(seen_.chain, "cold");
  EXPECT_EQ(seen_.copies, 0u) << "0: unchanged";
  EXPECT_EQ(seen_.stripe, 0u);
  EXPECT_EQ(seen_.ack, 2u);
  EXPECT_NE(out.str().find("ack          a close waits for 2 copies\n"), std::string::npos)
      << out.str();
  std::ostringstream js;
  run_chain_set(link, "cold", 3, 0, 0, true, js);
  EXPECT_EQ(nlohmann::json::parse(js.str())["copies"], 3);
  try {
    std::ostringstream none;
    seen_.chain.clear();
    run_chain_set(link, "cold", 0, 0, 0, false, none);
    FAIL() << "a set without numbers was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    EXPECT_EQ(seen_.chain, "") << "nothing was sent";
  }
}

TEST(PlanEdit, AppliesTheEditToTheStoredChain) {
  ChainDraft stored{"cold", 2, 1, 1, {"size > 1G use tier:hdd", "use any"}};
  PlanEdit edit;
  edit.chain = "cold";
  edit.add = "use tier:ssd";
  edit.at = 1;
  ChainDraft d = apply_plan_edit(stored, edit);
  EXPECT_EQ(d.rules,
            (std::vector<std::string>{"use tier:ssd", "size > 1G use tier:hdd", "use any"}));
  EXPECT_EQ(d.copies, 2u) << "as stored";

  edit = PlanEdit{};
  edit.chain = "cold";
  edit.remove = 1;
  edit.add = "use fs9-b1";  // appended after the removal
  edit.copies = 3;
  edit.ack = 2;
  d = apply_plan_edit(stored, edit);
  EXPECT_EQ(d.rules, (std::vector<std::string>{"use any", "use fs9-b1"}));
  EXPECT_EQ(d.copies, 3u);
  EXPECT_EQ(d.ack, 2u);
  EXPECT_EQ(d.stripe, 1u);

  edit = PlanEdit{};
  edit.chain = "new";
  edit.rules = std::vector<std::string>{"use tier:hdd", "use tier:hdd"};
  edit.copies = 2;
  d = apply_plan_edit(std::nullopt, edit);
  EXPECT_EQ(d.name, "new");
  EXPECT_EQ(d.rules.size(), 2u);
  EXPECT_EQ(d.copies, 2u);

  edit = PlanEdit{};
  edit.chain = "cold";
  edit.remove = 3;
  EXPECT_THROW(apply_plan_edit(stored, edit), Error) << "there is no rule 3";
  edit.remove = 0;
  edit.add = "use any";
  edit.at = 4;
  EXPECT_THROW(apply_plan_edit(stored, edit), Error) << "position 4 is past the end";
}

TEST_F(AdminCommands, PlanPreviewSendsTheEditedChainAndSaysItIsAPreview) {
  ControllerLink link(address_);
  PlanEdit edit;
  edit.chain = "cold";
  edit.copies = 3;
  edit.add = "use tier:ssd";
  std::ostringstream out;
  run_plan(link, &edit, false, out);
  ASSERT_EQ(seen_.plan_chains, std::vector<std::string>{"cold"});
  EXPECT_EQ(seen_.plan_copies[0], 3u);
  EXPECT_EQ(seen_.plan_rules[0], (std::vector<std::string>{"use tier:hdd", "use tier:ssd"}))
      << "the stored rule, then the added one";
  EXPECT_EQ(out.str().rfind("PREVIEW: chain cold as if it were 3 copies (nothing is changed)\n"
                            "#  RULE\n"
                            "1  use tier:hdd\n"
                            "2  use tier:ssd\n"
                            "\n"
                            "MOVES\n",
                            0),
            0u)
      << out.str();

  std::ostringstream js;
  PlanEdit fresh;
  fresh.chain = "brandnew";  // not stored: the fake answers not_found
  fresh.rules = std::vector<std::string>{"use any"};
  run_plan(link, &fresh, true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["preview"]["name"], "brandnew");
  EXPECT_EQ(j["preview"]["rules"], nlohmann::json({"use any"}));
  EXPECT_EQ(j["moves"].size(), 3u);

  std::ostringstream plain;
  run_plan(link, nullptr, true, plain);
  EXPECT_TRUE(seen_.plan_chains.empty()) << "no preview: no chains sent";
  EXPECT_TRUE(nlohmann::json::parse(plain.str())["preview"].is_null());

  PlanEdit bad;
  bad.chain = "cold";
  bad.add = "size > 1X use tier:hdd";
  try {
    std::ostringstream none;
    run_plan(link, &bad, false, none);
    FAIL() << "a preview with a bad rule was answered";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    EXPECT_NE(std::string(e.what()).find("^"), std::string::npos) << "the caret is passed on";
  }
}

}  // namespace
}  // namespace zhsm::admin
