// Access tokens as a file server checks them: readObject for a real chunk,
// sent with RpcClient straight to the file server holding it, with tokens the
// test signs itself. A token signed with the cluster key (DIR/cluster.key) reads
// the file's bytes, which proves the requests are right; a token signed with
// another key or altered after signing is `bad_token`; an expired one is
// `token_expired`; a token for another file or a read token used to write is
// `bad_token` too.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/error.h"
#include "test/integration/cluster.h"
#include "test/integration/objects.h"
#include "test/integration/wire.h"

namespace zhsm::test {
namespace {

std::string name_of(Errc c) { return std::string(errc_name(c)); }

class Tokens : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::path dir = Cluster::get().scratch(name);
    target_ = make_chunk_target(Cluster::get(), dir / "object", 1 << 20);
    key_ = load_cluster_key(Cluster::get().key_file());
    client_ = std::make_unique<RpcClient>(io_.io(), target_.address);
  }

  // A read of the whole object with a valid token; tests change what they need.
  ReadRequest request() const {
    ReadRequest r;
    r.token = fresh_token(target_.fsid, target_.ino, proto::AccessMode::READ);
    r.key = key_;
    r.backend = target_.backend;
    r.uuid_bytes.assign(reinterpret_cast<const char*>(target_.uuid.bytes.data()), 16);
    r.offset = 0;
    r.length = static_cast<uint32_t>(target_.data.size());
    return r;
  }

  Errc code_of(const ReadRequest& r) { return read_object(*client_, r).code(); }

  IoThread io_;
  ChunkTarget target_;
  std::string key_;
  std::unique_ptr<RpcClient> client_;
};

TEST_F(Tokens, ValidTokenReadsTheFileBytes) {
  Reply whole = read_object(*client_, request());
  ASSERT_TRUE(whole.ok()) << name_of(whole.code()) << ": " << whole.message();
  EXPECT_TRUE(read_object_data(whole) == target_.data) << "readObject returned other bytes than the file holds";
  ReadRequest part = request();
  part.offset = 1000;
  part.length = 5000;
  Reply r = read_object(*client_, part);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(read_object_data(r) == target_.data.substr(1000, 5000));
  ReadRequest past = request();
  past.offset = target_.data.size() - 10;
  past.length = 100;
  Reply tail = read_object(*client_, past);
  ASSERT_TRUE(tail.ok()) << tail.message();
  EXPECT_EQ(read_object_data(tail), target_.data.substr(target_.data.size() - 10))
      << "a read past the end of the object answers the bytes there are";
  // Every access mode that allows reading works.
  for (auto mode : {proto::AccessMode::READ_WRITE, proto::AccessMode::WRITE}) {
    ReadRequest m = request();
    m.token.mode = mode;
    EXPECT_EQ(name_of(code_of(m)), "ok") << "mode " << static_cast<int>(mode);
  }
}

TEST_F(Tokens, TokenSignedWithAnotherKeyIsRefused) {
  ReadRequest r = request();
  r.key = std::string(64, 'f');
  EXPECT_EQ(name_of(code_of(r)), "bad_token");
  r.key = key_ + "x";
  EXPECT_EQ(name_of(code_of(r)), "bad_token");
}

TEST_F(Tokens, TokenAlteredAfterSigningIsRefused) {
  struct Case {
    const char* what;
    std::function<void(proto::Token::Builder)> tamper;
  };
  const uint64_t ino = target_.ino;
  std::vector<Case> cases = {
      {"ino", [ino](proto::Token::Builder t) { t.setIno(ino + 1); }},
      {"expiry extended", [](proto::Token::Builder t) { t.setExpiresMs(t.getExpiresMs() + 3'600'000); }},
      {"mode", [](proto::Token::Builder t) { t.setMode(proto::AccessMode::READ_WRITE); }},
      {"token id", [](proto::Token::Builder t) { t.setTokenId(t.getTokenId() + 1); }},
      {"client id", [](proto::Token::Builder t) { t.setClientId(t.getClientId() ^ 1); }},
      {"fsid", [](proto::Token::Builder t) {
         auto id = Uuid::random();
         t.setFsid(id.data());
       }},
      {"mac bit flipped", [](proto::Token::Builder t) { t.getMac()[0] ^= 0x01; }},
      {"mac truncated", [](proto::Token::Builder t) {
         uint8_t half[16] = {};
         std::memcpy(half, t.getMac().begin(), 16);
         t.setMac(capnp::Data::Reader(half, 16));
       }},
      {"mac missing", [](proto::Token::Builder t) { t.disownMac(); }},
  };
  for (const auto& c : cases) {
    ReadRequest r = request();
    r.tamper = c.tamper;
    Reply reply = read_object(*client_, r);
    EXPECT_EQ(name_of(reply.code()), "bad_token") << "altered field: " << c.what << " (" << reply.message() << ")";
  }
  // The unaltered token still works: the refusals were about the changes.
  EXPECT_EQ(name_of(code_of(request())), "ok");
}

TEST_F(Tokens, ExpiredTokenIsRefused) {
  ReadRequest r = request();
  r.token.expires_ms = now_ms() - 1000;
  Reply reply = read_object(*client_, r);
  EXPECT_EQ(name_of(reply.code()), "token_expired") << reply.message();
  r.token.expires_ms = 1;
  EXPECT_EQ(name_of(code_of(r)), "token_expired");
  EXPECT_EQ(name_of(code_of(request())), "ok");
}

TEST_F(Tokens, TokenForAnotherFileIsRefused) {
  ReadRequest r = request();
  r.token.fsid = Uuid::random();
  Reply reply = read_object(*client_, r);
  EXPECT_EQ(name_of(reply.code()), "bad_token") << "a correctly signed token for another file read this object";
}

TEST_F(Tokens, ReadTokenCannotWrite) {
  StoredObject before = read_stored_object(target_.object_path);
  ASSERT_EQ(before.error, "");
  Reply reply = client_->call([&](proto::Request::Builder b) {
    auto w = b.initBeginWrite();
    sign_token(key_, fresh_token(target_.fsid, target_.ino, proto::AccessMode::READ), w.initToken());
    w.setBackend(target_.backend.data());
    w.setUuid(target_.uuid.data());
    w.setIndex(0);
    w.setKeepLength(target_.data.size());
  });
  EXPECT_EQ(name_of(reply.code()), "bad_token") << reply.message();
  StoredObject after = read_stored_object(target_.object_path);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.data_sha256, before.data_sha256);
}

}  // namespace
}  // namespace zhsm::test
