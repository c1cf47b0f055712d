// `zhsm-admin jobs`: one jobs call to the controller, shown as a table of the copy
// jobs (running ones first, with their progress, rate and time left; then the queue in
// the order it is handed out, most endangered first; the controller sends at most
// 1000), each with its reason and the object's current/wanted copies, and one summary
// line: how many are queued and running, the copy rate over
// the last minute, the bandwidth limit per file server, the bytes left and when they
// should be done at the recent rate.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"
#include "tools/admin/wire_text.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

// Bytes the listed copy jobs still have to copy.
uint64_t bytes_left(proto::JobsReply::Reader r) {
  uint64_t left = 0;
  for (auto j : r.getJobs())
    if (j.getKind() == "copy") left += j.getBytes() - std::min(j.getBytes(), j.getBytesDone());
  return left;
}

bool running(proto::JobInfo::Reader j) { return j.getState() == "running"; }

// "37% 12.0 MiB/32.0 MiB" for a running job, "-" for a queued one.
std::string progress_text(proto::JobInfo::Reader j) {
  if (!running(j)) return "-";
  const uint64_t done = std::min(j.getBytesDone(), j.getBytes());
  const uint64_t pct = j.getBytes() == 0 ? 100 : done * 100 / j.getBytes();
  return std::to_string(pct) + "% " + human_bytes(done) + "/" + human_bytes(j.getBytes());
}

// "repair 1/2": the reason, and the object's current and wanted copies.
std::string reason_text(proto::JobInfo::Reader j) {
  std::string reason = j.getReason().cStr();
  if (reason.empty()) reason = "copy";
  if (j.getWanted() > 0)
    reason += " " + std::to_string(j.getCurrent()) + "/" + std::to_string(j.getWanted());
  return reason;
}

// Seconds until the listed jobs are done at the recent rate; -1 when the rate is 0.
int64_t eta_seconds(proto::JobsReply::Reader r) {
  uint64_t rate = r.getBytesPerSecond();
  if (rate == 0) return -1;
  return static_cast<int64_t>((bytes_left(r) + rate - 1) / rate);
}

json jobs_json(proto::JobsReply::Reader r) {
  json jobs = json::array();
  for (auto j : r.getJobs())
    jobs.push_back({{"kind", j.getKind().cStr()},
                    {"uuid", uuid_text(j.getUuid())},
                    {"from", j.getFromBackend().cStr()},
                    {"to", j.getToBackend().cStr()},
                    {"bytes", j.getBytes()},
                    {"state", j.getState().cStr()},
                    {"age_ms", j.getAgeMs()},
                    {"reason", j.getReason().cStr()},
                    {"current", j.getCurrent()},
                    {"wanted", j.getWanted()},
                    {"bytes_done", j.getBytesDone()},
                    {"bytes_per_second", j.getBytesPerSecond()},
                    {"eta_ms", running(j) && j.getEtaMs() > 0 ? json(j.getEtaMs()) : json(nullptr)}});
  return {{"jobs", std::move(jobs)},
          {"queued", r.getQueued()},
          {"running", r.getRunning()},
          {"bytes_done", r.getBytesDone()},
          {"bytes_per_second", r.getBytesPerSecond()},
          {"bandwidth_limit", r.getBandwidthLimit()},
          {"bytes_left", bytes_left(r)},
          {"eta_seconds", eta_seconds(r) < 0 ? json(nullptr) : json(eta_seconds(r))}};
}

std::string or_dash(const char* text) { return *text == '\0' ? "-" : text; }

void print_jobs(proto::JobsReply::Reader r, std::ostream& out) {
  using A = Table::Align;
  auto jobs = r.getJobs();
  if (jobs.size() == 0) {
    out << "no jobs\n";
  } else {
    Table table({{"KIND"}, {"OBJECT"}, {"FROM"}, {"TO"}, {"BYTES", A::right}, {"STATE"},
                 {"PROGRESS", A::right}, {"RATE", A::right}, {"ETA", A::right}, {"REASON"},
                 {"AGE", A::right}});
    for (auto j : jobs) {
      const bool run = running(j);
      table.add_row({j.getKind().cStr(), short_uuid_text(j.getUuid()),
                     or_dash(j.getFromBackend().cStr()), or_dash(j.getToBackend().cStr()),
                     human_bytes(j.getBytes()), j.getState().cStr(), progress_text(j),
                     run && j.getBytesPerSecond() > 0 ? human_bytes(j.getBytesPerSecond()) + "/s"
                                                      : "-",
                     run && j.getEtaMs() > 0 ? human_age(j.getEtaMs()) : "-", reason_text(j),
                     human_age(j.getAgeMs())});
    }
    table.print(out);
    uint64_t total = r.getQueued() + r.getRunning();
    if (total > jobs.size())
      out << "(the first " << jobs.size() << " of " << total << " shown)\n";
  }
  uint64_t limit = r.getBandwidthLimit();
  out << "\nqueued " << r.getQueued() << ", running " << r.getRunning() << ", rate "
      << human_bytes(r.getBytesPerSecond()) << "/s, bandwidth limit "
      << (limit == 0 ? std::string("unlimited") : human_bytes(limit) + "/s per server");
  if (jobs.size() > 0) {
    int64_t eta = eta_seconds(r);
    out << ", " << human_bytes(bytes_left(r)) << " left, done in "
        << (eta < 0 ? std::string("? (no copy finished in the last minute)")
                    : human_age(static_cast<uint64_t>(eta) * 1000));
  }
  out << '\n';
}

}  // namespace

void run_jobs(ControllerLink& link, bool json_out, std::ostream& out) {
  Reply reply = link.call([](proto::Request::Builder r) { r.setJobs(); }, proto::Response::JOBS,
                          "jobs");
  auto r = reply.response().getJobs();
  if (json_out)
    out << jobs_json(r).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  else
    print_jobs(r, out);
}

}  // namespace zhsm::admin
