// Admin requests about placement: editing file resolve chains, naming a chain for a
// directory, why a file sits where it sits, what the chains would move (plan), the copy
// jobs, and the maintenance and drain marks of file servers.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <regex>

#include "common/clock.h"
#include "common/error.h"
#include "controller/chain.h"
#include "controller/controller_handler.h"
#include "controller/proto_convert.h"
#include "controller/replicator.h"

namespace zhsm {
namespace {

constexpr uint32_t kMaxCopies = 16;
constexpr uint32_t kMaxStripe = 64;
constexpr size_t kMaxRules = 256;
// Tries of a rule edit that meets another edit of the same chain (edit_rules).
constexpr int kEditAttempts = 5;

void check_chain_name(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9._-]{1,64}");
  if (!std::regex_match(name, kName))
    throw Error(Errc::invalid,
                fmt::format("'{}' is not a chain name (1 to 64 of A-Z a-z 0-9 . _ -)", name));
}

// The copies, stripe and ack of a chain create or set, checked; 0 stays 0 (unchanged).
void check_numbers(uint32_t copies, uint32_t stripe, uint32_t ack) {
  if (copies > kMaxCopies)
    throw Error(Errc::invalid, fmt::format("at most {} copies, not {}", kMaxCopies, copies));
  if (stripe > kMaxStripe)
    throw Error(Errc::invalid,
                fmt::format("a stripe of at most {} backends, not {}", kMaxStripe, stripe));
  if (ack > kMaxCopies)
    throw Error(Errc::invalid, fmt::format("an ack of at most {} copies, not {}", kMaxCopies, ack));
}

std::optional<uint32_t> unless_zero(uint32_t v) {
  return v == 0 ? std::nullopt : std::optional<uint32_t>(v);
}

const ChainRow& find_chain(const std::vector<ChainRow>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return r;
  throw Error(Errc::not_found, fmt::format("no chain '{}'", name));
}

capnp::Data::Reader data_of(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

}  // namespace

awaitable<void> ControllerHandler::handle_chains(proto::Request::Reader req,
                                                 proto::Response::Builder resp) {
  using W = proto::Request::Which;
  PlacementStore* ps = service_.placement();
  Replicator* replicator = service_.replicator();
  if (!ps || !replicator)
    throw Error(Errc::not_supported, "this controller's store keeps no file resolve chains");
  PlacementStore& store = *ps;

  // The chains with directory paths, as the reply lists them.
  auto fill_chains = [&](const std::vector<const ChainRow*>& rows) -> awaitable<void> {
    std::vector<std::vector<std::string>> dirs;
    for (const ChainRow* row : rows) {
      std::vector<std::string> paths;
      for (uint64_t ino : row->dirs)
      {
        std::string path = co_await service_.db([&] { return store.path_of(ino); });
        paths.push_back(std::move(path));
      }
      dirs.push_back(std::move(paths));
    }
    auto list = resp.initChains(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      list[i].setName(rows[i]->name);
      list[i].setCopies(rows[i]->copies);
      list[i].setStripe(rows[i]->stripe);
      list[i].setAck(rows[i]->ack);
      auto rules = list[i].initRules(rows[i]->rules.size());
      for (size_t k = 0; k < rows[i]->rules.size(); ++k) rules.set(k, rows[i]->rules[k]);
      auto d = list[i].initDirs(dirs[i].size());
      for (size_t k = 0; k < dirs[i].size(); ++k) d.set(k, data_of(dirs[i][k]));
    }
  };
  auto load = [&]() -> awaitable<std::vector<ChainRow>> {
    co_return co_await service_.db([&] { return store.chains(); });
  };
  // Replaces the rules of `name` (`expected` when read) with `rules` after checking every
  // jump target exists; stale when another edit changed them since.
  auto save_rules = [&](const std::vector<ChainRow>& rows, const std::string& name,
                        const std::vector<std::string>& expected,
                        std::vector<std::string> rules) -> awaitable<void> {
    for (const auto& text : rules) {
      ParsedRule p = parse_rule(text);
      if (p.rule && p.rule->action == ChainAction::kJump)
        find_chain(rows, p.rule->target);  // not_found names the missing chain
    }
    co_await service_.db([&] { store.set_chain_rules(name, expected, rules); });
    auto after = co_await load();
    std::vector<const ChainRow*> one{&find_chain(after, name)};
    co_await fill_chains(one);
    co_await replicator->reload();
  };
  // Reads the rules of `name`, makes the new ones with `change` (which may throw), and
  // saves them if no other edit of the chain came in between; else reads and edits again,
  // up to kEditAttempts times.
  using RulesChange = std::function<std::vector<std::string>(const std::vector<std::string>&)>;
  auto edit_rules = [&](const std::string& name, const RulesChange& change) -> awaitable<void> {
    for (int attempt = 1;; ++attempt) {
      auto rows = co_await load();
      const std::vector<std::string> before = find_chain(rows, name).rules;
      std::vector<std::string> rules = change(before);
      bool again = false;
      try {
        co_await save_rules(rows, name, before, std::move(rules));
      } catch (const Error& e) {
        if (e.code() != Errc::stale || attempt == kEditAttempts) throw;
        again = true;
      }
      if (!again) co_return;
      spdlog::info("event=chain_edit_retried chain={} attempt={} peer={}", name, attempt, peer_);
    }
  };

  switch (req.which()) {
    case W::CHAIN_LIST: {
      auto rows = co_await load();
      std::vector<const ChainRow*> all;
      for (const auto& r : rows) all.push_back(&r);
      co_await fill_chains(all);
      co_return;
    }
    case W::CHAIN_SHOW: {
      auto rows = co_await load();
      std::vector<const ChainRow*> one{&find_chain(rows, req.getChainShow().cStr())};
      co_await fill_chains(one);
      co_return;
    }
    case W::CHAIN_CREATE: {
      auto c = req.getChainCreate();
      std::string name = c.getName();
      check_chain_name(name);
      check_numbers(c.getCopies(), c.getStripe(), c.getAck());
      uint32_t copies = c.getCopies() == 0 ? 1 : c.getCopies();
      uint32_t stripe = c.getStripe() == 0 ? 1 : c.getStripe();
      uint32_t ack = c.getAck() == 0 ? 1 : c.getAck();
      co_await service_.db([&] { store.create_chain(name, copies, stripe, ack); });
      spdlog::info("event=chain_created chain={} copies={} stripe={} ack={} peer={}", name, copies,
                   stripe, ack, peer_);
      co_await replicator->reload();
      resp.setDone();
      co_return;
    }
    case W::CHAIN_SET: {
      auto c = req.getChainSet();
      std::string name = c.getName();
      check_numbers(c.getCopies(), c.getStripe(), c.getAck());
      if (c.getCopies() == 0 && c.getStripe() == 0 && c.getAck() == 0)
        throw Error(Errc::invalid, "chain set: give copies, stripe or ack");
      co_await service_.db([&] {
        store.set_chain_numbers(name, unless_zero(c.getCopies()), unless_zero(c.getStripe()),
                                unless_zero(c.getAck()));
      });
      auto rows = co_await load();
      const ChainRow& row = find_chain(rows, name);
      spdlog::info("event=chain_set chain={} copies={} stripe={} ack={} peer={}", name, row.copies,
                   row.stripe, row.ack, peer_);
      std::vector<const ChainRow*> one{&row};
      co_await fill_chains(one);
      co_await replicator->reload();
      co_return;
    }
    case W::CHAIN_DELETE: {
      std::string name = req.getChainDelete();
      if (name == "default")
        throw Error(Errc::busy, "chain 'default' is where evaluation starts; it cannot be deleted");
      auto rows = co_await load();
      find_chain(rows, name);
      for (const auto& r : rows)
        for (size_t i = 0; i < r.rules.size(); ++i) {
          ParsedRule p = parse_rule(r.rules[i]);
          if (p.rule && p.rule->action == ChainAction::kJump && p.rule->target == name &&
              r.name != name)
            throw Error(Errc::busy, fmt::format("chain {} rule {} ({}) jumps to '{}'", r.name,
                                                i + 1, r.rules[i], name));
        }
      co_await service_.db([&] { store.delete_chain(name); });
      spdlog::info("event=chain_deleted chain={} peer={}", name, peer_);
      co_await replicator->reload();
      resp.setDone();
      co_return;
    }
    case W::CHAIN_ADD_RULE: {
      auto e = req.getChainAddRule();
      std::string name = e.getChain();
      std::string text = e.getRule();
      ParsedRule parsed = parse_rule(text);
      if (!parsed.rule) throw Error(Errc::invalid, describe_rule_error(text, parsed.error));
      const std::string canonical = format_rule(*parsed.rule);
      const uint32_t asked = e.getAt();
      uint32_t at = 0;
      const RulesChange add = [&](const std::vector<std::string>& before) {
        std::vector<std::string> rules = before;
        if (rules.size() >= kMaxRules)
          throw Error(Errc::invalid, fmt::format("chain '{}' has {} rules, the most it may have",
                                                 name, kMaxRules));
        at = asked == 0 ? static_cast<uint32_t>(rules.size() + 1) : asked;
        if (at > rules.size() + 1)
          throw Error(Errc::invalid, fmt::format("chain '{}' has {} rules: position {} is past "
                                                 "the end (1 to {})",
                                                 name, rules.size(), at, rules.size() + 1));
        rules.insert(rules.begin() + (at - 1), canonical);
        return rules;
      };
      co_await edit_rules(name, add);
      spdlog::info("event=chain_rule_added chain={} position={} rule=\"{}\" peer={}", name, at,
                   canonical, peer_);
      co_return;
    }
    case W::CHAIN_REMOVE_RULE: {
      auto e = req.getChainRemoveRule();
      std::string name = e.getChain();
      const uint32_t at = e.getAt();
      std::string gone;
      const RulesChange remove = [&](const std::vector<std::string>& before) {
        std::vector<std::string> rules = before;
        if (at < 1 || at > rules.size())
          throw Error(Errc::invalid, fmt::format("chain '{}' has {} rules: there is no rule {}",
                                                 name, rules.size(), at));
        gone = rules[at - 1];
        rules.erase(rules.begin() + (at - 1));
        return rules;
      };
      co_await edit_rules(name, remove);
      spdlog::info("event=chain_rule_removed chain={} position={} rule=\"{}\" peer={}", name, at,
                   gone, peer_);
      co_return;
    }
    case W::CHAIN_SET_DIR: {
      auto e = req.getChainSetDir();
      std::string path = bytes_arg(e.getPath());
      std::string chain = e.getChain();
      MetaStore& meta = service_.store();
      FileInfoResult info = co_await service_.db([&] { return meta.file_info(path); });
      if (info.attr.type != proto::FileType::DIRECTORY)
        throw Error(Errc::not_dir, fmt::format("{} is not a directory", path));
      co_await service_.db([&] { store.set_dir_chain(info.attr.ino, chain); });
      spdlog::info("event=chain_dir_set path=\"{}\" ino={} chain={} peer={}", path, info.attr.ino,
                   chain.empty() ? "(inherited)" : chain, peer_);
      co_await replicator->reload();
      resp.setDone();
      co_return;
    }
    case W::WHY: {
      std::string path = bytes_arg(req.getWhy().getPath());
      MetaStore& meta = service_.store();
      FileInfoResult info = co_await service_.db([&] { return meta.file_info(path); });
      if (info.attr.type != proto::FileType::REGULAR)
        throw Error(Errc::invalid, fmt::format("{} is not a regular file: only files have data "
                                               "to place",
                                               path));
      WhyResult w = co_await replicator->why(info.attr.ino);
      // (No co_await inside ?: — GCC 12 miscompiles it; common/run_blocking.h.)
      std::string chain_dir;
      if (w.file.chain_dir != 0)
        chain_dir = co_await service_.db([&] { return store.path_of(w.file.chain_dir); });
      auto out = resp.initWhy();
      out.setPath(data_of(path));
      out.setChain(w.decision.chain);
      out.setChainFrom(data_of(chain_dir));
      fill_attr(out.initAttr(), w.file.attr);
      out.setInline(info.is_inline);
      fill_chunks(out.initChunks(w.file.chunks.size()), w.file.chunks);
      // The first object's evaluation stands for the file (objects differ only in where
      // their copies already are).
      const Evaluation* ev = w.decision.chunks.empty() ? nullptr : &w.decision.chunks[0].evaluation;
      out.setCopies(ev ? ev->copies : 0);
      if (ev) {
        auto steps = out.initSteps(ev->steps.size());
        for (size_t i = 0; i < ev->steps.size(); ++i) {
          steps[i].setChain(ev->steps[i].chain);
          steps[i].setPosition(ev->steps[i].position);
          steps[i].setRule(ev->steps[i].rule);
          steps[i].setMatched(ev->steps[i].matched);
          steps[i].setOutcome(ev->steps[i].outcome);
        }
        std::vector<CopyInfo> wanted;
        for (const Uuid& b : ev->backends)
          for (const auto& s : w.servers)
            for (const auto& be : s.backends)
              if (be.id == b)
                wanted.push_back(CopyInfo{b, be.name, s.id, s.name, s.address,
                                          proto::CopyState::TARGET, 0});
        auto list = out.initWanted(wanted.size());
        for (size_t i = 0; i < wanted.size(); ++i) fill_copy(list[i], wanted[i]);
      }
      auto problems = out.initProblems(w.decision.problems.size());
      for (size_t i = 0; i < w.decision.problems.size(); ++i)
        problems.set(i, w.decision.problems[i]);
      co_return;
    }
    case W::PLAN: {
      // A preview: the chains given stand in for the stored ones of the same name. Checked
      // as an edit would be; nothing is stored.
      std::vector<ChainRow> preview;
      for (auto c : req.getPlan().getChains()) {
        ChainRow row;
        row.name = c.getName();
        check_chain_name(row.name);
        check_numbers(c.getCopies(), c.getStripe(), c.getAck());
        row.copies = std::max<uint32_t>(c.getCopies(), 1);
        row.stripe = std::max<uint32_t>(c.getStripe(), 1);
        row.ack = std::max<uint32_t>(c.getAck(), 1);
        if (c.getRules().size() > kMaxRules)
          throw Error(Errc::invalid, fmt::format("at most {} rules in a chain", kMaxRules));
        for (auto r : c.getRules()) {
          std::string text = r;
          ParsedRule parsed = parse_rule(text);
          if (!parsed.rule)
            throw Error(Errc::invalid, fmt::format("chain {} rule {}: {}", row.name,
                                                   row.rules.size() + 1,
                                                   describe_rule_error(text, parsed.error)));
          row.rules.push_back(format_rule(*parsed.rule));
        }
        preview.push_back(std::move(row));
      }
      PlanResult plan = co_await replicator->plan(std::move(preview));
      auto out = resp.initPlan();
      out.setObjects(plan.objects);
      auto moves = out.initMoves(plan.moves.size());
      for (size_t i = 0; i < plan.moves.size(); ++i) {
        const PlanLine& m = plan.moves[i];
        moves[i].setFromBackend(m.from);
        moves[i].setToBackend(m.to);
        moves[i].setObjects(m.objects);
        moves[i].setBytes(m.bytes);
        auto wakes = moves[i].initWakes(m.wakes.size());
        for (size_t k = 0; k < m.wakes.size(); ++k) wakes.set(k, m.wakes[k]);
      }
      auto problems = out.initProblems(plan.problems.size());
      for (size_t i = 0; i < plan.problems.size(); ++i) problems.set(i, plan.problems[i]);
      co_return;
    }
    case W::JOBS: {
      auto jobs = replicator->jobs();
      const uint64_t now = now_ms();
      auto out = resp.initJobs();
      size_t shown = std::min<size_t>(jobs.size(), 1000);
      auto list = out.initJobs(shown);
      uint64_t running = 0;
      for (const CopyJob* j : jobs) running += j->copying;
      for (size_t i = 0; i < shown; ++i) {
        const CopyJob& j = *jobs[i];
        list[i].setKind("copy");
        list[i].setUuid(j.uuid.data());
        list[i].setFromBackend(j.from);
        list[i].setToBackend(j.backend_name);
        list[i].setBytes(j.size);
        list[i].setState(j.state());
        list[i].setAgeMs(now - std::min<uint64_t>(now, static_cast<uint64_t>(j.queued_ms)));
        list[i].setReason(j.reason());
        list[i].setCurrent(j.current);
        list[i].setWanted(j.wanted);
        if (j.copying) {
          list[i].setBytesDone(j.bytes_done);
          const uint64_t rate = j.running_ms == 0 ? 0 : j.bytes_done * 1000 / j.running_ms;
          list[i].setBytesPerSecond(rate);
          if (rate > 0) list[i].setEtaMs((j.size - std::min(j.size, j.bytes_done)) * 1000 / rate);
        }
      }
      out.setQueued(jobs.size() - running);
      out.setRunning(running);
      out.setBytesDone(replicator->bytes_done());
      out.setBytesPerSecond(replicator->bytes_per_second());
      out.setBandwidthLimit(replicator->options().bandwidth_limit);
      co_return;
    }
    case W::SERVER_MAINTENANCE: {
      auto m = req.getServerMaintenance();
      std::string name = m.getName();
      bool on = m.getOn();
      co_await service_.db([&] { store.set_server_mode(name, on, std::nullopt); });
      spdlog::info("event=server_maintenance server={} on={} peer={}", name, on, peer_);
      co_await replicator->reload();
      resp.setDone();
      co_return;
    }
    case W::SERVER_DRAIN: {
      std::string name = req.getServerDrain();
      co_await service_.db([&] { store.set_server_mode(name, std::nullopt, true); });
      spdlog::info("event=server_drain server={} peer={}", name, peer_);
      co_await replicator->reload();
      resp.setDone();
      co_return;
    }
    default:
      throw Error(Errc::internal, "handle_chains called for another request kind");
  }
}

}  // namespace zhsm
