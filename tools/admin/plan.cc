// `zhsm-admin plan`: one plan call to the controller, shown as the moves it would
// make to bring every data object where its chains want it (grouped by source and
// destination backend: objects, bytes, servers that would have to wake), their
// totals, and the problems that keep some objects from being placed. A dry run:
// nothing is queued. With --chain, a preview of a chain edit: the chain is read, the
// edit applied here, and the controller plans as if the chain were so (it checks the
// rules as an edit would; nothing is stored).
#include <nlohmann/json.hpp>

#include "common/error.h"
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

json draft_json(const ChainDraft& d) {
  return {{"name", d.name}, {"copies", d.copies}, {"stripe", d.stripe}, {"ack", d.ack},
          {"rules", d.rules}};
}

void print_draft(const ChainDraft& d, std::ostream& out) {
  out << "PREVIEW: chain " << sanitize(d.name) << " as if it were " << d.copies
      << (d.copies == 1 ? " copy" : " copies");
  if (d.stripe > 1) out << ", striped over " << d.stripe;
  if (d.ack > 1) out << ", ack " << d.ack;
  out << " (nothing is changed)\n";
  Table rules({{"#", Table::Align::right}, {"RULE"}});
  uint32_t n = 0;
  for (const auto& r : d.rules) rules.add_row({std::to_string(++n), r});
  rules.print(out);
  out << '\n';
}

// The stored chain `name`, or nullopt when there is none.
std::optional<ChainDraft> stored_chain(ControllerLink& link, const std::string& name) {
  try {
    Reply reply = link.call([&](proto::Request::Builder r) { r.setChainShow(name); },
                            proto::Response::CHAINS, "chain " + name);
    for (auto c : reply.response().getChains()) {
      if (name != c.getName().cStr()) continue;
      ChainDraft d{name, c.getCopies(), std::max<uint32_t>(c.getStripe(), 1),
                   std::max<uint32_t>(c.getAck(), 1), {}};
      for (auto r : c.getRules()) d.rules.push_back(r.cStr());
      return d;
    }
  } catch (const Error& e) {
    if (e.code() != Errc::not_found) throw;
  }
  return std::nullopt;
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

ChainDraft apply_plan_edit(const std::optional<ChainDraft>& stored, const PlanEdit& edit) {
  ChainDraft d = stored ? *stored : ChainDraft{edit.chain, 1, 1, 1, {}};
  d.name = edit.chain;
  if (edit.rules) d.rules = *edit.rules;
  if (edit.remove != 0) {
    if (edit.remove > d.rules.size())
      throw Error(Errc::invalid, "chain " + edit.chain + " has " + std::to_string(d.rules.size()) +
                                     " rules: there is no rule " + std::to_string(edit.remove));
    d.rules.erase(d.rules.begin() + (edit.remove - 1));
  }
  if (!edit.add.empty()) {
    const uint32_t at = edit.at == 0 ? static_cast<uint32_t>(d.rules.size() + 1) : edit.at;
    if (at > d.rules.size() + 1)
      throw Error(Errc::invalid, "chain " + edit.chain + " has " + std::to_string(d.rules.size()) +
                                     " rules: position " + std::to_string(at) +
                                     " is past the end");
    d.rules.insert(d.rules.begin() + (at - 1), edit.add);
  }
  if (edit.copies != 0) d.copies = edit.copies;
  if (edit.stripe != 0) d.stripe = edit.stripe;
  if (edit.ack != 0) d.ack = edit.ack;
  return d;
}

void run_plan(ControllerLink& link, const PlanEdit* edit, bool json_out, std::ostream& out) {
  std::optional<ChainDraft> draft;
  if (edit) draft = apply_plan_edit(stored_chain(link, edit->chain), *edit);
  Reply reply = link.call(
      [&](proto::Request::Builder r) {
        auto req = r.initPlan();
        if (!draft) return;
        auto c = req.initChains(1)[0];
        c.setName(draft->name);
        c.setCopies(draft->copies);
        c.setStripe(draft->stripe);
        c.setAck(draft->ack);
        auto rules = c.initRules(static_cast<unsigned>(draft->rules.size()));
        for (size_t i = 0; i < draft->rules.size(); ++i) rules.set(i, draft->rules[i]);
      },
      proto::Response::PLAN, draft ? "plan a preview of chain " + draft->name : "plan");
  auto p = reply.response().getPlan();
  if (json_out) {
    json j = plan_json(p);
    j["preview"] = draft ? draft_json(*draft) : json(nullptr);
    out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else {
    if (draft) print_draft(*draft, out);
    print_plan(p, out);
  }
}

}  // namespace zhsm::admin
