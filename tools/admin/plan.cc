// `zhsm-admin plan`: one plan call to the controller, shown as the moves it would
// make to bring every data object where its chains want it (grouped by source and
// destination backend: objects, bytes, servers that would have to wake), their
// totals, and the problems that keep some objects from being placed. A dry run:
// nothing is queued.
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

std::string joined(capnp::List<capnp::Text>::Reader list) {
  std::string out;
  for (auto t : list) {
    if (!out.empty()) out += ", ";
    out += t.cStr();
  }
  return out;
}

json plan_json(proto::PlanReply::Reader p) {
  json moves = json::array();
  uint64_t objects = 0, bytes = 0;
  for (auto m : p.getMoves()) {
    json wakes = json::array();
    for (auto w : m.getWakes()) wakes.push_back(w.cStr());
    std::string from = m.getFromBackend().cStr(), to = m.getToBackend().cStr();
    // null: a new copy (no source backend) or a dropped copy (no destination).
    moves.push_back({{"from", from.empty() ? json(nullptr) : json(from)},
                     {"to", to.empty() ? json(nullptr) : json(to)},
                     {"objects", m.getObjects()},
                     {"bytes", m.getBytes()},
                     {"wakes", std::move(wakes)}});
    objects += m.getObjects();
    bytes += m.getBytes();
  }
  json problems = json::array();
  for (auto t : p.getProblems()) problems.push_back(t.cStr());
  return {{"moves", std::move(moves)},
          {"totals", {{"objects", objects}, {"bytes", bytes}}},
          {"objects_examined", p.getObjects()},
          {"problems", std::move(problems)}};
}

void print_plan(proto::PlanReply::Reader p, std::ostream& out) {
  using A = Table::Align;
  Table moves({{"FROM"}, {"TO"}, {"OBJECTS", A::right}, {"BYTES", A::right}, {"WAKES"}});
  uint64_t objects = 0, bytes = 0;
  for (auto m : p.getMoves()) {
    std::string from = m.getFromBackend().cStr(), to = m.getToBackend().cStr();
    moves.add_row({from.empty() ? "(new copy)" : from, to.empty() ? "(dropped)" : to,
                   std::to_string(m.getObjects()), human_bytes(m.getBytes()),
                   joined(m.getWakes())});
    objects += m.getObjects();
    bytes += m.getBytes();
  }
  out << "MOVES\n";
  moves.print(out);
  out << "\nTOTALS\n";
  print_fields(out, {{"moves", std::to_string(p.getMoves().size())},
                     {"objects", std::to_string(objects)},
                     {"bytes", human_bytes(bytes) + " (" + std::to_string(bytes) + " bytes)"},
                     {"objects examined", std::to_string(p.getObjects())}});
  auto problems = p.getProblems();
  if (problems.size() > 0) {
    out << "\nPROBLEMS\n";
    for (auto t : problems) out << "! " << sanitize(t.cStr()) << '\n';
  }
}

}  // namespace

void run_plan(ControllerLink& link, bool json_out, std::ostream& out) {
  Reply reply = link.call([](proto::Request::Builder r) { r.setPlan(); }, proto::Response::PLAN,
                          "plan");
  auto p = reply.response().getPlan();
  if (json_out)
    out << plan_json(p).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  else
    print_plan(p, out);
}

}  // namespace zhsm::admin
