// `zhsm-admin server maintenance NAME on|off` and `zhsm-admin server drain NAME`:
// tell the controller that a file server will be away on purpose (its copies are
// not repaired elsewhere meanwhile) or back, or that everything on it is to be
// moved off. Both print one confirming line (or a small JSON document).
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"

namespace zhsm::admin {

namespace {

std::string dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

}  // namespace

void run_server_maintenance(ControllerLink& link, const std::string& name, bool on,
                            bool json_out, std::ostream& out) {
  link.call(
      [&](proto::Request::Builder r) {
        auto m = r.initServerMaintenance();
        m.setName(name);
        m.setOn(on);
      },
      proto::Response::DONE,
      "maintenance " + std::string(on ? "on" : "off") + " for server " + name);
  if (json_out)
    out << dump({{"server", name}, {"maintenance", on}});
  else
    out << "server " << sanitize(name) << ": maintenance " << (on ? "on" : "off") << '\n';
}

void run_server_drain(ControllerLink& link, const std::string& name, bool json_out,
                      std::ostream& out) {
  link.call([&](proto::Request::Builder r) { r.setServerDrain(name); }, proto::Response::DONE,
            "drain server " + name);
  if (json_out)
    out << dump({{"server", name}, {"draining", true}});
  else
    out << "server " << sanitize(name) << ": draining (see zhsm-admin jobs)\n";
}

}  // namespace zhsm::admin
