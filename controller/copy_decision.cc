// The copy decision for one file (copy_decision.h).
#include "controller/copy_decision.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "controller/placement.h"

namespace zhsm {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;

uint64_t seconds_since(int64_t then_ns, int64_t now_ms) {
  int64_t now_ns = now_ms * 1'000'000;
  return then_ns >= now_ns ? 0 : static_cast<uint64_t>((now_ns - then_ns) / kNsPerS);
}

// How a server stands for placement.
struct ServerView {
  const ServerState* state = nullptr;
  bool live = false;
  bool lost = false;  // offline past the repair grace, not in maintenance
};

const CopyInfo* copy_on(const ChunkInfo& chunk, const Uuid& backend) {
  for (const auto& c : chunk.copies)
    if (c.backend == backend) return &c;
  return nullptr;
}

bool is_current(const ChunkInfo& chunk, const CopyInfo& copy) {
  return copy.state == proto::CopyState::CURRENT && copy.version == chunk.version;
}

void add_once(std::vector<std::string>& list, std::string text) {
  if (std::find(list.begin(), list.end(), text) == list.end()) list.push_back(std::move(text));
}

}  // namespace

FileFacts file_facts(const PlacementFile& file, int64_t now_ms) {
  FileFacts f;
  f.size = file.attr.size;
  f.path = file.path;
  auto slash = file.path.rfind('/');
  f.name = slash == std::string::npos ? file.path : file.path.substr(slash + 1);
  f.age_s = seconds_since(file.attr.mtime_ns, now_ms);
  f.atime_s = seconds_since(file.attr.atime_ns, now_ms);
  f.uid = file.attr.uid;
  f.gid = file.attr.gid;
  f.accesses = file.accesses;
  return f;
}

std::map<std::string, Chain> parse_chains(const std::vector<ChainRow>& rows,
                                          std::vector<std::string>* errors) {
  std::map<std::string, Chain> out;
  for (const auto& row : rows) {
    Chain chain{row.name, row.copies, {}, row.stripe, std::max<uint32_t>(row.ack, 1)};
    for (size_t i = 0; i < row.rules.size(); ++i) {
      ParsedRule parsed = parse_rule(row.rules[i]);
      if (parsed.rule)
        chain.rules.push_back(*parsed.rule);
      else if (errors)
        errors->push_back(fmt::format("chain {} rule {} ('{}') does not parse: {}", row.name, i + 1,
                                      row.rules[i], parsed.error.message));
    }
    out.emplace(row.name, std::move(chain));
  }
  return out;
}

std::vector<BackendFacts> new_data_backends(const std::vector<ServerState>& servers,
                                            int64_t now_ms, const CopyDecisionOptions& options,
                                            uint64_t min_free_bytes) {
  std::vector<BackendFacts> out;
  for (const auto& s : servers) {
    const bool live = server_live(s.last_heartbeat_ms, now_ms, options.heartbeat_timeout_ms);
    for (const auto& b : s.backends) {
      BackendFacts f;
      f.id = b.id;
      f.name = b.name;
      f.tier = b.tier;
      f.server = s.id;
      f.server_name = s.name;
      f.free_bytes = b.free_bytes;
      f.load = s.load;
      f.usable = live && !s.maintenance && !s.draining && b.free_bytes >= min_free_bytes;
      if (!f.usable)
        f.unusable_why = !live            ? fmt::format("server {} is offline", s.name)
                         : s.maintenance ? fmt::format("server {} is in maintenance", s.name)
                         : s.draining    ? fmt::format("server {} is draining", s.name)
                                         : fmt::format("full ({} bytes free)", b.free_bytes);
      out.push_back(std::move(f));
    }
  }
  return out;
}

FileDecision decide_copies(const PlacementFile& file, const std::map<std::string, Chain>& chains,
                           const std::vector<ServerState>& servers, int64_t now_ms,
                           const CopyDecisionOptions& options) {
  FileDecision d;
  d.chain = file.chain.empty() ? "default" : file.chain;
  const FileFacts facts = file_facts(file, now_ms);

  std::map<Uuid, ServerView> views;
  for (const auto& s : servers) {
    ServerView v{&s, server_live(s.last_heartbeat_ms, now_ms, options.heartbeat_timeout_ms), false};
    v.lost = !v.live && !s.maintenance && now_ms - s.last_heartbeat_ms > options.repair_grace_ms;
    views[s.id] = v;
  }

  // A file without data objects (inline, or empty) is evaluated once, as if it had one
  // with no copies: what `why` shows; nothing is copied or dropped for it.
  if (file.chunks.empty()) {
    auto backends = new_data_backends(servers, now_ms, options, options.min_free_bytes);
    d.chunks.push_back(ChunkDecision{nullptr, evaluate_chains(chains, d.chain, facts, backends)});
    return d;
  }

  for (const auto& chunk : file.chunks) {
    // New copies go where new data could; a backend keeps a copy it already holds.
    auto backends = new_data_backends(servers, now_ms, options,
                                      std::max(options.min_free_bytes, chunk.size));
    for (BackendFacts& f : backends) {
      const ServerView& v = views[f.server];
      const CopyInfo* copy = copy_on(chunk, f.id);
      const bool holds = copy != nullptr && copy->state != proto::CopyState::TARGET;
      const bool away = !v.live || v.state->maintenance;  // asleep, in maintenance, not lost
      // A current copy holds its place. So does any copy on a server that is away but not
      // lost: an absent server is not a failed one, and its copy is brought up to date
      // when it returns rather than made anew elsewhere.
      f.holds_current = holds && (is_current(chunk, *copy) || away);
      // A copy under way (a target row) is as good as an outdated one: choosing another
      // backend while it runs would only make a copy to throw away.
      f.holds_copy = copy != nullptr;
      if (holds && !v.state->draining && !v.lost) {
        f.usable = true;
        f.unusable_why.clear();
      }
    }
    FileFacts chunk_facts = facts;
    chunk_facts.chunk_index = chunk.index;
    ChunkDecision cd{&chunk, evaluate_chains(chains, d.chain, chunk_facts, backends)};
    for (const auto& p : cd.evaluation.problems) add_once(d.problems, p);

    // Sources: current copies on live servers not in maintenance.
    std::vector<CopyInfo> sources;
    for (const auto& c : chunk.copies) {
      auto it = views.find(c.server);
      if (is_current(chunk, c) && it != views.end() && it->second.live &&
          !it->second.state->maintenance)
        sources.push_back(c);
    }
    uint32_t current = 0;  // copies of the newest version on servers that are not lost
    for (const auto& c : chunk.copies) {
      auto it = views.find(c.server);
      if (is_current(chunk, c) && it != views.end() && !it->second.lost) ++current;
    }
    bool all_current = true;
    for (const auto& want : cd.evaluation.backends) {
      const CopyInfo* copy = copy_on(chunk, want);
      if (copy && is_current(chunk, *copy)) continue;
      all_current = false;
      const BackendFacts* f = nullptr;
      for (const auto& b : backends)
        if (b.id == want) f = &b;
      if (!f) continue;
      const ServerView& v = views[f->server];
      if (!v.live || v.state->maintenance) {
        add_once(d.waits, f->server_name);
        continue;
      }
      if (sources.empty()) {
        // A current copy on a server that is away (asleep, in maintenance, offline but not
        // lost) is a source once it wakes: the plan lists it to wake.
        for (const auto& c : chunk.copies) {
          auto it = views.find(c.server);
          if (is_current(chunk, c) && it != views.end() && !it->second.lost)
            add_once(d.waits, c.server_name);
        }
        add_once(d.problems, fmt::format("chunk {} of {}: no current copy on a reachable server "
                                         "to copy to {} from",
                                         chunk.index, file.path, f->name));
        continue;
      }
      CopyAction a;
      a.kind = CopyActionKind::kCopy;
      a.chunk = &chunk;
      a.backend = want;
      a.backend_name = f->name;
      a.server = f->server;
      a.server_name = f->server_name;
      a.sources = sources;
      a.current = current;
      a.wanted = cd.evaluation.copies;
      a.update = copy != nullptr && copy->state != proto::CopyState::TARGET;
      d.actions.push_back(std::move(a));
    }
    if (all_current && cd.evaluation.complete()) {
      std::set<Uuid> wanted(cd.evaluation.backends.begin(), cd.evaluation.backends.end());
      for (const auto& c : chunk.copies) {
        if (wanted.count(c.backend)) continue;
        CopyAction a;
        a.kind = CopyActionKind::kDrop;
        a.chunk = &chunk;
        a.backend = c.backend;
        a.backend_name = c.backend_name;
        a.server = c.server;
        a.server_name = c.server_name;
        d.actions.push_back(std::move(a));
      }
    }
    d.chunks.push_back(std::move(cd));
  }
  return d;
}

}  // namespace zhsm
