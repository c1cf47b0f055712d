// The replicator's passes, its copy tasks and its answers to why, plan and jobs
// (replicator.h).
#include "controller/replicator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/clock.h"
#include "common/error.h"
#include "controller/placement.h"

namespace zhsm {
namespace {

int64_t now() { return static_cast<int64_t>(now_ms()); }

constexpr int64_t kAccessFlushMs = 10000;   // opens counted are stored at least this often
constexpr size_t kMaxAccessFiles = 100000;  // or once this many files were opened
constexpr int64_t kAckRecheckMs = 1000;     // a waiting close looks again at least this often

// The order copy tasks are handed out in: a close waiting first, then the objects with
// the fewest current copies (the most endangered), the most missing, then the oldest.
bool before(const CopyJob& a, const CopyJob& b) {
  if (a.close != b.close) return a.close;
  if (a.current != b.current) return a.current < b.current;
  const int64_t missing_a = int64_t{a.wanted} - a.current, missing_b = int64_t{b.wanted} - b.current;
  if (missing_a != missing_b) return missing_a > missing_b;
  return a.queued_ms < b.queued_ms;
}

}  // namespace

std::string CopyJob::reason() const {
  if (close) return "close";
  if (update) return "update";
  if (current < wanted) return "repair";
  return "move";
}

Replicator::Replicator(asio::io_context& io, ControllerService& service, PlacementStore& store,
                       ReplicatorOptions options)
    : io_(io), service_(service), store_(store), options_(options), timer_(io) {
  Metrics& m = service_.metrics();
  m.describe("zhsm_controller_copy_tasks", "gauge", "copy tasks queued or sent, not yet reported");
  m.describe("zhsm_controller_copies_made_total", "counter", "copies that became current");
  m.describe("zhsm_controller_copies_failed_total", "counter", "copy tasks reported as failed");
  m.describe("zhsm_controller_copies_dropped_total", "counter", "unwanted copies dropped");
  m.describe("zhsm_controller_copy_bytes_total", "counter", "bytes of copies that became current");
  m.describe("zhsm_controller_replicator_passes_total", "counter",
             "passes of the replicator over every file with data objects");
  m.describe("zhsm_controller_placement_problems", "gauge",
             "placement problems of the last replicator pass (rules that cannot be met)");
  m.describe("zhsm_controller_close_waits_total", "counter",
             "closes that waited for their chain's ack copies");
  m.describe("zhsm_controller_close_wait_failures_total", "counter",
             "closes whose ack copies did not become current in time");
  m.on_scrape([this](Metrics& mm) {
    mm.set("zhsm_controller_copy_tasks", jobs_.size());
    mm.set("zhsm_controller_placement_problems", problems().size());
  });
}

void Replicator::start() { asio::co_spawn(io_, [this] { return loop(); }, asio::detached); }

void Replicator::stop() {
  stopped_ = true;
  timer_.cancel();
  for (auto& [ino, t] : waiters_) t->cancel();
}

void Replicator::poke() {
  poked_ = true;
  timer_.cancel();
}

awaitable<void> Replicator::reload() {
  co_await refresh();
  poke();
}

void Replicator::changed(uint64_t ino) {
  if (dirty_.size() >= kMaxDirty) {  // too many to track one by one: a whole pass instead
    dirty_.clear();
    poke();
    return;
  }
  dirty_.insert(ino);
  timer_.cancel();
}

awaitable<std::map<std::string, Chain>> Replicator::load_chains() {
  auto rows = co_await service_.db([&] { return store_.chains(); });
  std::vector<std::string> errors;
  auto chains = parse_chains(rows, &errors);
  for (const auto& e : errors) spdlog::error("event=chain_rule_invalid {}", e);
  co_return chains;
}

awaitable<void> Replicator::loop() {
  auto last_pass = std::chrono::steady_clock::now() - options_.interval;
  while (!stopped_) {
    try {
      if (!dirty_.empty()) co_await visit_dirty();
      if (!accesses_.empty() && (now() - accesses_flushed_ms_ >= kAccessFlushMs ||
                                 accesses_.size() >= kMaxAccessFiles))
        co_await flush_accesses();
      bool due = std::chrono::steady_clock::now() - last_pass >= options_.interval;
      if (poked_) {  // a new pass, from the start, now
        poked_ = false;
        cursor_ = 0;
        pass_begun_ = false;
        due = true;
      }
      if (pass_begun_ || due) {
        if (!pass_begun_) last_pass = std::chrono::steady_clock::now();
        co_await pass_batch();
        pass_begun_ = cursor_ != 0;
      }
    } catch (const std::exception& e) {
      spdlog::warn("event=replicator_failed error=\"{}\"", e.what());
      cursor_ = 0;
      pass_begun_ = false;
    }
    if (stopped_) break;
    if (pass_begun_ || poked_ || !dirty_.empty()) continue;  // more to do at once
    timer_.expires_at(last_pass + options_.interval);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<void> Replicator::visit_dirty() {
  if (servers_.empty() && chains_.empty()) co_await refresh();
  std::vector<uint64_t> inos(dirty_.begin(), dirty_.end());
  dirty_.clear();
  const int64_t t = now();
  const int64_t since = accesses_since_hour();
  for (uint64_t ino : inos) {
    auto file = co_await service_.db([&] { return store_.placement_file(ino, since); });
    if (file) co_await look_at(*file, t);
  }
}

awaitable<void> Replicator::look_at(const PlacementFile& file, int64_t now_ms) {
  FileDecision d = decide_copies(file, chains_, servers_, now_ms, options_.decide);
  for (const auto& p : d.problems) {
    pass_problems_.insert(p);
    if (logged_problems_.insert(p).second) spdlog::warn("event=placement_problem {}", p);
  }
  co_await carry_out(file, d);
}

awaitable<void> Replicator::refresh() {
  servers_ = co_await service_.db([&] { return service_.store().servers(); });
  for (auto& s : servers_) s.load = load_of(s.id);
  chains_ = co_await load_chains();
  chains_trivial_ = chains_.size() == 1 && chains_.count("default") &&
                    chains_["default"].rules.size() == 1 &&
                    format_rule(chains_["default"].rules[0]) == "use any";
  max_ack_ = 1;
  for (const auto& [name, chain] : chains_) max_ack_ = std::max(max_ack_, chain.ack);
}

int64_t Replicator::accesses_since_hour() const {
  return (now() / 1000 - int64_t{options_.access_window_s}) / 3600;
}

void Replicator::accessed(uint64_t ino) {
  ++accesses_[ino];
  if (accesses_.size() >= kMaxAccessFiles) timer_.cancel();  // the loop stores them now
}

awaitable<void> Replicator::flush_accesses() {
  accesses_flushed_ms_ = now();
  std::vector<std::pair<uint64_t, uint64_t>> counts(accesses_.begin(), accesses_.end());
  accesses_.clear();
  const int64_t hour = now() / 1000 / 3600;
  const int64_t forget = accesses_since_hour();
  try {
    co_await service_.db([&] { store_.add_accesses(counts, hour, forget); });
  } catch (const std::exception& e) {  // counts are hints: lost ones are not worth a retry
    spdlog::warn("event=accesses_not_stored files={} error=\"{}\"", counts.size(), e.what());
  }
}

awaitable<void> Replicator::pass_batch() {
  if (cursor_ == 0) {  // a new pass: fresh servers and chains
    co_await refresh();
    pass_problems_.clear();
    // Sent tasks nobody answered in time are forgotten; the pass queues them again.
    const int64_t t = now();
    std::erase_if(jobs_, [&](const auto& kv) {
      return kv.second.sent_ms != 0 && t - kv.second.sent_ms > options_.task_timeout_ms;
    });
  }
  uint64_t after = cursor_;
  const int64_t since = accesses_since_hour();
  auto files = co_await service_.db(
      [&] { return store_.placement_files(after, options_.batch, since); });
  const int64_t t = now();
  for (const auto& file : files) co_await look_at(file, t);
  cursor_ = files.size() < options_.batch || files.empty() ? 0 : files.back().attr.ino;
  if (cursor_ == 0) {
    service_.metrics().add("zhsm_controller_replicator_passes_total");
    last_problems_.assign(pass_problems_.begin(), pass_problems_.end());
    // Problems that went away may be logged again should they come back.
    std::erase_if(logged_problems_, [&](const std::string& p) { return !pass_problems_.count(p); });
  }
}

awaitable<void> Replicator::carry_out(const PlacementFile& file, const FileDecision& decision) {
  for (const auto& a : decision.actions) {
    const ChunkInfo& chunk = *a.chunk;
    if (a.kind == CopyActionKind::kDrop) {
      // A copy task to that backend still runs: drop only after its report, else the
      // object it installs would outlive the deletion queued now. A queued one is cancelled.
      if (auto job = jobs_.find(std::make_pair(chunk.uuid, a.backend)); job != jobs_.end()) {
        if (job->second.sent_ms != 0) continue;
        jobs_.erase(job);
      }
      bool dropped = co_await service_.db([&] { return store_.drop_copy(chunk.uuid, a.backend); });
      if (dropped) {
        service_.metrics().add("zhsm_controller_copies_dropped_total");
        spdlog::info("event=copy_dropped object={} backend={} server={} path=\"{}\"",
                     chunk.uuid.str(), a.backend_name, a.server_name, file.path);
      }
      continue;
    }
    auto key = std::make_pair(chunk.uuid, a.backend);
    auto it = jobs_.find(key);
    if (it != jobs_.end()) {
      // A queued task of an older version is brought up to date; a sent one runs its course.
      if (it->second.sent_ms == 0 && it->second.version != chunk.version) {
        it->second.version = chunk.version;
        it->second.size = chunk.size;
        it->second.sha256 = chunk.sha256;
        it->second.sources = a.sources;
      }
      it->second.current = a.current;
      it->second.close = waiters_.count(file.attr.ino) > 0;
      continue;
    }
    bool may = co_await service_.db([&] { return store_.want_copy(chunk.uuid, a.backend); });
    if (!may) continue;  // its deletion there is still pending: a later pass copies it
    CopyJob job;
    job.uuid = chunk.uuid;
    job.backend = a.backend;
    job.backend_name = a.backend_name;
    job.server = a.server;
    job.from = a.sources.front().backend_name;
    job.ino = file.attr.ino;
    job.fsid = file.attr.fsid;
    job.index = chunk.index;
    job.version = chunk.version;
    job.size = chunk.size;
    job.sha256 = chunk.sha256;
    job.mtime_ns = file.attr.mtime_ns;
    job.sources = a.sources;
    job.queued_ms = now();
    job.current = a.current;
    job.wanted = a.wanted;
    job.update = a.update;
    job.close = waiters_.count(file.attr.ino) > 0;
    spdlog::info("event=copy_queued object={} chunk={} version={} bytes={} from={} to={} "
                 "reason={} current={} wanted={} path=\"{}\"",
                 chunk.uuid.str(), chunk.index, chunk.version, chunk.size, job.from,
                 a.backend_name, job.reason(), a.current, a.wanted, file.path);
    jobs_.emplace(key, std::move(job));
  }
}

awaitable<void> Replicator::place_new_data(OpenResult& result) {
  if (!result.write_target || chains_trivial_ || servers_.empty()) co_return;
  const uint64_t ino = result.attr.ino;
  const int64_t since = accesses_since_hour();
  auto file = co_await service_.db([&] { return store_.placement_file(ino, since); });
  if (!file) co_return;
  const int64_t t = now();
  const uint64_t chunk_size = service_.store().settings().chunk_size;
  auto backends = new_data_backends(servers_, t, options_.decide, chunk_size);
  const std::string start = file->chain.empty() ? "default" : file->chain;
  FileFacts facts = file_facts(*file, t);
  auto chain = chains_.find(start);
  const uint32_t stripe = chain == chains_.end() ? 1 : std::max<uint32_t>(chain->second.stripe, 1);
  auto target_of = [&](uint64_t index) -> std::optional<CopyInfo> {
    facts.chunk_index = index;
    Evaluation ev = evaluate_chains(chains_, start, facts, backends);
    if (ev.backends.empty()) return std::nullopt;
    for (const auto& s : servers_)
      for (const auto& b : s.backends)
        if (b.id == ev.backends.front())
          return CopyInfo{b.id, b.name, s.id, s.name, s.address, proto::CopyState::CURRENT, 0};
    return std::nullopt;
  };
  // The rules place nothing now: the store's pick stands.
  auto first = target_of(0);
  if (!first) co_return;
  result.write_target = first;
  if (stripe > 1) {  // one target per object index modulo the stripe
    result.write_targets.push_back(*first);
    for (uint64_t i = 1; i < stripe; ++i) {
      auto t_i = target_of(i);
      result.write_targets.push_back(t_i ? *t_i : *first);
    }
  }
}

std::vector<CopyJob> Replicator::take_tasks(const Uuid& server) {
  std::vector<CopyJob> out;
  uint32_t in_flight = 0;
  std::vector<CopyJob*> queued;
  for (auto& [key, job] : jobs_) {
    if (job.server != server) continue;
    if (job.sent_ms != 0)
      ++in_flight;
    else
      queued.push_back(&job);
  }
  std::sort(queued.begin(), queued.end(), [](const CopyJob* a, const CopyJob* b) {
    return before(*a, *b);
  });
  const int64_t t = now();
  for (CopyJob* job : queued) {
    if (out.size() >= options_.tasks_per_heartbeat || in_flight >= options_.tasks_in_flight) break;
    job->sent_ms = t;
    ++in_flight;
    out.push_back(*job);
  }
  return out;
}

void Replicator::progress(const Uuid& server, const std::vector<CopyProgressReport>& running,
                          uint32_t load) {
  loads_[server] = load;
  for (const auto& p : running) {
    auto it = jobs_.find(std::make_pair(p.uuid, p.backend));
    if (it == jobs_.end() || it->second.server != server) continue;
    it->second.copying = true;
    it->second.bytes_done = std::min(p.bytes_done, it->second.size);
    it->second.running_ms = p.running_ms;
  }
}

uint32_t Replicator::load_of(const Uuid& server) const {
  auto it = loads_.find(server);
  return it == loads_.end() ? 0 : it->second;
}

ReadHint Replicator::read_hint(const Uuid& server) const {
  ReadHint hint;
  hint.load = load_of(server);
  for (const auto& s : servers_)
    if (s.id == server) hint.leaving = s.maintenance || s.draining;
  return hint;
}

uint32_t Replicator::interval_for(const Uuid& server, uint32_t normal) const {
  for (const auto& [key, job] : jobs_)
    if (job.server == server) return std::min(normal, options_.busy_interval_ms);
  return normal;
}

void Replicator::wake_waiters(uint64_t ino) {
  auto [first, last] = waiters_.equal_range(ino);
  for (auto it = first; it != last; ++it) it->second->cancel();
}

awaitable<void> Replicator::await_copies(uint64_t ino, std::vector<CommittedChunk> chunks) {
  if (max_ack_ <= 1 || chunks.empty()) co_return;  // no chain asks a close to wait
  asio::steady_timer timer(io_);
  auto me = waiters_.emplace(ino, &timer);  // before the first wait: the visit sees it
  struct Unregister {
    Replicator* r;
    decltype(me) it;
    ~Unregister() { r->waiters_.erase(it); }
  } unregister{this, me};
  const int64_t deadline = now() + options_.ack_timeout_ms;
  service_.metrics().add("zhsm_controller_close_waits_total");
  for (;;) {
    const int64_t since = accesses_since_hour();
    auto file = co_await service_.db([&] { return store_.placement_file(ino, since); });
    if (!file) co_return;  // deleted meanwhile: nothing to wait for
    FileDecision d = decide_copies(*file, chains_, servers_, now(), options_.decide);
    uint32_t ack = 1;
    for (const auto& cd : d.chunks) ack = std::max(ack, cd.evaluation.ack);
    if (ack <= 1) co_return;
    std::string short_of;  // the first chunk still short of its copies
    for (const auto& c : chunks) {
      const ChunkInfo* now_chunk = nullptr;
      const Evaluation* ev = nullptr;
      for (const auto& cd : d.chunks)
        if (cd.chunk && cd.chunk->index == c.index) {
          now_chunk = cd.chunk;
          ev = &cd.evaluation;
        }
      // Replaced or rewritten since: the later writer's close waits for its own copies.
      if (!now_chunk || now_chunk->uuid != c.uuid || now_chunk->version != c.version) continue;
      uint32_t current = 0;
      for (const auto& copy : now_chunk->copies)
        current += copy.state == proto::CopyState::CURRENT && copy.version == c.version;
      if (current >= ev->ack) continue;
      // The chains' backends on servers that can take a copy now: fewer than asked for
      // means waiting could only end in the timeout.
      uint32_t reachable = 0;
      for (const Uuid& b : ev->backends)
        for (const auto& s : servers_)
          for (const auto& be : s.backends)
            if (be.id == b && !s.maintenance &&
                server_live(s.last_heartbeat_ms, now(), options_.decide.heartbeat_timeout_ms))
              ++reachable;
      if (reachable < ev->ack) {
        service_.metrics().add("zhsm_controller_close_wait_failures_total");
        throw Error(Errc::io,
                    fmt::format("{} of {} copies of chunk {} of {} are current, and the chains "
                                "find only {} reachable backends; the data is stored, the other "
                                "copies follow when servers return",
                                current, ev->ack, c.index, file->path, reachable));
      }
      short_of = fmt::format("{} of {} copies of chunk {} of {} are current", current, ev->ack,
                             c.index, file->path);
      break;
    }
    if (short_of.empty()) co_return;
    if (now() >= deadline) {
      service_.metrics().add("zhsm_controller_close_wait_failures_total");
      spdlog::warn("event=close_ack_timeout ino={} {}", ino, short_of);
      // io, not timeout: a client retries a timeout as a transport failure.
      throw Error(Errc::io,
                  fmt::format("{} after {} ms; the data is stored, the other copies follow",
                              short_of, options_.ack_timeout_ms));
    }
    timer.expires_after(std::chrono::milliseconds(
        std::min<int64_t>(kAckRecheckMs, std::max<int64_t>(deadline - now(), 1))));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) throw Error(Errc::disconnected, "the controller is stopping");
  }
}

awaitable<void> Replicator::reported(const Uuid& server, std::vector<CopyReport> reports) {
  std::set<uint64_t> files;  // of the reported objects, to look at again
  for (const auto& r : reports) {
    auto it = jobs_.find(std::make_pair(r.uuid, r.backend));
    uint64_t size = it != jobs_.end() ? it->second.size : 0;
    if (it != jobs_.end()) {
      files.insert(it->second.ino);
      jobs_.erase(it);
    }
    if (!r.ok) {
      service_.metrics().add("zhsm_controller_copies_failed_total");
      spdlog::warn("event=copy_failed object={} backend={} server={} version={} error=\"{}\"",
                   r.uuid.str(), r.backend.str(), server.str(), r.version, r.error);
      continue;
    }
    bool made = co_await service_.db(
        [&] { return store_.copy_made(r.uuid, r.backend, r.version, r.sha256); });
    if (!made) {
      spdlog::info("event=copy_outdated object={} backend={} version={} (the object changed "
                   "while it was copied; it is copied again)",
                   r.uuid.str(), r.backend.str(), r.version);
      continue;
    }
    bytes_done_ += size;
    recent_.emplace_back(now(), size);
    while (!recent_.empty() && recent_.front().first < now() - 60000) recent_.pop_front();
    service_.metrics().add("zhsm_controller_copies_made_total");
    service_.metrics().add("zhsm_controller_copy_bytes_total", static_cast<double>(size));
    spdlog::info("event=copy_made object={} backend={} server={} version={} bytes={}",
                 r.uuid.str(), r.backend.str(), server.str(), r.version, size);
  }
  for (uint64_t ino : files) {
    changed(ino);       // drops may now be due
    wake_waiters(ino);  // and closes waiting for copies may be answered
  }
}

uint64_t Replicator::bytes_per_second() const {
  // Over the last minute, or over the time since the first copy in it when copying began
  // later (at least 5 s, so that one copy alone does not make a burst look like a rate).
  const int64_t t = now();
  const int64_t since = t - 60000;
  uint64_t sum = 0;
  int64_t first = t;
  for (const auto& [at, bytes] : recent_)
    if (at >= since) {
      sum += bytes;
      first = std::min(first, at);
    }
  const int64_t span_ms = std::clamp<int64_t>(t - first, 5000, 60000);
  return sum * 1000 / static_cast<uint64_t>(span_ms);
}

std::vector<const CopyJob*> Replicator::jobs() const {
  std::vector<const CopyJob*> out;
  for (const auto& [key, job] : jobs_) out.push_back(&job);
  // Running ones first, then those sent (the oldest sent first), then the queue in the order
  // it is handed out.
  std::sort(out.begin(), out.end(), [](const CopyJob* a, const CopyJob* b) {
    if (a->copying != b->copying) return a->copying;
    if ((a->sent_ms != 0) != (b->sent_ms != 0)) return a->sent_ms != 0;
    if (a->sent_ms != 0) return a->sent_ms < b->sent_ms;
    return before(*a, *b);
  });
  return out;
}

awaitable<WhyResult> Replicator::why(uint64_t ino) {
  WhyResult w;
  if (!accesses_.empty()) co_await flush_accesses();  // the answer counts every open so far
  const int64_t since = accesses_since_hour();
  auto file = co_await service_.db([&] { return store_.placement_file(ino, since); });
  if (!file) throw Error(Errc::invalid, fmt::format("inode {} is not a regular file", ino));
  co_await refresh();  // what the replicator itself would decide now
  w.file = std::move(*file);
  w.servers = servers_;
  w.decision = decide_copies(w.file, chains_, w.servers, now(), options_.decide);
  co_return w;
}

awaitable<PlanResult> Replicator::plan(std::vector<ChainRow> preview) {
  PlanResult plan;
  if (!accesses_.empty()) co_await flush_accesses();
  co_await refresh();
  // Copies: the loop may refresh its own snapshot while the plan reads the files.
  const std::vector<ServerState> servers = servers_;
  std::map<std::string, Chain> chains = chains_;
  for (auto& [name, chain] : parse_chains(preview, nullptr)) chains[name] = std::move(chain);
  std::map<std::pair<std::string, std::string>, PlanLine> lines;
  std::set<std::string> problems;
  uint64_t after = 0;
  const int64_t t = now();
  for (;;) {
    const int64_t since = accesses_since_hour();
    auto files = co_await service_.db([&] { return store_.placement_files(after, 1000, since); });
    if (files.empty()) break;
    after = files.back().attr.ino;
    for (const auto& file : files) {
      plan.objects += file.chunks.size();
      FileDecision d = decide_copies(file, chains, servers, t, options_.decide);
      for (const auto& p : d.problems) problems.insert(p);
      auto add = [&](const std::string& from, const std::string& to, uint64_t bytes) {
        PlanLine& line = lines[{from, to}];
        line.from = from;
        line.to = to;
        line.objects += 1;
        line.bytes += bytes;
      };
      for (const auto& a : d.actions)
        if (a.kind == CopyActionKind::kCopy)
          add(a.sources.front().backend_name, a.backend_name, a.chunk->size);
      // The drops that follow once the copies are current (the replicator makes them only
      // then), so that a move shows whole: copy there, drop here.
      for (const auto& cd : d.chunks) {
        if (!cd.chunk || !cd.evaluation.complete()) continue;
        for (const auto& c : cd.chunk->copies)
          if (std::find(cd.evaluation.backends.begin(), cd.evaluation.backends.end(), c.backend) ==
              cd.evaluation.backends.end())
            add(c.backend_name, "", cd.chunk->size);
      }
      for (const auto& s : d.waits) {
        // Copies the chains want updated on a server that is away: list it to wake.
        PlanLine& line = lines[{"", "(waiting for " + s + ")"}];
        line.to = "(waiting for " + s + ")";
        if (std::find(line.wakes.begin(), line.wakes.end(), s) == line.wakes.end())
          line.wakes.push_back(s);
        line.objects += 1;
      }
    }
    if (files.size() < 1000) break;
  }
  for (auto& [key, line] : lines) plan.moves.push_back(std::move(line));
  plan.problems.assign(problems.begin(), problems.end());
  co_return plan;
}

std::vector<std::string> Replicator::problems() const {
  if (!last_problems_.empty() || cursor_ == 0) return last_problems_;
  return {pass_problems_.begin(), pass_problems_.end()};  // the first pass is under way
}

size_t Replicator::running_jobs() const {
  size_t n = 0;
  for (const auto& [key, job] : jobs_) n += job.copying;
  return n;
}

}  // namespace zhsm
