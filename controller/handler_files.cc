// Open-file requests of ControllerHandler: create, open, release, renewToken, commitData
// and statfs. Tokens are signed with the cluster key (controller/open_reply.h) from the
// fields the store recorded.
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/token.h"
#include "controller/controller_handler.h"
#include "controller/open_reply.h"
#include "controller/proto_convert.h"
#include "controller/replicator.h"

namespace zhsm {
namespace {

constexpr uint32_t kStatfsBlockSize = 4096;
constexpr size_t kMaxReleasesPerCall = 1024;  // Release.more, capnp/zhsm.capnp

}  // namespace

awaitable<void> ControllerHandler::handle_files(proto::Request::Reader req,
                                                proto::Response::Builder resp) {
  using W = proto::Request::Which;
  MetaStore& store = service_.store();
  const std::string& key = service_.options().cluster_key;
  switch (req.which()) {
    case W::CREATE: {
      auto r = req.getCreate();
      CreateArgs args;
      args.parent = r.getParent();
      args.name = bytes_arg(r.getName());
      args.mode = r.getMode();
      args.caller = caller_arg(r.getCaller());
      args.exclusive = r.getExclusive();
      args.truncate = r.getTruncate();
      args.access = r.getAccess();
      args.client_id = client_id_;
      co_await before_add(args.parent);
      OpenResult result = co_await service_.db([&] { return store.create(args); });
      if (Replicator* r = service_.replicator()) {
        r->accessed(result.attr.ino);
        co_await r->place_new_data(result);
        order_copies_for_reads(result, peer_, [&](const Uuid& s) { return r->read_hint(s); });
      }
      fill_open_reply(resp.initOpen(), result, key);
      fill_touched(resp, result.dirs);
      co_return;
    }
    case W::OPEN: {
      auto r = req.getOpen();
      OpenArgs args;
      args.ino = r.getIno();
      args.mode = r.getMode();
      args.truncate = r.getTruncate();
      args.client_id = client_id_;
      args.inline_without_token = r.getInlineWithoutToken();
      // A small file held in memory is answered here, without the hop to a database
      // thread (as cached lookups are).
      OpenResult result;
      if (auto held = store.peek_open(args))
        result = std::move(*held);
      else
        result = co_await service_.db([&] { return store.open(args); });
      if (Replicator* r = service_.replicator()) {
        r->accessed(result.attr.ino);
        co_await r->place_new_data(result);
        order_copies_for_reads(result, peer_, [&](const Uuid& s) { return r->read_hint(s); });
      }
      fill_open_reply(resp.initOpen(), result, key);
      co_return;
    }
    case W::RELEASE: {
      auto rel = req.getRelease();
      if (rel.getMore().size() > kMaxReleasesPerCall)
        throw Error(Errc::invalid, fmt::format("release of {} tokens in one call (at most {})",
                                               rel.getMore().size() + 1, kMaxReleasesPerCall));
      std::vector<uint64_t> tokens;
      tokens.reserve(rel.getMore().size() + 1);
      if (rel.getTokenId() != 0) tokens.push_back(rel.getTokenId());
      for (uint64_t t : rel.getMore())
        if (t != 0) tokens.push_back(t);
      co_await service_.db([&] { store.release_many(tokens); });
      // A closed open takes its locks along (the client has unlocked them on flush and
      // release already; this covers one that could not).
      for (uint64_t t : tokens) service_.drop_token_locks(t, "release");
      resp.setDone();
      co_return;
    }
    case W::RENEW_TOKEN: {
      uint64_t token = req.getRenewToken().getTokenId();
      TokenInfo info = co_await service_.db([&] { return store.renew_token(token); });
      sign_token(key, token_fields_of(info), resp.initRenewToken());
      co_return;
    }
    case W::COMMIT_DATA: {
      auto cd = req.getCommitData();
      CommitArgs args = commit_arg(cd);
      std::optional<SetattrArgs> then;
      if (cd.hasThenSetattr()) {
        then = setattr_arg(cd.getThenSetattr());
        if (then->ino != args.ino || then->size)
          throw Error(Errc::invalid, fmt::format("commitData of ino {}: its setattr must be of "
                                                 "the same inode and change no size", args.ino));
      }
      // The setattr is applied in the commit's transaction (one statement for a small
      // file), so the commit's synchronous flush makes it durable with the data: what the
      // close acknowledged includes the mode and times that rode with it. The commit sets
      // the setattr's mtime instead of the writes' one.
      if (then) {
        const int64_t now = now_ns();
        if (then->mtime_ns || then->mtime_now)
          args.mtime_ns = then->mtime_now ? now : *then->mtime_ns;
        if (then->atime_now) then->atime_ns = now;
        then->mtime_ns.reset();
        then->atime_now = then->mtime_now = false;
        if (then->mode || then->uid || then->gid || then->atime_ns) args.then = std::move(then);
      }
      InodeAttr attr = co_await service_.db([&] { return service_.group_commit().commit(args); });
      // New versions outdate the other copies: the replicator brings them up to date, and
      // the close is answered once as many are current as the file's chain asks (its ack).
      if (Replicator* r = service_.replicator(); r && !args.chunks.empty()) {
        std::vector<CommittedChunk> changed;
        for (const auto& c : args.chunks) changed.push_back(CommittedChunk{c.index, c.uuid, c.version});
        r->changed(args.ino);
        co_await r->await_copies(args.ino, std::move(changed));
      }
      fill_attr(resp.initAttr(), attr);
      co_return;
    }
    case W::SYNC: {
      co_await service_.db([&] { store.sync(); });
      resp.setDone();
      co_return;
    }
    case W::STATFS: {
      StatfsInfo info = co_await service_.db([&] { return store.statfs(); });
      auto out = resp.initStatfs();
      out.setTotalBytes(info.total_bytes);
      out.setFreeBytes(info.free_bytes);
      out.setFiles(info.files);
      out.setBlockSize(kStatfsBlockSize);
      co_return;
    }
    default:
      throw Error(Errc::internal, "handle_files called for another request kind");
  }
}

}  // namespace zhsm
