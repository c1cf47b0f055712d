// One RpcClient to the controller, driven by a private io thread.
#include "tools/admin/controller_link.h"

#include "common/error.h"

namespace zhsm::admin {

ControllerLink::ControllerLink(std::string address, std::chrono::milliseconds timeout)
    : address_(std::move(address)),
      timeout_(timeout),
      work_(io_.get_executor()),
      client_(std::make_unique<RpcClient>(io_, address_)),
      thread_([this] { io_.run(); }) {}

ControllerLink::~ControllerLink() {
  client_.reset();  // closes the connection (posted to the io thread)
  work_.reset();
  io_.stop();
  thread_.join();
}

Reply ControllerLink::call(const RequestFiller& fill, proto::Response::Which expected,
                           const std::string& what) {
  Reply reply = client_->call(fill, timeout_);
  if (!reply.ok()) {
    std::string msg = what + ": ";
    if (reply.code() == Errc::unimplemented) {
      msg += "the controller at " + address_ + " does not serve this request (older version?)";
    } else {
      // Transport failures name the controller (the RpcClient's text usually
      // does already); answers from the controller speak for themselves.
      bool transport = reply.code() == Errc::disconnected || reply.code() == Errc::timeout;
      if (transport && reply.message().find(address_) == std::string::npos)
        msg += "controller " + address_ + ": ";
      // A message of several lines (a rule that does not parse: the rule, a
      // caret under the bad word, the reason) starts on its own line, whole, so
      // that the caret stays under its word.
      if (reply.message().find('\n') != std::string::npos) {
        msg.resize(msg.size() - 2);  // the ": "
        msg += '\n';
      }
      msg += reply.message();
    }
    throw Error(reply.code(), msg);
  }
  if (reply.response().which() != expected)
    throw Error(Errc::internal, what + ": the controller at " + address_ +
                                    " answered with an unexpected kind of response (" +
                                    std::to_string(static_cast<int>(reply.response().which())) +
                                    ")");
  return reply;
}

}  // namespace zhsm::admin
