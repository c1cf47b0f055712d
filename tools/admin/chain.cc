// `zhsm-admin chain ...`: list, show, create and delete file resolve chains, add
// and remove their rules, and name a chain on a directory. The controller parses
// and checks everything; this file fills requests and shows the chains it answers
// with: a table of all chains, or one chain as fields plus its numbered rules.
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tools/admin/commands.h"
#include "tools/admin/table.h"
#include "tools/admin/wire_text.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + '\n';
}

json chain_json(proto::ChainDef::Reader c) {
  json rules = json::array();
  for (auto r : c.getRules()) rules.push_back(r.cStr());
  json dirs = json::array();
  for (auto d : c.getDirs()) dirs.push_back(data_text(d));
  return {{"name", c.getName().cStr()},
          {"copies", c.getCopies()},
          {"stripe", std::max<uint32_t>(c.getStripe(), 1)},
          {"ack", std::max<uint32_t>(c.getAck(), 1)},
          {"rules", std::move(rules)},
          {"directories", std::move(dirs)}};
}

std::string joined_dirs(proto::ChainDef::Reader c) {
  std::string out;
  for (auto d : c.getDirs()) {
    if (!out.empty()) out += ", ";
    out += data_text(d);
  }
  return out;
}

// One chain: its name, copies and directories as fields, then its rules numbered
// from 1 (the numbers `chain add --at` and `chain remove` take).
void print_chain(proto::ChainDef::Reader c, std::ostream& out) {
  std::string dirs = joined_dirs(c);
  std::vector<std::pair<std::string, std::string>> fields = {
      {"chain", c.getName().cStr()}, {"copies", std::to_string(c.getCopies())}};
  if (c.getStripe() > 1) fields.emplace_back("stripe", std::to_string(c.getStripe()) + " backends");
  const uint32_t ack = std::max<uint32_t>(c.getAck(), 1);
  fields.emplace_back("ack", "a close waits for " + std::to_string(ack) +
                                 (ack == 1 ? " copy" : " copies"));
  fields.emplace_back("directories", dirs.empty() ? "(none)" : dirs);
  print_fields(out, fields);
  Table rules({{"#", Table::Align::right}, {"RULE"}});
  uint32_t n = 0;
  for (auto r : c.getRules()) rules.add_row({std::to_string(++n), r.cStr()});
  out << "\nRULES\n";
  rules.print(out);
}

// The chain named `name` in a `chains` answer (the controller sends exactly that one).
proto::ChainDef::Reader the_chain(const Reply& reply, const std::string& name) {
  auto chains = reply.response().getChains();
  for (auto c : chains)
    if (name == c.getName().cStr()) return c;
  throw Error(Errc::internal, "chain " + name + ": the controller's answer does not hold it");
}

void show_chain(const Reply& reply, const std::string& name, bool json_out, std::ostream& out) {
  auto c = the_chain(reply, name);
  if (json_out)
    out << dump(chain_json(c));
  else
    print_chain(c, out);
}

// chainCreate and chainSet: a name and its numbers.
void fill_numbers(proto::ChainCreate::Builder c, const std::string& name, uint32_t copies,
                  uint32_t stripe, uint32_t ack) {
  c.setName(name);
  c.setCopies(copies);
  c.setStripe(stripe);
  c.setAck(ack);
}

}  // namespace

std::string join_rule_words(const std::vector<std::string>& words) {
  std::string rule;
  for (const auto& w : words) {
    if (!rule.empty()) rule += ' ';
    rule += w;
  }
  return rule;
}

void run_chain_list(ControllerLink& link, bool json_out, std::ostream& out) {
  Reply reply = link.call([](proto::Request::Builder r) { r.setChainList(); },
                          proto::Response::CHAINS, "chain list");
  auto chains = reply.response().getChains();
  if (json_out) {
    json list = json::array();
    for (auto c : chains) list.push_back(chain_json(c));
    out << dump({{"chains", std::move(list)}});
    return;
  }
  using A = Table::Align;
  Table table({{"CHAIN"}, {"COPIES", A::right}, {"ACK", A::right}, {"STRIPE", A::right},
               {"RULES", A::right}, {"DIRECTORIES"}});
  for (auto c : chains)
    table.add_row({c.getName().cStr(), std::to_string(c.getCopies()),
                   std::to_string(std::max<uint32_t>(c.getAck(), 1)),
                   std::to_string(std::max<uint32_t>(c.getStripe(), 1)),
                   std::to_string(c.getRules().size()), joined_dirs(c)});
  table.print(out);
}

void run_chain_show(ControllerLink& link, const std::string& name, bool json_out,
                    std::ostream& out) {
  Reply reply = link.call([&](proto::Request::Builder r) { r.setChainShow(name); },
                          proto::Response::CHAINS, "chain " + name);
  show_chain(reply, name, json_out, out);
}

void run_chain_create(ControllerLink& link, const std::string& name, uint32_t copies,
                      uint32_t stripe, uint32_t ack, bool json_out, std::ostream& out) {
  link.call(
      [&](proto::Request::Builder r) {
        fill_numbers(r.initChainCreate(), name, copies, stripe, ack);
      },
      proto::Response::DONE, "create chain " + name);
  if (json_out) {
    out << dump({{"chain", name},
                 {"created", true},
                 {"copies", copies},
                 {"stripe", stripe},
                 {"ack", ack}});
  } else {
    out << "chain " << sanitize(name) << " created, " << copies
        << (copies == 1 ? " copy" : " copies");
    if (stripe > 1) out << ", striped over up to " << stripe << " backends";
    if (ack > 1) out << ", a close waits for " << ack << " copies";
    out << ", no rules\n";
  }
}

void run_chain_set(ControllerLink& link, const std::string& name, uint32_t copies,
                   uint32_t stripe, uint32_t ack, bool json_out, std::ostream& out) {
  if (copies == 0 && stripe == 0 && ack == 0)
    throw Error(Errc::invalid, "chain set " + name + ": give --copies, --stripe or --ack");
  Reply reply = link.call(
      [&](proto::Request::Builder r) { fill_numbers(r.initChainSet(), name, copies, stripe, ack); },
      proto::Response::CHAINS, "set chain " + name);
  show_chain(reply, name, json_out, out);
}

void run_chain_delete(ControllerLink& link, const std::string& name, bool json_out,
                      std::ostream& out) {
  link.call([&](proto::Request::Builder r) { r.setChainDelete(name); }, proto::Response::DONE,
            "delete chain " + name);
  if (json_out)
    out << dump({{"chain", name}, {"deleted", true}});
  else
    out << "chain " << sanitize(name) << " deleted\n";
}

void run_chain_add(ControllerLink& link, const std::string& name, const std::string& rule,
                   uint32_t at, bool json_out, std::ostream& out) {
  Reply reply = link.call(
      [&](proto::Request::Builder r) {
        auto e = r.initChainAddRule();
        e.setChain(name);
        e.setRule(rule);
        e.setAt(at);
      },
      proto::Response::CHAINS, "add a rule to chain " + name);
  show_chain(reply, name, json_out, out);
}

void run_chain_remove(ControllerLink& link, const std::string& name, uint32_t position,
                      bool json_out, std::ostream& out) {
  Reply reply = link.call(
      [&](proto::Request::Builder r) {
        auto e = r.initChainRemoveRule();
        e.setChain(name);
        e.setAt(position);
      },
      proto::Response::CHAINS, "remove rule " + std::to_string(position) + " of chain " + name);
  show_chain(reply, name, json_out, out);
}

void run_chain_set_dir(ControllerLink& link, const std::string& ns_path, const std::string& chain,
                       bool json_out, std::ostream& out) {
  link.call(
      [&](proto::Request::Builder r) {
        auto s = r.initChainSetDir();
        s.setPath(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(ns_path.data()),
                                      ns_path.size()));
        s.setChain(chain);
      },
      proto::Response::DONE, "set the chain of " + ns_path);
  if (json_out)
    out << dump({{"path", ns_path}, {"chain", chain.empty() ? json(nullptr) : json(chain)}});
  else if (chain.empty())
    out << sanitize(ns_path) << ": no chain of its own, inherits its parent's again\n";
  else
    out << sanitize(ns_path) << ": chain " << sanitize(chain) << '\n';
}

}  // namespace zhsm::admin
