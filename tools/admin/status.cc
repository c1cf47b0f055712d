// `zhsm-admin status`: one clusterStatus call to the controller, shown as four
// blocks: the file servers (state, maintenance and draining marks, heartbeat age, data
// requests in progress), their backends (tier and capacity), the cluster totals
// (namespace size, data, clients, open tokens, copy jobs) and the placement problems of
// the replicator's last pass.
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
                       {"load", s.getLoad()},
                       {"backends", std::move(backends)}});
  }
  json problems = json::array();
  for (auto p : st.getProblems()) problems.push_back(p.cStr());
  return {{"controller", controller},
          {"servers", std::move(servers)},
          {"totals",
           {{"files", st.getFiles()},
            {"directories", st.getDirectories()},
            {"data_objects", st.getDataObjects()},
            {"data_bytes", st.getDataBytes()},
            {"clients", st.getClients()},
            {"open_tokens", st.getOpenTokens()},
            {"jobs_queued", st.getJobsQueued()},
            {"jobs_running", st.getJobsRunning()}}},
          {"problems", std::move(problems)},
          {"problem_count", std::max<uint64_t>(st.getProblemCount(), st.getProblems().size())}};
}

void print_status(const std::string& controller, proto::ClusterStatus::Reader st,
                  std::ostream& out) {
  using A = Table::Align;
  auto servers = sorted_by_name(st.getServers());

  Table server_table(
      {{"NAME"}, {"ADDRESS"}, {"STATE"}, {"HEARTBEAT", A::right}, {"LOAD", A::right}});
  for (auto s : servers)
    server_table.add_row({s.getName().cStr(), s.getAddress().cStr(), state_text(s),
                          human_age(s.getLastHeartbeatAgeMs()) + " ago",
                          std::to_string(s.getLoad())});

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
                     {"open tokens", std::to_string(st.getOpenTokens())},
                     {"copy jobs", std::to_string(st.getJobsQueued()) + " queued, " +
                                       std::to_string(st.getJobsRunning()) + " running"}});
  auto problems = st.getProblems();
  if (problems.size() > 0) {
    out << "\nPROBLEMS (rules that cannot be met; no copy is dropped because of them)\n";
    for (auto p : problems) out << "! " << sanitize(p.cStr()) << '\n';
    if (st.getProblemCount() > problems.size())
      out << "... and " << st.getProblemCount() - problems.size() << " more (zhsm-admin plan)\n";
  }
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
