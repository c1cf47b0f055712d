// Open-file requests of ControllerHandler: create, open, release, renewToken, commitData
// and statfs. Tokens are signed with the cluster key (controller/open_reply.h) from the
// fields the store recorded.
#include "common/error.h"
#include "common/token.h"
#include "controller/controller_handler.h"
#include "controller/open_reply.h"
#include "controller/proto_convert.h"
#include "controller/replicator.h"

namespace zhsm {
namespace {

constexpr uint32_t kStatfsBlockSize = 4096;

std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

// Readers try a chunk's copies in the order given: current ones first, then a server on
// the reader's own host (the nearest), then the least loaded (data requests in progress
// at its last heartbeat).
void ControllerHandler::order_for_reads(OpenResult& result, const Replicator& r) const {
  const std::string client_host = host_of(peer_);
  for (auto& chunk : result.chunks) {
    if (chunk.copies.size() < 2) continue;
    auto rank = [&](const CopyInfo& c) {
      const bool current = c.state == proto::CopyState::CURRENT && c.version == chunk.version;
      const bool near = !client_host.empty() && host_of(c.address) == client_host;
      return std::make_tuple(!current, !near, r.load_of(c.server));
    };
    std::stable_sort(chunk.copies.begin(), chunk.copies.end(),
                     [&](const CopyInfo& a, const CopyInfo& b) { return rank(a) < rank(b); });
  }
}

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
      OpenResult result = co_await service_.db([&] { return store.create(args); });
      if (Replicator* r = service_.replicator()) {
        r->accessed(result.attr.ino);
        co_await r->place_new_data(result);
        order_for_reads(result, *r);
      }
      fill_open_reply(resp.initOpen(), result, key);
      co_return;
    }
    case W::OPEN: {
      auto r = req.getOpen();
      OpenArgs args;
      args.ino = r.getIno();
      args.mode = r.getMode();
      args.truncate = r.getTruncate();
      args.client_id = client_id_;
      OpenResult result = co_await service_.db([&] { return store.open(args); });
      if (Replicator* r = service_.replicator()) {
        r->accessed(result.attr.ino);
        co_await r->place_new_data(result);
        order_for_reads(result, *r);
      }
      fill_open_reply(resp.initOpen(), result, key);
      co_return;
    }
    case W::RELEASE: {
      uint64_t token = req.getRelease().getTokenId();
      co_await service_.db([&] { store.release(token); });
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
      CommitArgs args = commit_arg(req.getCommitData());
      InodeAttr attr = co_await service_.db([&] { return store.commit_data(args); });
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
