// Conformance tests of what locks and appends ask of the store (every MetaStore must pass
// them, see store_fixture.h): resuming a client session, looking tokens up without
// changing them, and the data map of a file already open.
#include <algorithm>

#include "common/clock.h"
#include "controller/conformance/store_fixture.h"

namespace zhsm {
namespace {

TEST_P(ServersTest, ResumeKeepsAKnownClientId) {
  uint64_t id = store().add_client("host:/mnt");
  EXPECT_TRUE(store().resume_client(id, "host:/mnt"));
  EXPECT_TRUE(store().resume_client(id, "host:/mnt"));  // idempotent
  EXPECT_FALSE(store().resume_client(id + 1000, "other:/mnt"));
  // An unknown id stays unknown: a new session does not get it by resuming.
  uint64_t next = store().add_client("other:/mnt");
  EXPECT_NE(next, id);
}

// What a starting controller asks before it holds adds for the lease time (daemon.cc).
TEST_P(ServersTest, ClientsSeenSinceCountsHellos) {
  const int64_t before = now_ms() - 1;
  EXPECT_FALSE(store().clients_seen_since(before)) << "a new cluster has seen no client";
  store().add_client("host:/mnt");
  EXPECT_TRUE(store().clients_seen_since(before));
  EXPECT_FALSE(store().clients_seen_since(now_ms() + 60000));
}

TEST_P(FilesTest, FindTokensReportsRecordedTokensOnly) {
  auto a = create(1, "a");
  auto b = create(1, "b", proto::AccessMode::READ);
  auto gone = create(1, "gone");
  store().release(gone.token.token_id);
  auto found = store().find_tokens({b.token.token_id, gone.token.token_id, 999999,
                                    a.token.token_id});
  ASSERT_EQ(found.size(), 2u);
  std::sort(found.begin(), found.end(),
            [](const TokenInfo& x, const TokenInfo& y) { return x.token_id < y.token_id; });
  EXPECT_EQ(found[0].token_id, a.token.token_id);
  EXPECT_EQ(found[0].ino, a.attr.ino);
  EXPECT_EQ(found[0].fsid, a.attr.fsid);
  EXPECT_EQ(found[0].client_id, 7u);
  EXPECT_EQ(found[0].mode, proto::AccessMode::READ_WRITE);
  EXPECT_EQ(found[0].expires_ms, a.token.expires_ms);
  EXPECT_EQ(found[1].token_id, b.token.token_id);
  EXPECT_EQ(found[1].mode, proto::AccessMode::READ);
  EXPECT_TRUE(store().find_tokens({}).empty());
}

TEST_P(FilesTest, FindTokensShowsExpiredTokensUntilSwept) {
  auto a = create(1, "a");
  advance_ms(kTokenLifetimeMs + 1);
  auto found = store().find_tokens({a.token.token_id});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_LT(static_cast<int64_t>(found[0].expires_ms), now_ms());
  store().sweep();
  EXPECT_TRUE(store().find_tokens({a.token.token_id}).empty());
}

TEST_P(FilesTest, FindTokensRefusesTooManyIds) {
  std::vector<uint64_t> ids(1001);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i + 1;
  EXPECT_EQ(code_of([&] { store().find_tokens(ids); }), Errc::invalid);
  ids.resize(1000);
  EXPECT_TRUE(store().find_tokens(ids).size() <= 1000u);
}

TEST_P(FilesTest, DataMapShowsWhatOthersCommitted) {
  auto backend = register_backend();
  auto reader = create(1, "log", proto::AccessMode::READ);
  EXPECT_TRUE(reader.is_inline);
  auto writer = store().open(OpenArgs{reader.attr.ino, proto::AccessMode::APPEND, false, 8});
  CommitArgs c;
  c.ino = reader.attr.ino;
  c.token_id = writer.token.token_id;
  c.size = 5;
  c.mtime_ns = 777;
  c.set_inline = true;
  c.inline_data = "hello";
  store().commit_data(c);

  auto m = store().data_map(reader.attr.ino, reader.token.token_id);
  EXPECT_EQ(m.attr.size, 5u);
  EXPECT_EQ(m.attr.mtime_ns, 777);
  EXPECT_GT(m.attr.version, reader.attr.version);
  EXPECT_TRUE(m.is_inline);
  EXPECT_EQ(m.inline_data, "hello");
  EXPECT_FALSE(m.write_target);  // a read token
  // The caller's own token, unchanged: no new token row.
  EXPECT_EQ(m.token.token_id, reader.token.token_id);
  EXPECT_EQ(m.token.expires_ms, reader.token.expires_ms);
  EXPECT_EQ(m.token.client_id, 7u);
  EXPECT_EQ(m.token.fsid, reader.attr.fsid);
  EXPECT_EQ(store().sweep().open_tokens, 2u);

  Uuid object = Uuid::random();
  commit_chunk(writer, 0, object, 1, kInlineMax * 2, kInlineMax * 2, backend);
  auto chunked = store().data_map(reader.attr.ino, writer.token.token_id);
  EXPECT_FALSE(chunked.is_inline);
  ASSERT_EQ(chunked.chunks.size(), 1u);
  EXPECT_EQ(chunked.chunks[0].uuid, object);
  EXPECT_EQ(chunked.chunks[0].version, 1u);
  ASSERT_FALSE(chunked.chunks[0].copies.empty());
  EXPECT_EQ(chunked.chunks[0].copies[0].backend, backend);
  ASSERT_TRUE(chunked.write_target);  // an append token writes
  EXPECT_EQ(chunked.write_target->backend, backend);
  EXPECT_EQ(chunked.token.mode, proto::AccessMode::APPEND);
  EXPECT_EQ(chunked.token.client_id, 8u);
}

TEST_P(FilesTest, DataMapChecksTheToken) {
  auto a = create(1, "a");
  auto b = create(1, "b");
  EXPECT_EQ(code_of([&] { store().data_map(b.attr.ino, a.token.token_id); }), Errc::bad_token);
  EXPECT_EQ(code_of([&] { store().data_map(a.attr.ino, 999999); }), Errc::bad_token);
  store().release(b.token.token_id);
  EXPECT_EQ(code_of([&] { store().data_map(b.attr.ino, b.token.token_id); }), Errc::bad_token);
  advance_ms(kTokenLifetimeMs + 1);
  EXPECT_EQ(code_of([&] { store().data_map(a.attr.ino, a.token.token_id); }),
            Errc::token_expired);
}

}  // namespace
}  // namespace zhsm
