// Bad input on the wire, sent over raw TCP to the controller and to a file
// server: frames whose length is right but whose contents are no valid Cap'n
// Proto message (or no valid request) get an error answer and the connection
// keeps serving; a frame with an absurd length makes the daemon close that
// connection while it goes on serving everyone else; a request carrying a UUID
// of the wrong length is `invalid`. After each, an ordinary RpcClient call to
// the same daemon succeeds.
#include <gtest/gtest.h>

#include <cstring>

#include "common/clock.h"
#include "common/frame.h"
#include "test/integration/cluster.h"
#include "test/integration/objects.h"
#include "test/integration/wire.h"

namespace zhsm::test {
namespace {

std::string name_of(Errc c) { return std::string(errc_name(c)); }

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A struct pointer word: offset in words from the end of the pointer, then the
// sizes of the data and pointer sections.
uint64_t struct_pointer(int32_t offset, uint16_t data_words, uint16_t pointers) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) |
         (static_cast<uint64_t>(data_words) << 32) | (static_cast<uint64_t>(pointers) << 48);
}

// Message bodies that are no valid Envelope request, each with the request id
// the answer is expected to carry (0 when the message is unreadable).
struct Garbage {
  const char* what;
  std::vector<uint8_t> body;
  uint64_t answer_id;
};

std::vector<Garbage> garbage_messages() {
  std::vector<Garbage> out;
  {
    std::vector<uint8_t> b(64);
    fill_pattern(0xbad, 0, b.data(), b.size());
    out.push_back({"random bytes", b, 0});
  }
  {
    // One segment announced as 1 Mi words, 7 words present.
    std::vector<uint8_t> b;
    put_u32(b, 0);
    put_u32(b, 1 << 20);
    b.resize(64, 0);
    out.push_back({"segment larger than the message", b, 0});
  }
  {
    // A root pointer far past the end of the segment.
    std::vector<uint8_t> b;
    put_u32(b, 0);
    put_u32(b, 2);
    put_u64(b, struct_pointer(1 << 24, 1, 0));
    put_u64(b, 0);
    out.push_back({"root pointer out of bounds", b, 0});
  }
  {
    // A readable Envelope (request id 5, union tag request) whose request pointer
    // points out of bounds.
    std::vector<uint8_t> b;
    put_u32(b, 0);
    put_u32(b, 5);
    put_u64(b, struct_pointer(0, 3, 1));
    put_u64(b, 5);                             // requestId
    put_u64(b, 0);                             // deadlineMs
    put_u64(b, 0);                             // union tag: request
    put_u64(b, struct_pointer(1 << 20, 1, 1)); // request, out of bounds
    out.push_back({"request pointer out of bounds", b, 5});
  }
  {
    // A readable Envelope with an unknown union tag.
    std::vector<uint8_t> b;
    put_u32(b, 0);
    put_u32(b, 5);
    put_u64(b, struct_pointer(0, 3, 1));
    put_u64(b, 6);
    put_u64(b, 0);
    put_u64(b, 0x7777);
    put_u64(b, 0);
    out.push_back({"unknown envelope union tag", b, 6});
  }
  {
    // A well-formed Envelope carrying a response where a request belongs.
    capnp::MallocMessageBuilder mb;
    auto env = mb.initRoot<proto::Envelope>();
    env.setRequestId(7);
    env.initResponse().setDone();
    auto frame = encode_frame(mb);
    out.push_back({"response instead of request", std::vector<uint8_t>(frame.begin() + 4, frame.end()), 7});
  }
  return out;
}

class Malformed : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Cluster& c = Cluster::get();
    key_ = load_cluster_key(c.key_file());
    if (GetParam() == "fileserver") {
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      for (auto& ch : name)
        if (ch == '/') ch = '_';
      target_ = make_chunk_target(c, c.scratch(name) / "object", 256 * 1024);
      address_ = target_.address;
    } else {
      address_ = c.controller_address();
    }
    ASSERT_FALSE(address_.empty());
  }

  bool is_fileserver() const { return GetParam() == "fileserver"; }

  // A request the daemon answers with success: clusterStatus for the controller,
  // a readObject with a valid token for the file server.
  void fill_good_request(proto::Request::Builder b) const {
    if (!is_fileserver()) {
      b.setClusterStatus();
      return;
    }
    auto r = b.initReadObject();
    sign_token(key_, fresh_token(target_.fsid, target_.ino, proto::AccessMode::READ), r.initToken());
    r.setBackend(target_.backend.data());
    r.setUuid(target_.uuid.data());
    r.setOffset(0);
    r.setLength(4096);
  }

  // An ordinary call on a fresh RpcClient; "" when it succeeded.
  std::string ordinary_call() {
    RpcClient client(io_.io(), address_);
    Reply r = client.call([&](proto::Request::Builder b) { fill_good_request(b); }, std::chrono::seconds(10));
    if (r.ok()) return "";
    return name_of(r.code()) + ": " + r.message();
  }

  // Sends a good request with `id` on `sock` and expects a good answer to it.
  void expect_good_answer(RawSocket& sock, uint64_t id) {
    ASSERT_TRUE(sock.send_all(request_frame(id, [&](proto::Request::Builder b) { fill_good_request(b); })))
        << sock.error();
    std::vector<uint8_t> body;
    ASSERT_EQ(sock.read_frame(body), RawSocket::ReadResult::frame) << sock.error();
    auto a = decode_answer(body);
    ASSERT_TRUE(a.has_value()) << "the answer is no Envelope";
    EXPECT_EQ(a->request_id, id);
    EXPECT_EQ(name_of(a->code), "ok") << a->message;
  }

  IoThread io_;
  std::string key_;
  std::string address_;
  ChunkTarget target_;
};

TEST_P(Malformed, GarbageInAValidFrameGetsAnErrorAnswer) {
  RawSocket sock(address_);
  ASSERT_TRUE(sock.connected()) << sock.error();
  uint64_t good_id = 1000;
  for (const auto& g : garbage_messages()) {
    SCOPED_TRACE(g.what);
    ASSERT_TRUE(sock.send_all(frame_bytes(g.body))) << sock.error();
    std::vector<uint8_t> body;
    auto got = sock.read_frame(body);
    ASSERT_EQ(got, RawSocket::ReadResult::frame)
        << "no answer (" << static_cast<int>(got) << " " << sock.error() << ")";
    auto a = decode_answer(body);
    ASSERT_TRUE(a.has_value()) << "the answer is no Envelope";
    EXPECT_TRUE(a->is_response);
    EXPECT_NE(name_of(a->code), "ok") << "garbage was answered with success";
    EXPECT_EQ(a->request_id, g.answer_id);
    // The same connection still serves a good request.
    expect_good_answer(sock, ++good_id);
  }
  EXPECT_EQ(ordinary_call(), "");
}

TEST_P(Malformed, MessageForTheOtherDaemonIsUnimplemented) {
  RpcClient client(io_.io(), address_);
  Reply r = client.call([&](proto::Request::Builder b) {
    if (is_fileserver()) {
      b.initLookup().setParent(1);
    } else {
      auto ro = b.initReadObject();
      sign_token(key_, fresh_token(Uuid::random(), 1, proto::AccessMode::READ), ro.initToken());
      ro.setBackend(Uuid::random().data());
      ro.setUuid(Uuid::random().data());
      ro.setLength(1);
    }
  });
  EXPECT_EQ(name_of(r.code()), "unimplemented") << r.message();
  EXPECT_EQ(ordinary_call(), "");
}

TEST_P(Malformed, AbsurdFrameLengthClosesOnlyThatConnection) {
  struct Case {
    const char* what;
    uint32_t length;
  };
  for (const Case& c : {Case{"4 GiB", 0xfffffff0u}, Case{"past the limit", kMaxFrameBytes + 8},
                        Case{"zero", 0u}, Case{"not a multiple of 8", 13u}}) {
    SCOPED_TRACE(c.what);
    RawSocket bystander(address_);
    ASSERT_TRUE(bystander.connected()) << bystander.error();
    expect_good_answer(bystander, 1);
    RawSocket victim(address_);
    ASSERT_TRUE(victim.connected()) << victim.error();
    std::vector<uint8_t> bytes;
    put_u32(bytes, c.length);
    bytes.resize(4 + 64, 0xab);
    ASSERT_TRUE(victim.send_all(bytes)) << victim.error();
    // An error answer may come first; then the daemon hangs up.
    std::vector<uint8_t> body;
    RawSocket::ReadResult got;
    int frames = 0;
    while ((got = victim.read_frame(body)) == RawSocket::ReadResult::frame && frames < 4) ++frames;
    EXPECT_EQ(got, RawSocket::ReadResult::eof)
        << "the connection that sent the bad length was not closed (" << victim.error() << ")";
    // Others are served: a connection made before, and a new one.
    expect_good_answer(bystander, 2);
    EXPECT_EQ(ordinary_call(), "");
  }
}

TEST_P(Malformed, HalfAFrameThenHangUp) {
  {
    RawSocket sock(address_);
    ASSERT_TRUE(sock.connected()) << sock.error();
    std::vector<uint8_t> bytes;
    put_u32(bytes, 4096);
    bytes.resize(4 + 100, 0);
    ASSERT_TRUE(sock.send_all(bytes));
  }
  {
    RawSocket sock(address_);
    ASSERT_TRUE(sock.connected()) << sock.error();
    ASSERT_TRUE(sock.send_all("\x08\x00", 2));
  }
  EXPECT_EQ(ordinary_call(), "");
}

TEST_P(Malformed, UuidOfWrongLengthIsInvalid) {
  RpcClient client(io_.io(), address_);
  const uint8_t short_id[15] = {1, 2, 3};
  const uint8_t long_id[17] = {4, 5, 6};
  capnp::Data::Reader short_uuid(short_id, sizeof short_id);
  capnp::Data::Reader long_uuid(long_id, sizeof long_id);
  std::vector<std::pair<std::string, RequestFiller>> cases;
  if (is_fileserver()) {
    auto token = fresh_token(target_.fsid, target_.ino, proto::AccessMode::READ);
    auto write_token = fresh_token(target_.fsid, target_.ino, proto::AccessMode::READ_WRITE);
    cases.push_back({"readObject uuid of 15 bytes", [&](proto::Request::Builder b) {
                       auto r = b.initReadObject();
                       sign_token(key_, token, r.initToken());
                       r.setBackend(target_.backend.data());
                       r.setUuid(short_uuid);
                       r.setLength(100);
                     }});
    cases.push_back({"readObject backend of 17 bytes", [&](proto::Request::Builder b) {
                       auto r = b.initReadObject();
                       sign_token(key_, token, r.initToken());
                       r.setBackend(long_uuid);
                       r.setUuid(target_.uuid.data());
                       r.setLength(100);
                     }});
    cases.push_back({"beginWrite uuid of 15 bytes", [&](proto::Request::Builder b) {
                       auto w = b.initBeginWrite();
                       sign_token(key_, write_token, w.initToken());
                       w.setBackend(target_.backend.data());
                       w.setUuid(short_uuid);
                     }});
  } else {
    cases.push_back({"registerServer id of 15 bytes", [&](proto::Request::Builder b) {
                       auto r = b.initRegisterServer();
                       r.setServerId(short_uuid);
                       r.setName("malformed-test");
                       r.setAddress("127.0.0.1:9");
                     }});
    cases.push_back({"heartbeat id of 17 bytes", [&](proto::Request::Builder b) {
                       b.initHeartbeat().setServerId(long_uuid);
                     }});
    cases.push_back({"registerServer backend id of 15 bytes", [&](proto::Request::Builder b) {
                       auto r = b.initRegisterServer();
                       r.setServerId(Uuid::random().data());
                       r.setName("malformed-test-2");
                       r.setAddress("127.0.0.1:9");
                       auto be = r.initBackends(1)[0];
                       be.setId(short_uuid);
                       be.setName("malformed-b1");
                       be.setTier("ssd");
                     }});
  }
  for (const auto& [what, fill] : cases) {
    Reply r = client.call(fill);
    EXPECT_EQ(name_of(r.code()), "invalid") << what << ": " << r.message();
  }
  EXPECT_EQ(ordinary_call(), "");
  if (!is_fileserver()) {
    // Nothing was registered.
    auto status = Cluster::get().admin_json({"status"});
    EXPECT_EQ(status.dump().find("malformed-test"), std::string::npos) << status.dump(2);
  }
}

INSTANTIATE_TEST_SUITE_P(Daemons, Malformed, ::testing::Values("controller", "fileserver"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zhsm::test
