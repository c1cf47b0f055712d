// Direct daemon access for the wire-level integration tests.
#include "test/integration/wire.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "common/clock.h"
#include "common/frame.h"
#include "common/rpc_server.h"
#include "test/integration/objects.h"

namespace zhsm::test {

IoThread::IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}

IoThread::~IoThread() {
  work_.reset();
  io_.stop();
  thread_.join();
}

ChunkTarget make_chunk_target(const Cluster& cluster, const fs::path& file, size_t size) {
  ChunkTarget t;
  t.file = file;
  t.data.resize(size);
  fill_pattern(size, 0x70c3, reinterpret_cast<uint8_t*>(t.data.data()), size);
  if (!write_file(file, t.data)) throw std::runtime_error("cannot write " + file.string());
  FileInfo info = file_info(cluster, file);
  if (info.chunks.empty()) throw std::runtime_error("file info lists no chunks: " + info.raw.dump(2));
  const ChunkInfo* c = &info.chunks[0];
  for (const auto& x : info.chunks)
    if (x.index == 0) c = &x;
  t.ino = info.ino;
  t.uuid = c->uuid;
  auto paths = find_object_copies(cluster, t.uuid);
  if (paths.empty()) throw std::runtime_error("object " + t.uuid.str() + " is on no backend");
  t.object_path = paths[0];
  int server = 0;
  for (int k = 1; k <= cluster.fileservers(); ++k)
    if (t.object_path.string().rfind(cluster.backend_dir(k).string() + "/", 0) == 0) server = k;
  t.address = cluster.fileserver_address(server);
  std::string backend_name = "fs" + std::to_string(server) + "-b1";
  for (const auto& copy : c->copies) {
    if (copy.backend_name != backend_name && c->copies.size() > 1) continue;
    if (auto id = Uuid::parse(copy.backend)) t.backend = *id;
  }
  if (t.backend.is_nil())
    throw std::runtime_error("no backend UUID for " + backend_name + " in file info: " + info.raw.dump(2));
  StoredObject head = read_stored_object(t.object_path);
  if (!head.error.empty()) throw std::runtime_error(head.error);
  t.fsid = info.fsid ? *info.fsid : head.owner;
  return t;
}

Reply read_object(RpcClient& client, const ReadRequest& req) {
  return client.call([&](proto::Request::Builder b) {
    auto r = b.initReadObject();
    auto token = r.initToken();
    sign_token(req.key, req.token, token);
    if (req.tamper) req.tamper(token);
    r.setBackend(req.backend.data());
    r.setUuid(capnp::Data::Reader(reinterpret_cast<const uint8_t*>(req.uuid_bytes.data()),
                                  req.uuid_bytes.size()));
    r.setOffset(req.offset);
    r.setLength(req.length);
    r.setSessionId(0);
  }, std::chrono::seconds(20));
}

std::string read_object_data(const Reply& reply) {
  auto data = reply.response().getReadObject();
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

TokenFields fresh_token(const Uuid& fsid, uint64_t ino, proto::AccessMode mode) {
  TokenFields f;
  f.token_id = 0x7e57000000000001ULL;
  f.fsid = fsid;
  f.ino = ino;
  f.mode = mode;
  f.expires_ms = now_ms() + 60'000;
  f.client_id = 0x7e57;
  return f;
}

RawSocket::RawSocket(const std::string& address, std::chrono::milliseconds timeout) {
  tcp::endpoint ep;
  try {
    ep = parse_endpoint(address);
  } catch (const std::exception& e) {
    error_ = e.what();
    return;
  }
  int fd = ::socket(ep.address().is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
    error_ = "connect " + address + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send_all(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd_, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool RawSocket::recv_exact(void* data, size_t size, ReadResult& why) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::recv(fd_, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      why = ReadResult::eof;
      return false;
    }
    if (n < 0) {
      why = (errno == EAGAIN || errno == EWOULDBLOCK) ? ReadResult::timeout
            : errno == ECONNRESET                     ? ReadResult::eof
                                                      : ReadResult::error;
      error_ = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

RawSocket::ReadResult RawSocket::read_frame(std::vector<uint8_t>& body) {
  uint8_t prefix[4];
  ReadResult why = ReadResult::error;
  if (!recv_exact(prefix, 4, why)) return why;
  uint32_t n = uint32_t(prefix[0]) | uint32_t(prefix[1]) << 8 | uint32_t(prefix[2]) << 16 |
               uint32_t(prefix[3]) << 24;
  if (n > kMaxFrameBytes) {
    error_ = "answer frame of " + std::to_string(n) + " bytes";
    return ReadResult::error;
  }
  body.resize(n);
  if (!recv_exact(body.data(), n, why)) return why;
  return ReadResult::frame;
}

RawSocket::ReadResult RawSocket::wait_closed() {
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n == 0) return ReadResult::eof;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return ReadResult::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::timeout;
    error_ = std::string("recv: ") + std::strerror(errno);
    return ReadResult::error;
  }
}

std::vector<uint8_t> frame_bytes(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(4 + body.size());
  uint32_t n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 4, body.data(), body.size());
  return out;
}

std::vector<uint8_t> request_frame(uint64_t request_id,
                                   const std::function<void(proto::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<proto::Envelope>();
  env.setRequestId(request_id);
  env.setDeadlineMs(now_ms() + 30'000);
  fill(env.initRequest());
  FrameBytes frame = encode_frame(mb);
  return std::vector<uint8_t>(frame.begin(), frame.end());
}

std::optional<DecodedAnswer> decode_answer(const std::vector<uint8_t>& body) {
  if (body.empty() || body.size() % 8 != 0) return std::nullopt;
  try {
    auto words = kj::heapArray<capnp::word>(body.size() / 8);
    std::memcpy(words.begin(), body.data(), body.size());
    capnp::FlatArrayMessageReader reader(words, reader_limits());
    auto env = reader.getRoot<proto::Envelope>();
    DecodedAnswer a;
    a.request_id = env.getRequestId();
    a.is_response = env.which() == proto::Envelope::RESPONSE;
    if (!a.is_response) return a;
    auto resp = env.getResponse();
    if (resp.which() == proto::Response::ERROR) {
      a.code = static_cast<Errc>(resp.getError().getCode());
      a.message = resp.getError().getMessage();
    } else if (resp.which() == proto::Response::UNIMPLEMENTED) {
      a.code = Errc::unimplemented;
    }
    return a;
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

}  // namespace zhsm::test
