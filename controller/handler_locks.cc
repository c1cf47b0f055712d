// Lock and append requests of ControllerHandler: setLock and getLock, answered from the
// in-memory LockTable without ever waiting (a refused request reports the conflicting lock
// and the client polls), and dataMap, the current data of a file the caller has open.
// Each names an open token that must be recorded, unexpired, for the request's inode and
// issued to this connection's client; otherwise the answer is bad_token (token_expired)
// and nothing changes. One debug line per lock event, one info line per conflict.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"
#include "controller/controller_handler.h"
#include "controller/lock_table.h"
#include "controller/meta_checks.h"
#include "controller/open_reply.h"

namespace zhsm {
namespace {

using Kind = proto::LockKind;
using Type = proto::LockType;

// The request's lock, checked: known kind and type, start <= end, flock and append over
// the whole file, append never shared, getLock (`probe`) never asks about unlock.
LockSpec lock_arg(proto::Lock::Reader r, uint64_t client, bool probe) {
  LockSpec s;
  s.ino = r.getIno();
  s.client = client;
  s.owner = r.getOwner();
  s.kind = r.getKind();
  s.type = r.getType();
  s.start = r.getStart();
  s.end = r.getEnd();
  s.token = r.getTokenId();
  s.pid = r.getPid();
  if (s.kind != Kind::POSIX && s.kind != Kind::FLOCK && s.kind != Kind::APPEND)
    throw Error(Errc::invalid, fmt::format("unknown lock kind {}", static_cast<int>(s.kind)));
  if (s.type != Type::READ && s.type != Type::WRITE && s.type != Type::UNLOCK)
    throw Error(Errc::invalid, fmt::format("unknown lock type {}", static_cast<int>(s.type)));
  if (s.ino == 0) throw Error(Errc::invalid, "lock on inode 0");
  if (s.start > s.end)
    throw Error(Errc::invalid, fmt::format("lock range starts at {} after its end {}", s.start,
                                           s.end));
  if (s.kind != Kind::POSIX && (s.start != 0 || s.end != kLockToEof))
    throw Error(Errc::invalid, fmt::format("{} locks cover the whole file, not [{}, {}]",
                                           lock_kind_name(s.kind), s.start, s.end));
  if (s.kind == Kind::APPEND && s.type == Type::READ)
    throw Error(Errc::invalid, "append locks are exclusive (type write)");
  if (probe && s.type == Type::UNLOCK)
    throw Error(Errc::invalid, "getLock asks about a read or write lock, not unlock");
  return s;
}

void fill_lock(proto::Lock::Builder out, const LockSpec& l) {
  out.setIno(l.ino);
  out.setTokenId(l.token);
  out.setOwner(l.owner);
  out.setKind(l.kind);
  out.setType(l.type);
  out.setStart(l.start);
  out.setEnd(l.end);
  out.setPid(l.pid);
}

// The lock's fields for a log line.
std::string lock_text(const LockSpec& l) {
  return fmt::format("ino={} client={} owner={} kind={} type={} start={} end={} token={} pid={}",
                     l.ino, l.client, l.owner, lock_kind_name(l.kind), lock_type_name(l.type),
                     l.start, l.end == kLockToEof ? std::string("eof") : std::to_string(l.end),
                     l.token, l.pid);
}

std::string holder_text(const LockSpec& l) {
  return fmt::format("holder_client={} holder_owner={} holder_type={} holder_start={} holder_end={}",
                     l.client, l.owner, lock_type_name(l.type), l.start,
                     l.end == kLockToEof ? std::string("eof") : std::to_string(l.end));
}

}  // namespace

awaitable<TokenInfo> ControllerHandler::own_token(uint64_t token_id, uint64_t ino,
                                                  std::string_view op) {
  if (client_id_ == 0)
    throw Error(Errc::bad_token, fmt::format("{}: no hello on this connection", op));
  std::vector<uint64_t> ids{token_id};
  MetaStore& store = service_.store();
  auto lookup = [&store, &ids] { return store.find_tokens(ids); };
  std::vector<TokenInfo> found = co_await service_.db(lookup);
  if (found.empty())
    throw Error(Errc::bad_token,
                fmt::format("{}: token {} is unknown (released or expired)", op, token_id));
  const TokenInfo& t = found.front();
  if (t.ino != ino)
    throw Error(Errc::bad_token, fmt::format("{}: token {} is for inode {}, not {}", op, token_id,
                                             t.ino, ino));
  if (t.client_id != client_id_)
    throw Error(Errc::bad_token, fmt::format("{}: token {} belongs to client {}, not {}", op,
                                             token_id, t.client_id, client_id_));
  if (t.expires_ms < now_ms())
    throw Error(Errc::token_expired, fmt::format("{}: token {} expired", op, token_id));
  co_return t;
}

awaitable<void> ControllerHandler::handle_locks(proto::Request::Reader req,
                                                proto::Response::Builder resp) {
  using W = proto::Request::Which;
  auto& metrics = service_.metrics();
  LockTable& locks = service_.locks();
  switch (req.which()) {
    case W::SET_LOCK: {
      LockSpec spec = lock_arg(req.getSetLock(), client_id_, false);
      TokenInfo token = co_await own_token(spec.token, spec.ino, "setLock");
      if (spec.kind == Kind::APPEND && !grants_write(token.mode))
        throw Error(Errc::bad_token, fmt::format("setLock: token {} does not grant writing, "
                                                 "an append lock needs it", spec.token));
      LockOutcome out = locks.set(spec);
      auto reply = resp.initLock();
      reply.setGranted(out.granted);
      auto conflict = reply.initConflict();
      if (out.conflict) {
        fill_lock(conflict, *out.conflict);
        metrics.add("zhsm_controller_lock_conflicts_total", 1,
                    fmt::format("kind=\"{}\"", lock_kind_name(spec.kind)));
        spdlog::info("event=lock_conflict {} {} dropped_old={}", lock_text(spec),
                     holder_text(*out.conflict), out.dropped_old);
      } else {
        conflict.setType(Type::UNLOCK);
        spdlog::debug("event=lock_set {} granted=true", lock_text(spec));
      }
      co_return;
    }
    case W::GET_LOCK: {
      LockSpec probe = lock_arg(req.getGetLock(), client_id_, true);
      co_await own_token(probe.token, probe.ino, "getLock");
      std::optional<LockSpec> conflict = locks.test(probe);
      auto reply = resp.initLock();
      reply.setGranted(false);
      auto out = reply.initConflict();
      if (conflict) {
        fill_lock(out, *conflict);
      } else {
        out.setIno(probe.ino);
        out.setType(Type::UNLOCK);
      }
      spdlog::debug("event=lock_test {} conflict={}", lock_text(probe),
                    conflict ? holder_text(*conflict) : std::string("none"));
      co_return;
    }
    case W::DATA_MAP: {
      auto r = req.getDataMap();
      const uint64_t ino = r.getIno();
      const uint64_t token_id = r.getTokenId();
      if (client_id_ == 0) throw Error(Errc::bad_token, "dataMap: no hello on this connection");
      MetaStore& store = service_.store();
      auto load = [&store, ino, token_id] { return store.data_map(ino, token_id); };
      OpenResult result = co_await service_.db(load);
      if (result.token.client_id != client_id_)
        throw Error(Errc::bad_token, fmt::format("dataMap: token {} belongs to client {}, not {}",
                                                 token_id, result.token.client_id, client_id_));
      fill_open_reply(resp.initDataMap(), result, service_.options().cluster_key);
      spdlog::debug("event=data_map ino={} token={} size={} version={}", ino, token_id,
                    result.attr.size, result.attr.version);
      co_return;
    }
    default:
      throw Error(Errc::internal, "handle_locks called for another request kind");
  }
}

}  // namespace zhsm
