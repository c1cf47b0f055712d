// `zhsm-admin why PATH`: one why call to the controller, shown as the chain the
// evaluation began with and the directory that named it (or the `default` chain),
// the copies wanted, every rule looked at (chain, position, rule, whether its
// condition held, what it did), the backends the rules want, the problems that
// kept a rule from being met, and where the file's copies are now.
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"
#include "tools/admin/wire_text.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

json copy_json(proto::CopyRef::Reader cp, bool with_state) {
  json j = {{"backend", uuid_text(cp.getBackend())},
            {"backend_name", cp.getBackendName().cStr()},
            {"server", uuid_text(cp.getServer())},
            {"server_name", cp.getServerName().cStr()},
            {"address", cp.getAddress().cStr()}};
  if (with_state) {
    j["state"] = copy_state_name(cp.getState());
    j["version"] = cp.getVersion();
  }
  return j;
}

json why_json(const std::string& path, proto::WhyReply::Reader w) {
  json steps = json::array();
  for (auto s : w.getSteps())
    steps.push_back({{"chain", s.getChain().cStr()},
                     {"position", s.getPosition()},
                     {"rule", s.getRule().cStr()},
                     {"matched", s.getMatched()},
                     {"outcome", s.getOutcome().cStr()}});
  json wanted = json::array();
  for (auto cp : w.getWanted()) wanted.push_back(copy_json(cp, false));
  json problems = json::array();
  for (auto p : w.getProblems()) problems.push_back(p.cStr());
  json chunks = json::array();
  for (auto c : w.getChunks()) {
    json copies = json::array();
    for (auto cp : c.getCopies()) copies.push_back(copy_json(cp, true));
    chunks.push_back({{"index", c.getIndex()},
                      {"uuid", uuid_text(c.getUuid())},
                      {"version", c.getVersion()},
                      {"size", c.getSize()},
                      {"copies", std::move(copies)}});
  }
  std::string from = data_text(w.getChainFrom());
  return {{"path", path},
          {"chain", w.getChain().cStr()},
          {"chain_from", from.empty() ? json(nullptr) : json(from)},
          {"copies", w.getCopies()},
          {"size", w.getAttr().getSize()},
          {"steps", std::move(steps)},
          {"wanted", std::move(wanted)},
          {"problems", std::move(problems)},
          {"complete", w.getProblems().size() == 0 && w.getWanted().size() >= w.getCopies()},
          {"inline", w.getInline()},
          {"chunks", std::move(chunks)}};
}

void print_why(const std::string& path, proto::WhyReply::Reader w, std::ostream& out) {
  using A = Table::Align;
  std::string from = data_text(w.getChainFrom());
  std::string chain = w.getChain().cStr();
  chain += from.empty() ? std::string(" (default: no directory above names a chain)")
                        : " (named by " + from + ")";
  uint64_t size = w.getAttr().getSize();
  std::string data;
  if (w.getInline()) {
    data = "inline: the data is in the database, no copies";
  } else {
    size_t n = w.getChunks().size();
    data = "chunked, " + std::to_string(n) + (n == 1 ? " data object" : " data objects");
  }
  print_fields(out, {{"path", path},
                     {"size", human_bytes(size) + " (" + std::to_string(size) + " bytes)"},
                     {"data", data},
                     {"chain", chain},
                     {"copies wanted", std::to_string(w.getCopies())}});

  Table steps({{"CHAIN"}, {"#", A::right}, {"RULE"}, {"MATCHED"}, {"OUTCOME"}});
  for (auto s : w.getSteps())
    steps.add_row({s.getChain().cStr(), std::to_string(s.getPosition()), s.getRule().cStr(),
                   s.getMatched() ? "yes" : "no", s.getOutcome().cStr()});
  out << "\nSTEPS\n";
  steps.print(out);

  Table wanted({{"BACKEND"}, {"SERVER"}, {"ADDRESS"}});
  for (auto cp : w.getWanted())
    wanted.add_row({cp.getBackendName().cStr(), cp.getServerName().cStr(), cp.getAddress().cStr()});
  out << "\nWANTED\n";
  wanted.print(out);

  auto problems = w.getProblems();
  if (problems.size() > 0) {
    out << "\nPROBLEMS (copies outside WANTED are kept while there are any)\n";
    for (auto p : problems) out << "! " << sanitize(p.cStr()) << '\n';
  }

  out << "\nCOPIES NOW\n";
  if (w.getInline()) {
    out << "none: the data is inline, in the database\n";
    return;
  }
  Table now({{"INDEX", A::right}, {"VERSION", A::right}, {"BACKEND"}, {"SERVER"}, {"STATE"}});
  for (auto c : w.getChunks()) {
    if (c.getCopies().size() == 0)
      now.add_row({std::to_string(c.getIndex()), std::to_string(c.getVersion()), "-", "-",
                   "no copy"});
    for (auto cp : c.getCopies())
      now.add_row({std::to_string(c.getIndex()), std::to_string(c.getVersion()),
                   cp.getBackendName().cStr(), cp.getServerName().cStr(),
                   copy_state_name(cp.getState())});
  }
  now.print(out);
}

}  // namespace

void run_why(ControllerLink& link, const std::string& ns_path, bool json_out, std::ostream& out) {
  Reply reply = link.call(
      [&](proto::Request::Builder r) {
        r.initWhy().setPath(capnp::Data::Reader(
            reinterpret_cast<const capnp::byte*>(ns_path.data()), ns_path.size()));
      },
      proto::Response::WHY, "why " + ns_path);
  auto w = reply.response().getWhy();
  if (json_out)
    out << why_json(ns_path, w).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  else
    print_why(ns_path, w, out);
}

}  // namespace zhsm::admin
