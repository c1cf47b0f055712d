// Unit tests of token signing and verification.
#include "common/token.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

namespace zhsm {
namespace {

const std::string kKey(32, 'k');

TEST(Token, SignedTokenVerifies) {
  capnp::MallocMessageBuilder mb;
  auto t = mb.initRoot<proto::Token>();
  TokenFields f{7, Uuid::random(), 42, proto::AccessMode::READ_WRITE, 10'000, 3};
  sign_token(kKey, f, t);
  EXPECT_EQ(verify_token(kKey, t.asReader(), 9'999), Errc::ok);
  EXPECT_EQ(verify_token(kKey, t.asReader(), 10'000), Errc::token_expired);
}

TEST(Token, AnyChangedFieldIsRefused) {
  capnp::MallocMessageBuilder mb;
  auto t = mb.initRoot<proto::Token>();
  sign_token(kKey, {7, Uuid::random(), 42, proto::AccessMode::READ, 10'000, 3}, t);
  t.setMode(proto::AccessMode::WRITE);
  EXPECT_EQ(verify_token(kKey, t.asReader(), 1), Errc::bad_token);
  t.setMode(proto::AccessMode::READ);
  EXPECT_EQ(verify_token(kKey, t.asReader(), 1), Errc::ok);
  t.setExpiresMs(20'000);
  EXPECT_EQ(verify_token(kKey, t.asReader(), 1), Errc::bad_token);
}

TEST(Token, WrongKeyIsRefused) {
  capnp::MallocMessageBuilder mb;
  auto t = mb.initRoot<proto::Token>();
  sign_token(kKey, {1, Uuid::random(), 2, proto::AccessMode::READ, 10'000, 3}, t);
  EXPECT_EQ(verify_token(std::string(32, 'x'), t.asReader(), 1), Errc::bad_token);
}

TEST(Token, ReadTokenDoesNotAllowWrites) {
  EXPECT_TRUE(token_allows(proto::AccessMode::READ, false));
  EXPECT_FALSE(token_allows(proto::AccessMode::READ, true));
  EXPECT_TRUE(token_allows(proto::AccessMode::APPEND, true));
}

}  // namespace
}  // namespace zhsm
