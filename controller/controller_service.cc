// Shared controller state and metric declarations (see controller_service.h).
#include "controller/controller_service.h"

#include "controller/controller_handler.h"

namespace zhsm {

ControllerService::ControllerService(MetaStore& store, asio::thread_pool& pool, Metrics& metrics,
                                     ServiceOptions options)
    : store_(store),
      pool_(pool),
      metrics_(metrics),
      options_(std::move(options)),
      group_commit_(store, options_.commit_group),
      leases_(DirLeases::Options{options_.dir_lease}) {
  metrics_.describe("zhsm_controller_requests_total", "counter", "Requests served, by op");
  metrics_.describe("zhsm_controller_errors_total", "counter",
                    "Requests answered with an error, by op and code");
  metrics_.describe("zhsm_controller_request_seconds_sum", "counter",
                    "Time from a decoded request to its answer, by op");
  metrics_.describe("zhsm_controller_request_seconds_count", "counter",
                    "Requests timed in zhsm_controller_request_seconds_sum, by op");
  metrics_.describe("zhsm_controller_db_seconds_sum", "counter",
                    "Time spent in database calls");
  metrics_.describe("zhsm_controller_db_seconds_count", "counter", "Database calls made");
  metrics_.describe("zhsm_controller_open_tokens", "gauge", "Open-file tokens (last sweep)");
  metrics_.describe("zhsm_controller_live_servers", "gauge",
                    "File servers heartbeating within the timeout (last sweep)");
  metrics_.describe("zhsm_controller_locks_held", "gauge",
                    "Lock ranges held (flock, POSIX and append locks)");
  metrics_.describe("zhsm_controller_lock_conflicts_total", "counter",
                    "Lock requests refused because another holder's lock conflicts, by kind");
  metrics_.describe("zhsm_controller_locks_dropped_total", "counter",
                    "Locks dropped without an unlock, by reason");
  metrics_.describe("zhsm_controller_commit_groups_total", "counter",
                    "Transactions that carried commitData calls (several share one when "
                    "clients commit at once)");
  metrics_.describe("zhsm_controller_commits_total", "counter",
                    "commitData calls carried by those transactions");
  metrics_.describe("zhsm_controller_dir_leases", "gauge",
                    "Directories leased to the mount that made them");
  metrics_.describe("zhsm_controller_lease_recalls_total", "counter",
                    "Directory leases recalled because another client added a name");
  metrics_.describe("zhsm_controller_lease_wait_seconds_sum", "counter",
                    "Time adds waited for a recalled lease to be given back");
  metrics_.on_scrape([this](Metrics& m) {
    m.set("zhsm_controller_dir_leases", static_cast<double>(leases_.held()));
    m.set("zhsm_controller_lease_recalls_total", static_cast<double>(leases_.recalls()));
    m.set("zhsm_controller_locks_held", static_cast<double>(locks_.size()));
    const GroupCommit::Counts c = group_commit_.counts();
    m.set("zhsm_controller_commit_groups_total", static_cast<double>(c.groups));
    m.set("zhsm_controller_commits_total", static_cast<double>(c.commits));
  });
}

std::shared_ptr<RpcHandler> ControllerService::make_handler(const std::string& peer) {
  return std::make_shared<ControllerHandler>(*this, peer);
}

void ControllerService::record_db_time(std::chrono::steady_clock::duration elapsed) {
  metrics_.add("zhsm_controller_db_seconds_sum",
               std::chrono::duration<double>(elapsed).count());
  metrics_.add("zhsm_controller_db_seconds_count", 1);
}

}  // namespace zhsm
