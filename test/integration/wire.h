// Talking to the daemons directly, past the mount: an io_context thread for
// RpcClient, tokens signed by the test itself, readObject calls, and a raw TCP
// socket for sending bytes no well-behaved client would send.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/rpc_client.h"
#include "common/token.h"
#include "common/uuid.h"
#include "test/integration/cluster.h"

namespace zhsm::test {

// An io_context run by one thread for as long as the object lives.
class IoThread {
 public:
  IoThread();
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// What a readObject request carries.
struct ReadRequest {
  TokenFields token;
  std::string key;          // signs the token
  Uuid backend;
  std::string uuid_bytes;   // the object UUID as sent (normally 16 bytes)
  uint64_t offset = 0;
  uint32_t length = 0;
  // Runs after signing: lets a test alter the signed token.
  std::function<void(proto::Token::Builder)> tamper;
};

// A real data object to aim requests at: chunk 0 of a file written through the
// mount, where it lies, and the file's identity for tokens.
struct ChunkTarget {
  fs::path file;          // on the main mount
  std::string data;       // the file's bytes (chunk 0 is all of them)
  uint64_t ino = 0;
  Uuid fsid;              // from file info, else from the object's head
  Uuid uuid;              // the object
  Uuid backend;           // the backend holding the copy
  std::string address;    // the file server serving that backend (DIR/run/fsK.ports)
  fs::path object_path;   // the object file on the backend
};

// Writes `size` (> inline limit, <= chunk size) bytes to `file` and locates its
// chunk. Throws (failing the test) with details when something is missing.
ChunkTarget make_chunk_target(const Cluster& cluster, const fs::path& file, size_t size);

// readObject as a blocking call; the token is signed with `req.key`.
Reply read_object(RpcClient& client, const ReadRequest& req);

// The bytes of a successful readObject answer.
std::string read_object_data(const Reply& reply);

// A token valid for a minute from now for `fsid`/`ino` in `mode`.
TokenFields fresh_token(const Uuid& fsid, uint64_t ino, proto::AccessMode mode);

// A blocking TCP connection with a receive timeout, for raw bytes.
class RawSocket {
 public:
  // Connects to "host:port"; check connected().
  explicit RawSocket(const std::string& address,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  bool send_all(const void* data, size_t size);
  bool send_all(const std::vector<uint8_t>& bytes) { return send_all(bytes.data(), bytes.size()); }

  enum class ReadResult { frame, eof, timeout, error };
  // Reads one frame (length prefix + body) into `body`.
  ReadResult read_frame(std::vector<uint8_t>& body);
  // Reads and discards until the peer closes; eof if it did within the timeout.
  ReadResult wait_closed();

 private:
  bool recv_exact(void* data, size_t size, ReadResult& why);
  int fd_ = -1;
  std::string error_;
};

// A length-prefixed frame around arbitrary bytes.
std::vector<uint8_t> frame_bytes(const std::vector<uint8_t>& body);
// A frame holding an Envelope with a request built by `fill`.
std::vector<uint8_t> request_frame(uint64_t request_id,
                                   const std::function<void(proto::Request::Builder)>& fill);

// A decoded answer frame: request id and the error code (ok for a non-error
// response, unimplemented for `unimplemented`). nullopt if it is no Envelope.
struct DecodedAnswer {
  uint64_t request_id = 0;
  bool is_response = false;
  Errc code = Errc::ok;
  std::string message;
};
std::optional<DecodedAnswer> decode_answer(const std::vector<uint8_t>& body);

}  // namespace zhsm::test
