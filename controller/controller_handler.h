// The controller's per-connection request handler: answers every client, file server and
// admin request of capnp/zhsm.capnp that the controller serves (the file server's data
// requests are answered `unimplemented`). Keeps the client id that hello assigned, and
// counts the connection in the service's ClientPresence while it has one.
// Handlers run on the connection's strand; every store call goes through
// ControllerService::db(), never blocking the network thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/rpc_server.h"
#include "controller/controller_service.h"

namespace zhsm {

class ControllerHandler : public RpcHandler {
 public:
  ControllerHandler(ControllerService& service, std::string peer)
      : service_(service), peer_(std::move(peer)) {}

  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override;
  void on_close() override;

 private:
  // Each answers one group of requests; defined in handler_*.cc.
  awaitable<void> handle_namespace(proto::Request::Reader req, proto::Response::Builder resp);
  awaitable<void> handle_files(proto::Request::Reader req, proto::Response::Builder resp);
  awaitable<void> handle_servers(proto::Request::Reader req, proto::Response::Builder resp);
  awaitable<void> handle_locks(proto::Request::Reader req, proto::Response::Builder resp);
  // Copy tasks for a file server's heartbeat reply, when a replicator runs.
  void fill_copy_tasks(proto::HeartbeatReply::Builder out, const Uuid& server);
  // Chains, why, plan, jobs and server marks (handler_chains.cc).
  awaitable<void> handle_chains(proto::Request::Reader req, proto::Response::Builder resp);
  // The recorded token `token_id` when it is unexpired, names `ino` and was issued to this
  // connection's client; bad_token or token_expired otherwise (handler_locks.cc).
  awaitable<TokenInfo> own_token(uint64_t token_id, uint64_t ino, std::string_view op);
  // hello: a new client session, or the resumed one the request names.
  awaitable<void> hello(proto::Hello::Reader req, proto::Response::Builder resp);
  awaitable<void> dispatch(proto::Request::Reader req, proto::Response::Builder resp);
  // `not_found` of a request that names inodes (the parent of a lookup or a create, the
  // file of an open, ...) becomes `stale` when one of those inodes no longer exists: the
  // client's kernel reached it through a name it cached (doc/protocol.md, "Stale
  // inodes"). Throws the one or `failure` itself; `failure` must outlive the call.
  awaitable<void> reword_missing(proto::Request::Reader req, const Error& failure);
  // Directory leases (handler_leases.cc). before_add() comes before any call that may add
  // a name to `dir`: when another mount holds its lease, it is recalled and this waits for
  // its release or end. grant_lease() leases `dir`, just made through this connection (its
  // mkdir began at lease epoch `since`), to this client: the lease time in ms, or 0.
  awaitable<void> before_add(uint64_t dir);
  uint32_t grant_lease(uint64_t dir, uint64_t since);
  awaitable<void> lease_poll(proto::Leases::Reader req, proto::Response::Builder resp);
  // Records, at most once a minute, that this connection's client is alive.
  awaitable<void> touch_client();

  ControllerService& service_;
  const std::string peer_;
  uint64_t client_id_ = 0;  // from hello; 0 before
  std::chrono::steady_clock::time_point last_touch_{};
};

}  // namespace zhsm
