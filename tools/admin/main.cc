// zhsm-admin: the operator's command line. Reads the command line (CLI11),
// connects to the controller and runs one subcommand (commands.h). Exit status:
// 0 done, 1 the request failed (one line on stderr: "zhsm-admin: <what>
// (<errc_name>)"), 2 the command line is wrong.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "common/error.h"
#include "common/rpc_server.h"
#include "tools/admin/commands.h"
#include "tools/admin/mount_path.h"

namespace {

int fail(const std::string& what, zhsm::Errc code, int status) {
  std::cerr << "zhsm-admin: " << what << " (" << zhsm::errc_name(code) << ")\n";
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + "; see zhsm-admin --help", Errc::invalid, 2);
  }

  std::string ns_path;
  try {
    parse_endpoint(controller);
    if (info->parsed()) ns_path = admin::to_namespace_path(path);
  } catch (const Error& e) {
    return fail(e.what(), e.code(), 2);
  }

  try {
    admin::ControllerLink link(controller);
    if (status->parsed())
      admin::run_status(link, json, std::cout);
    else if (info->parsed())
      admin::run_file_info(link, ns_path, json, std::cout);
    std::cout.flush();
    if (!std::cout) return fail("cannot write to standard output", Errc::io, 1);
  } catch (const Error& e) {
    return fail(e.what(), e.code(), 1);
  } catch (const std::exception& e) {
    return fail(e.what(), Errc::internal, 1);
  }
  return 0;
}
