// `zhsm-admin status`: one clusterStatus call to the controller, shown as three
// blocks: the file servers (state, maintenance and draining marks, heartbeat age),
// their backends (tier and capacity) and the cluster totals (namespace size, data,
// clients, open tokens).
// Servers and backends are sorted by name so that the output is stable.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"
#include "tools/admin/wire_text.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

template <typename ListReader>
auto sorted_by_name(ListReader list) {
  std::vector<std::decay_t<decltype(*list.begin())>> out;
  for (auto item : list) out.push_back(item);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::string_view(a.getName().cStr()) < std::string_view(b.getName().cStr());
  });
  return out;
}

// The state with the marks it does not already say: "on, draining", "maintenance".
std::string state_text(proto::ServerStatus::Reader s) {
  std::string state = s.getState().cStr();
  std::string out = state;
  if (s.getMaintenance() && state != "maintenance") out += ", maintenance";
  if (s.getDraining() && state != "draining") out += ", draining";
  return out;
}

json status_json(const std::string& controller, proto::ClusterStatus::Reader st) {
  json servers = json::array();
  for (auto s : sorted_by_name(st.getServers())) {
    json backends = json::array();
    for (auto b : sorted_by_name(s.getBackends())) {
      backends.push_back({{"id", uuid_text(b.getId())},
                          {"name", b.getName().cStr()},
                          {"tier", b.getTier().cStr()},
                          {"path", b.getPath().cStr()},
                          {"total_bytes", b.getTotalBytes()},
                          {"used_bytes", b.getUsedBytes()},
                          {"free_bytes", b.getFreeBytes()},
                          {"objects", b.getObjectCount()}});
    }
    servers.push_back({{"id", uuid_text(s.getId())},
                       {"name", s.getName().cStr()},
                       {"address", s.getAddress().cStr()},
                       {"state", s.getState().cStr()},
                       {"maintenance", s.getMaintenance()},
                       {"draining", s.getDraining()},
                       {"heartbeat_age_ms", s.getLastHeartbeatAgeMs()},
                       {"backends", std::move(backends)}});
  }
  return {{"controller", controller},
          {"servers", std::move(servers)},
          {"totals",
           {{"files", st.getFiles()},
            {"directories", st.getDirectories()},
            {"data_objects", st.getDataObjects()},
            {"data_bytes", st.getDataBytes()},
            {"clients", st.getClients()},
            {"open_tokens", st.getOpenTokens()}}}};
}

void print_status(const std::string& controller, proto::ClusterStatus::Reader st,
                  std::ostream& out) {
  using A = Table::Align;
  auto servers = sorted_by_name(st.getServers());

  Table server_table({{"NAME"}, {"ADDRESS"}, {"STATE"}, {"HEARTBEAT", A::right}});
  for (auto s : servers)
    server_table.add_row({s.getName().cStr(), s.getAddress().cStr(), state_text(s),
                          human_age(s.getLastHeartbeatAgeMs()) + " ago"});

  Table backend_table({{"NAME"},
                       {"SERVER"},
                       {"TIER"},
                       {"TOTAL", A::right},
                       {"USED", A::right},
                       {"FREE", A::right},
                       {"OBJECTS", A::right}});
  for (auto s : servers)
    for (auto b : sorted_by_name(s.getBackends()))
      backend_table.add_row({b.getName().cStr(), s.getName().cStr(), b.getTier().cStr(),
                             human_bytes(b.getTotalBytes()), human_bytes(b.getUsedBytes()),
                             human_bytes(b.getFreeBytes()), std::to_string(b.getObjectCount())});

  out << "controller " << controller << "\n\nSERVERS\n";
  server_table.print(out);
  out << "\nBACKENDS\n";
  backend_table.print(out);
  out << "\nTOTALS\n";
  print_fields(out, {{"files", std::to_string(st.getFiles())},
                     {"directories", std::to_string(st.getDirectories())},
                     {"data objects", std::to_string(st.getDataObjects())},
                     {"data bytes", human_bytes(st.getDataBytes())},
                     {"clients", std::to_string(st.getClients())},
                     {"open tokens", std::to_string(st.getOpenTokens())}});
}

}  // namespace

void run_status(ControllerLink& link, bool json_out, std::ostream& out) {
  Reply reply = link.call([](proto::Request::Builder r) { r.setClusterStatus(); },
                          proto::Response::CLUSTER_STATUS, "cluster status");
  auto st = reply.response().getClusterStatus();
  if (json_out)
    out << status_json(link.address(), st).dump(2, ' ', false, json::error_handler_t::replace)
        << '\n';
  else
    print_status(link.address(), st, out);
}

}  // namespace zhsm::admin
