// zhsm-admin: the operator's command line. Reads the command line (CLI11),
// connects to the controller and runs one subcommand (commands.h). Exit status:
// 0 done, 1 the request failed (one line on stderr: "zhsm-admin: <what>
// (<errc_name>)", followed as is by the further lines of a message that has
// several, like a rule that does not parse), 2 the command line is wrong.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/rpc_server.h"
#include "tools/admin/commands.h"
#include "tools/admin/mount_path.h"

namespace {

int fail(const std::string& what, zhsm::Errc code, int status) {
  size_t eol = what.find('\n');
  std::cerr << "zhsm-admin: " << what.substr(0, eol) << " (" << zhsm::errc_name(code) << ")\n";
  if (eol != std::string::npos) std::cerr << what.substr(eol + 1) << '\n';
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace zhsm;

  std::string controller = "127.0.0.1:7100";
  if (const char* env = std::getenv("ZHSM_CONTROLLER"); env != nullptr && *env != '\0')
    controller = env;
  bool json = false;
  std::string path;
  std::string name;
  std::string chain_name;
  std::vector<std::string> rule_words;
  uint32_t copies = 1;
  uint32_t stripe = 1;
  uint32_t ack = 1;
  uint32_t set_copies = 0, set_stripe = 0, set_ack = 0;  // chain set, plan --chain: 0 = as is
  admin::PlanEdit plan_edit;
  std::vector<std::string> plan_rules;
  uint32_t position = 0;
  std::string on_off;

  CLI::App app{"zhsm-admin: inspect a zhsm cluster through its controller", "zhsm-admin"};
  app.option_defaults()->always_capture_default();
  app.add_option("--controller", controller,
                 "controller address HOST:PORT (default: $ZHSM_CONTROLLER, then 127.0.0.1:7100)");
  app.add_flag("--json", json, "print one JSON document with exact numbers instead of tables");
  app.require_subcommand(1);
  app.fallthrough();

  CLI::App* status = app.add_subcommand("status", "servers, backends and cluster totals");
  CLI::App* file = app.add_subcommand("file", "questions about one file");
  file->require_subcommand(1);
  file->fallthrough();
  CLI::App* info = file->add_subcommand(
      "info", "attributes, data layout and the copies of every data object of PATH");
  info->fallthrough();
  info->add_option("PATH", path, "a path on a zhsm mount, or a namespace path like /dir/file")
      ->required();

  CLI::App* chain = app.add_subcommand("chain", "file resolve chains: where data is kept");
  chain->require_subcommand(1);
  chain->fallthrough();
  CLI::App* chain_list = chain->add_subcommand("list", "every chain: copies, rules, directories");
  CLI::App* chain_show =
      chain->add_subcommand("show", "one chain: its copies, numbered rules and directories");
  chain_show->add_option("NAME", name, "the chain")->required();
  CLI::App* chain_create = chain->add_subcommand("create", "a new chain without rules");
  chain_create->add_option("NAME", name, "the chain")->required();
  chain_create->add_option("--copies", copies, "copies wanted (default 1)")
      ->check(CLI::Range(1u, UINT32_MAX));
  chain_create->add_option("--stripe", stripe,
                           "spread each file's data objects over up to N backends (default 1)")
      ->check(CLI::Range(1u, UINT32_MAX));
  chain_create->add_option("--ack", ack,
                           "a close waits until this many copies are current (default 1)")
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::App* chain_set =
      chain->add_subcommand("set", "change a chain's copies, stripe or ack (at least one)");
  chain_set->add_option("NAME", name, "the chain")->required();
  chain_set->add_option("--copies", set_copies, "copies wanted")->check(CLI::Range(1u, UINT32_MAX));
  chain_set->add_option("--stripe", set_stripe, "spread data objects over up to N backends")
      ->check(CLI::Range(1u, UINT32_MAX));
  chain_set->add_option("--ack", set_ack, "a close waits until this many copies are current")
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::App* chain_delete =
      chain->add_subcommand("delete", "a chain no directory names and no rule jumps to");
  chain_delete->add_option("NAME", name, "the chain")->required();
  CLI::App* chain_add = chain->add_subcommand(
      "add", "add a rule (one quoted argument, or its words as several arguments)");
  chain_add->add_option("NAME", name, "the chain")->required();
  chain_add->add_option("RULE", rule_words, "the rule, e.g. size '>' 1G use tier:hdd")
      ->required();
  chain_add->add_option("--at", position, "put it at this position, 1-based (default: last)")
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::App* chain_remove = chain->add_subcommand("remove", "remove rule N (1-based)");
  chain_remove->add_option("NAME", name, "the chain")->required();
  chain_remove->add_option("N", position, "the rule's number, as `chain show` lists it")
      ->required()
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::App* chain_set_dir =
      chain->add_subcommand("set-dir", "name a chain for everything below a directory");
  chain_set_dir->add_option("PATH", path, "a directory on a zhsm mount, or a namespace path")
      ->required();
  chain_set_dir->add_option("CHAIN", chain_name, "the chain; - to inherit the parent's again")
      ->required();
  for (CLI::App* sub :
       {chain_list, chain_show, chain_create, chain_set, chain_delete, chain_add, chain_remove,
        chain_set_dir})
    sub->fallthrough();

  CLI::App* why = app.add_subcommand("why", "how the chains place PATH's data, and where it is");
  why->fallthrough();
  why->add_option("PATH", path, "a path on a zhsm mount, or a namespace path like /dir/file")
      ->required();

  CLI::App* plan = app.add_subcommand(
      "plan", "the copies the chains would make and drop; with --chain, as if a chain were "
              "changed so (a preview: nothing is changed)");
  plan->fallthrough();
  CLI::Option* plan_chain =
      plan->add_option("--chain", plan_edit.chain, "preview a change of this chain (or a new one)");
  plan->add_option("--copies", plan_edit.copies, "preview: copies wanted")
      ->needs(plan_chain)
      ->check(CLI::Range(1u, UINT32_MAX));
  plan->add_option("--stripe", plan_edit.stripe, "preview: the stripe")
      ->needs(plan_chain)
      ->check(CLI::Range(1u, UINT32_MAX));
  plan->add_option("--ack", plan_edit.ack, "preview: the ack")
      ->needs(plan_chain)
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::Option* plan_add =
      plan->add_option("--add", plan_edit.add, "preview: one more rule (one argument)")
          ->needs(plan_chain);
  plan->add_option("--at", plan_edit.at, "preview: --add puts the rule here, 1-based")
      ->needs(plan_add)
      ->check(CLI::Range(1u, UINT32_MAX));
  plan->add_option("--remove", plan_edit.remove, "preview: without rule N, 1-based")
      ->needs(plan_chain)
      ->check(CLI::Range(1u, UINT32_MAX));
  CLI::Option* plan_rules_opt =
      plan->add_option("--rules", plan_rules, "preview: these rules instead (one argument each)")
          ->needs(plan_chain);
  CLI::App* jobs = app.add_subcommand("jobs", "copy and drop jobs queued or running");
  jobs->fallthrough();

  CLI::App* server = app.add_subcommand("server", "file server maintenance and draining");
  server->require_subcommand(1);
  server->fallthrough();
  CLI::App* maintenance = server->add_subcommand(
      "maintenance", "a planned absence (on: no repair of its copies elsewhere) or its end");
  maintenance->fallthrough();
  maintenance->add_option("NAME", name, "the file server")->required();
  maintenance->add_option("MODE", on_off, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));
  CLI::App* drain = server->add_subcommand("drain", "move every copy off the file server");
  drain->fallthrough();
  drain->add_option("NAME", name, "the file server")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + "; see zhsm-admin --help", Errc::invalid, 2);
  }
  if (chain_set->parsed() && set_copies == 0 && set_stripe == 0 && set_ack == 0)
    return fail("chain set: give --copies, --stripe or --ack; see zhsm-admin --help",
                Errc::invalid, 2);

  std::string ns_path;
  try {
    parse_endpoint(controller);
    if (info->parsed() || why->parsed() || chain_set_dir->parsed())
      ns_path = admin::to_namespace_path(path);
  } catch (const Error& e) {
    return fail(e.what(), e.code(), 2);
  }

  try {
    admin::ControllerLink link(controller);
    if (status->parsed())
      admin::run_status(link, json, std::cout);
    else if (info->parsed())
      admin::run_file_info(link, ns_path, json, std::cout);
    else if (chain_list->parsed())
      admin::run_chain_list(link, json, std::cout);
    else if (chain_show->parsed())
      admin::run_chain_show(link, name, json, std::cout);
    else if (chain_create->parsed())
      admin::run_chain_create(link, name, copies, stripe, ack, json, std::cout);
    else if (chain_set->parsed())
      admin::run_chain_set(link, name, set_copies, set_stripe, set_ack, json, std::cout);
    else if (chain_delete->parsed())
      admin::run_chain_delete(link, name, json, std::cout);
    else if (chain_add->parsed())
      admin::run_chain_add(link, name, admin::join_rule_words(rule_words), position, json,
                           std::cout);
    else if (chain_remove->parsed())
      admin::run_chain_remove(link, name, position, json, std::cout);
    else if (chain_set_dir->parsed())
      admin::run_chain_set_dir(link, ns_path, chain_name == "-" ? "" : chain_name, json,
                               std::cout);
    else if (why->parsed())
      admin::run_why(link, ns_path, json, std::cout);
    else if (plan->parsed()) {
      if (plan_rules_opt->count() > 0) plan_edit.rules = plan_rules;
      const bool preview = plan_chain->count() > 0;
      admin::run_plan(link, preview ? &plan_edit : nullptr, json, std::cout);
    }
    else if (jobs->parsed())
      admin::run_jobs(link, json, std::cout);
    else if (maintenance->parsed())
      admin::run_server_maintenance(link, name, on_off == "on", json, std::cout);
    else if (drain->parsed())
      admin::run_server_drain(link, name, json, std::cout);
    std::cout.flush();
    if (!std::cout) return fail("cannot write to standard output", Errc::io, 1);
  } catch (const Error& e) {
    return fail(e.what(), e.code(), 1);
  } catch (const std::exception& e) {
    return fail(e.what(), Errc::internal, 1);
  }
  return 0;
}
