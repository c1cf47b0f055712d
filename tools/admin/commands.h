// The zhsm-admin subcommands, one file each (status.cc, file_info.cc, chain.cc,
// why.cc, plan.cc, jobs.cc, server.cc). Each one
// asks the controller through `link`, prints to `out` either human-readable
// tables or, with `json`, one JSON document with exact numbers, and throws
// zhsm::Error when the controller cannot answer. main.cc parses the command
// line and maps errors to exit codes.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/admin/controller_link.h"

namespace zhsm::admin {

// `zhsm-admin status`: servers, backends and cluster totals.
void run_status(ControllerLink& link, bool json, std::ostream& out);

// `zhsm-admin file info PATH`: `ns_path` is already a namespace path ("/a/b",
// see mount_path.h). Attributes, layout and every data object with its copies.
void run_file_info(ControllerLink& link, const std::string& ns_path, bool json,
                   std::ostream& out);

// ---- chain.cc: file resolve chains (doc/architecture.md, "File resolve chains").
// The controller checks every rule and name; its error messages are passed on whole
// (a rule that does not parse: three lines, the rule, a caret, the reason).

// `zhsm-admin chain list`: every chain with its copies, rule count and directories.
void run_chain_list(ControllerLink& link, bool json, std::ostream& out);

// `zhsm-admin chain show NAME`: copies, the numbered rules (1-based), directories.
void run_chain_show(ControllerLink& link, const std::string& name, bool json, std::ostream& out);

// `zhsm-admin chain create NAME [--copies N] [--stripe N] [--ack N]`.
void run_chain_create(ControllerLink& link, const std::string& name, uint32_t copies,
                      uint32_t stripe, uint32_t ack, bool json, std::ostream& out);

// `zhsm-admin chain set NAME [--copies N] [--stripe N] [--ack N]`: 0 leaves a number as
// it is (one at least must be given: invalid otherwise, before anything is sent). Prints
// the chain after the change as `chain show` does.
void run_chain_set(ControllerLink& link, const std::string& name, uint32_t copies,
                   uint32_t stripe, uint32_t ack, bool json, std::ostream& out);

// `zhsm-admin chain delete NAME`.
void run_chain_delete(ControllerLink& link, const std::string& name, bool json, std::ostream& out);

// `zhsm-admin chain add NAME RULE... [--at N]`: `rule` is one rule in its written form
// (see join_rule_words); `at` is the 1-based position, 0 appends. Prints the chain after
// the change as `chain show` does.
void run_chain_add(ControllerLink& link, const std::string& name, const std::string& rule,
                   uint32_t at, bool json, std::ostream& out);

// `zhsm-admin chain remove NAME N`: removes rule N (1-based); prints the chain after.
void run_chain_remove(ControllerLink& link, const std::string& name, uint32_t position, bool json,
                      std::ostream& out);

// `zhsm-admin chain set-dir PATH CHAIN`: `ns_path` is a namespace path (mount_path.h);
// an empty `chain` makes the directory inherit its parent's chain again.
void run_chain_set_dir(ControllerLink& link, const std::string& ns_path, const std::string& chain,
                       bool json, std::ostream& out);

// The rule's written form from the command line's words: one quoted argument is
// kept as it is, several are joined with single blanks ("size", ">", "1G" ->
// "size > 1G"). Pure.
std::string join_rule_words(const std::vector<std::string>& words);

// ---- why.cc
// `zhsm-admin why PATH`: `ns_path` is a namespace path. How the chains were evaluated
// for the file (steps, wanted backends, problems) and where its copies are now.
void run_why(ControllerLink& link, const std::string& ns_path, bool json, std::ostream& out);

// ---- plan.cc
// A chain as a plan preview sends it.
struct ChainDraft {
  std::string name;
  uint32_t copies = 1;
  uint32_t stripe = 1;
  uint32_t ack = 1;
  std::vector<std::string> rules;
};

// `plan --chain NAME ...`: the edit to preview, applied to the chain as stored.
struct PlanEdit {
  std::string chain;
  uint32_t copies = 0, stripe = 0, ack = 0;   // 0 = as stored
  std::optional<std::vector<std::string>> rules;  // --rules: the whole list replaced
  std::string add;                              // --add: one rule (empty: none)
  uint32_t at = 0;                              // --at for --add, 1-based; 0 = append
  uint32_t remove = 0;                          // --remove N, 1-based; 0 = none
};

// The chain after `edit`, from `stored` (nullopt: a new chain, no rules, numbers 1). In
// the order --rules, --remove, --add, then the numbers; invalid for a rule number out of
// range. Pure.
ChainDraft apply_plan_edit(const std::optional<ChainDraft>& stored, const PlanEdit& edit);

// `zhsm-admin plan [--chain NAME ...]`: the copies the controller would make and drop,
// grouped by source and destination backend, with the servers that would have to wake;
// with `edit`, as if the chain were changed so (a preview: nothing is stored).
void run_plan(ControllerLink& link, const PlanEdit* edit, bool json, std::ostream& out);

// ---- jobs.cc
// `zhsm-admin jobs`: copy and drop jobs queued or running, and the copy rate.
void run_jobs(ControllerLink& link, bool json, std::ostream& out);

// ---- server.cc
// `zhsm-admin server maintenance NAME on|off`: a planned absence (no repair) or its end.
void run_server_maintenance(ControllerLink& link, const std::string& name, bool on, bool json,
                            std::ostream& out);

// `zhsm-admin server drain NAME`: move everything off the server.
void run_server_drain(ControllerLink& link, const std::string& name, bool json, std::ostream& out);

}  // namespace zhsm::admin
