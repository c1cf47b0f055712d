// Conformance tests of open files (every MetaStore must pass them, see store_fixture.h):
// create and open (truncation, access checks), tokens (renewal, release, expiry),
// commitData with chunk versions and replacement, inline data, truncation through
// setattr, and orphans.
#include "controller/conformance/store_fixture.h"
#include "controller/meta_checks.h"

namespace zhsm {
namespace {

TEST_P(FilesTest, CreateReturnsTokenInlineAndWriteTarget) {
  auto none = create(1, "before-servers");
  EXPECT_FALSE(none.write_target);  // no backend: the client answers ENOSPC when it needs one
  auto backend = register_backend();
  auto r = create(1, "f");
  EXPECT_EQ(r.attr.type, proto::FileType::REGULAR);
  EXPECT_EQ(r.attr.uid, 1000u);
  EXPECT_TRUE(r.is_inline);
  EXPECT_TRUE(r.inline_data.empty());
  EXPECT_GT(r.token.token_id, 0u);
  EXPECT_EQ(r.token.ino, r.attr.ino);
  EXPECT_EQ(r.token.fsid, r.attr.fsid);
  EXPECT_EQ(r.token.client_id, 7u);
  EXPECT_EQ(r.token.mode, proto::AccessMode::READ_WRITE);
  EXPECT_EQ(r.token.expires_ms, static_cast<uint64_t>(now_ms() + kTokenLifetimeMs));
  ASSERT_TRUE(r.write_target);
  EXPECT_EQ(r.write_target->backend, backend);
  EXPECT_EQ(r.write_target->backend_name, "b1");
  EXPECT_EQ(r.write_target->address, "127.0.0.1:9000");
  auto ro = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_FALSE(ro.write_target);
  // A silent server gets no new data.
  advance_ms(kHeartbeatTimeoutMs + 1);
  EXPECT_FALSE(store().open(OpenArgs{r.attr.ino, proto::AccessMode::WRITE, false, 7}).write_target);
}

// The attributes a create answers are the ones stored, also for the group a setgid
// directory hands down; a create in what is not a live directory fails and makes nothing.
TEST_P(FilesTest, CreateAnswersWhatItStoredAndRefusesNonDirectories) {
  auto d = mkdir(1, "shared", 02775);
  SetattrArgs group;
  group.ino = d.ino;
  group.gid = 4242;
  store().setattr(group);
  auto r = create(d.ino, "f");
  auto stored = store().getattr(r.attr.ino);
  EXPECT_EQ(r.attr.gid, 4242u) << "the setgid directory's group";
  EXPECT_EQ(stored.gid, 4242u);
  EXPECT_EQ(r.attr.uid, stored.uid);
  EXPECT_EQ(r.attr.mode, stored.mode);
  EXPECT_EQ(r.attr.fsid, stored.fsid);
  EXPECT_EQ(r.attr.ctime_ns, stored.ctime_ns);
  EXPECT_EQ(r.attr.version, stored.version);
  EXPECT_EQ(r.attr.nlink, 1u);
  auto plain = create(1, "g");
  EXPECT_EQ(plain.attr.gid, caller_.gid);
  EXPECT_EQ(store().getattr(plain.attr.ino).gid, caller_.gid);

  CreateArgs c;
  c.name = "x";
  c.mode = 0644;
  c.caller = caller_;
  c.parent = r.attr.ino;
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::not_dir);
  c.parent = 9999;
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::not_found);
  auto gone = mkdir(1, "gone");
  auto keep = store().open(OpenArgs{gone.ino, proto::AccessMode::READ, false, 7});
  store().rmdir(1, "gone");
  c.parent = gone.ino;
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::not_found) << "a removed directory";
  store().release(keep.token.token_id);
}

TEST_P(FilesTest, CreateOnExistingNames) {
  auto first = create(1, "f");
  mkdir(1, "d");
  CreateArgs c;
  c.parent = 1;
  c.name = "f";
  c.mode = 0600;
  c.caller = caller_;
  c.exclusive = true;
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::exists);
  c.exclusive = false;
  auto again = store().create(c);
  EXPECT_EQ(again.attr.ino, first.attr.ino);
  EXPECT_NE(again.token.token_id, first.token.token_id);
  CommitArgs fill;
  fill.ino = first.attr.ino;
  fill.token_id = first.token.token_id;
  fill.size = 3;
  fill.set_inline = true;
  fill.inline_data = "abc";
  store().commit_data(fill);
  c.truncate = true;
  auto truncated = store().create(c);
  EXPECT_EQ(truncated.attr.ino, first.attr.ino);
  EXPECT_EQ(truncated.attr.size, 0u);
  EXPECT_TRUE(truncated.inline_data.empty());
  c.name = "d";
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::is_dir);
  c.name = "bad/name";
  EXPECT_EQ(code_of([&] { store().create(c); }), Errc::invalid);
}

TEST_P(FilesTest, OpenChecksTypeAndMode) {
  auto d = mkdir(1, "d");
  EXPECT_EQ(code_of([&] { store().open(OpenArgs{d.ino, proto::AccessMode::WRITE, false, 1}); }),
            Errc::is_dir);
  EXPECT_EQ(code_of([&] { store().open(OpenArgs{d.ino, proto::AccessMode::READ, true, 1}); }),
            Errc::is_dir);
  EXPECT_EQ(store().open(OpenArgs{d.ino, proto::AccessMode::READ, false, 1}).attr.ino, d.ino);
  EXPECT_EQ(code_of([&] { store().open(OpenArgs{999, proto::AccessMode::READ, false, 1}); }),
            Errc::not_found);
}

TEST_P(FilesTest, InlineCommitAndPadding) {
  auto r = create(1, "f");
  CommitArgs c;
  c.ino = r.attr.ino;
  c.token_id = r.token.token_id;
  c.size = 10;
  c.mtime_ns = 777;
  c.set_inline = true;
  c.inline_data = "hello";
  auto a = store().commit_data(c);
  EXPECT_EQ(a.size, 10u);
  EXPECT_EQ(a.mtime_ns, 777);
  EXPECT_GT(a.version, r.attr.version);
  auto o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_TRUE(o.is_inline);
  EXPECT_EQ(o.inline_data, std::string("hello\0\0\0\0\0", 10));
  c.inline_data = std::string(kInlineMax + 1, 'x');
  c.size = kInlineMax + 1;
  EXPECT_EQ(code_of([&] { store().commit_data(c); }), Errc::invalid);
  // Truncation clips inline data; growing past inline_max drops it.
  SetattrArgs t;
  t.ino = r.attr.ino;
  t.size = 3;
  store().setattr(t);
  t.size = 8;
  store().setattr(t);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_EQ(o.inline_data, std::string("hel\0\0\0\0\0", 8));
  t.size = kInlineMax + 100;
  auto grown = store().setattr(t);
  EXPECT_EQ(grown.size, kInlineMax + 100);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_FALSE(o.is_inline);
  EXPECT_TRUE(o.chunks.empty());
  t.size = 5;
  store().setattr(t);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_TRUE(o.is_inline);
  EXPECT_EQ(o.inline_data, std::string(5, '\0'));  // the old bytes never come back
}

// The mode, owner and access time a close carries (commitData.thenSetattr) are set in the
// commit's own transaction, for a small file and for one with chunks, and not at all when
// the commit is refused.
TEST_P(FilesTest, ACommitSetsTheAttributesThatRideWithIt) {
  auto b = register_backend();
  auto small = create(1, "small");
  auto big = create(1, "big");
  SetattrArgs then;
  then.mode = 0600;
  then.uid = 1234;
  then.gid = 99;
  then.atime_ns = 4242;
  CommitArgs c;
  c.ino = small.attr.ino;
  c.token_id = small.token.token_id;
  c.size = 5;
  c.mtime_ns = 777;
  c.set_inline = true;
  c.inline_data = "hello";
  then.ino = c.ino;
  c.then = then;
  auto a = store().commit_data(c);
  EXPECT_EQ(a.mode, 0600u);
  EXPECT_EQ(a.uid, 1234u);
  EXPECT_EQ(a.gid, 99u);
  EXPECT_EQ(a.atime_ns, 4242);
  EXPECT_EQ(a.mtime_ns, 777);
  EXPECT_EQ(a.size, 5u);
  EXPECT_EQ(store().getattr(c.ino).mode, 0600u);

  CommitArgs chunked;
  chunked.ino = big.attr.ino;
  chunked.token_id = big.token.token_id;
  chunked.size = 10;
  chunked.mtime_ns = 888;
  chunked.chunks.push_back(ChunkUpdateArgs{0, Uuid::random(), 1, 10, "", b});
  then.ino = chunked.ino;
  then.mode = 0640;
  chunked.then = then;
  auto g = store().commit_data(chunked);
  EXPECT_EQ(g.mode, 0640u);
  EXPECT_EQ(g.uid, 1234u);
  EXPECT_EQ(g.mtime_ns, 888);

  // Refused (unknown token): neither the data nor the attributes.
  then.mode = 0777;
  chunked.then = then;
  chunked.token_id = 999999;
  EXPECT_EQ(code_of([&] { store().commit_data(chunked); }), Errc::bad_token);
  EXPECT_EQ(store().getattr(big.attr.ino).mode, 0640u);
  // Attributes of another inode, or a size, are refused as malformed.
  chunked.token_id = big.token.token_id;
  then.ino = small.attr.ino;
  chunked.then = then;
  EXPECT_EQ(code_of([&] { store().commit_data(chunked); }), Errc::invalid);
  then.ino = big.attr.ino;
  then.size = 3;
  chunked.then = then;
  EXPECT_EQ(code_of([&] { store().commit_data(chunked); }), Errc::invalid);
  EXPECT_EQ(store().getattr(big.attr.ino).mode, 0640u);
}

TEST_P(FilesTest, CommitThatShrinksInlineDataCutsIt) {
  auto r = create(1, "f");
  CommitArgs c;
  c.ino = r.attr.ino;
  c.token_id = r.token.token_id;
  c.size = 5;
  c.mtime_ns = 1;
  c.set_inline = true;
  c.inline_data = "hello";
  store().commit_data(c);
  // A commit that only shrinks (no new inline bytes), then one that grows again:
  // the cut bytes must read as zeros, never come back.
  c.set_inline = false;
  c.inline_data.clear();
  c.size = 2;
  store().commit_data(c);
  c.size = 5;
  store().commit_data(c);
  auto o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_TRUE(o.is_inline);
  EXPECT_EQ(o.inline_data, std::string("he\0\0\0", 5));
}

TEST_P(FilesTest, CommitChecksTheToken) {
  auto backend = register_backend();
  auto r = create(1, "f");
  auto other = create(1, "g");
  auto ro = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  OpenResult forged = r;
  forged.token.token_id = 999999;
  EXPECT_EQ(code_of([&] { commit_chunk(forged, 0, Uuid::random(), 1, 10, 10, backend); }),
            Errc::bad_token);
  EXPECT_EQ(code_of([&] { commit_chunk(ro, 0, Uuid::random(), 1, 10, 10, backend); }),
            Errc::bad_token);
  OpenResult wrong_ino = other;
  wrong_ino.attr.ino = r.attr.ino;
  EXPECT_EQ(code_of([&] { commit_chunk(wrong_ino, 0, Uuid::random(), 1, 10, 10, backend); }),
            Errc::bad_token);
  EXPECT_EQ(code_of([&] { commit_chunk(r, 0, Uuid::random(), 1, 10, 10, Uuid::random()); }),
            Errc::invalid);  // unknown backend
  EXPECT_EQ(code_of([&] { commit_chunk(r, 0, Uuid::random(), 1, 10, 10, backend); }), Errc::ok);
}

// Several commits in one batch: each gets what it would have got alone. One with a bad
// token fails alone; two of one inode apply in their order.
TEST_P(FilesTest, CommitBatchGivesEachItsOwnOutcome) {
  auto f = create(1, "f");
  auto g = create(1, "g");
  auto h = create(1, "h");
  CommitArgs h1 = inline_commit(h, "first", 1), g1 = inline_commit(g, "gee", 2),
             f1 = inline_commit(f, "eff", 3), h2 = inline_commit(h, "second!", 4);
  CommitArgs forged = inline_commit(f, "forged", 5);
  forged.token_id = 999999;
  auto out = store().commit_data_batch({&h1, &g1, &forged, &f1, &h2});
  ASSERT_EQ(out.size(), 5u);
  for (size_t i : {0u, 1u, 3u, 4u}) ASSERT_TRUE(out[i].attr.has_value()) << i;
  ASSERT_TRUE(out[2].error);
  EXPECT_EQ(code_of([&] { std::rethrow_exception(out[2].error); }), Errc::bad_token);
  EXPECT_EQ(out[1].attr->size, 3u);
  EXPECT_EQ(out[3].attr->size, 3u);
  EXPECT_EQ(out[4].attr->size, 7u);
  EXPECT_EQ(out[4].attr->mtime_ns, 4);
  EXPECT_GT(out[4].attr->version, out[0].attr->version);
  auto read = [&](const OpenResult& o) {
    return store().open(OpenArgs{o.attr.ino, proto::AccessMode::READ, false, 7}).inline_data;
  };
  EXPECT_EQ(read(f), "eff");
  EXPECT_EQ(read(g), "gee");
  EXPECT_EQ(read(h), "second!") << "the later commit of one inode in a batch wins";
  EXPECT_EQ(store().getattr(h.attr.ino).size, 7u);
  EXPECT_TRUE(store().commit_data_batch({}).empty());
}

TEST_P(FilesTest, ChunkVersionsMoveForwardAndReplacedObjectsAreDeleted) {
  auto b1 = register_backend("fs1", "b1");
  auto b2 = register_backend("fs2", "b2", 1 << 20);
  auto r = create(1, "f");
  auto u = Uuid::random();
  auto a = commit_chunk(r, 0, u, 1, 100, 100, b1);
  EXPECT_EQ(a.size, 100u);
  EXPECT_EQ(a.mtime_ns, 12345);
  auto o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_FALSE(o.is_inline);
  ASSERT_EQ(o.chunks.size(), 1u);
  EXPECT_EQ(o.chunks[0].uuid, u);
  EXPECT_EQ(o.chunks[0].version, 1u);
  ASSERT_EQ(o.chunks[0].copies.size(), 1u);
  EXPECT_EQ(o.chunks[0].copies[0].backend, b1);
  EXPECT_EQ(o.chunks[0].copies[0].server_name, "fs1");
  EXPECT_EQ(o.chunks[0].copies[0].state, proto::CopyState::CURRENT);
  // Newer version on another backend: that copy is current, the old one outdated.
  commit_chunk(r, 0, u, 2, 200, 200, b2);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  ASSERT_EQ(o.chunks[0].copies.size(), 2u);
  EXPECT_EQ(o.chunks[0].version, 2u);
  EXPECT_EQ(o.chunks[0].size, 200u);
  EXPECT_EQ(o.chunks[0].copies[0].backend, b2);
  EXPECT_EQ(o.chunks[0].copies[0].state, proto::CopyState::CURRENT);
  EXPECT_EQ(o.chunks[0].copies[1].state, proto::CopyState::OUTDATED);
  // An older version is ignored for that chunk (the size still applies).
  commit_chunk(r, 0, u, 1, 50, 200, b1);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_EQ(o.chunks[0].version, 2u);
  EXPECT_EQ(o.chunks[0].size, 200u);
  // A new object for the chunk: both old copies are queued for deletion.
  auto u2 = Uuid::random();
  commit_chunk(r, 0, u2, 1, 300, 300, b1);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_EQ(o.chunks[0].uuid, u2);
  EXPECT_EQ(o.chunks[0].copies.size(), 1u);
  EXPECT_EQ(counts().deletions, 2);
}

TEST_P(FilesTest, ShrinkingDropsAndClipsChunks) {
  auto b = register_backend();
  auto r = create(1, "f");
  commit_chunk(r, 0, Uuid::random(), 1, kChunkSize, 3 * kChunkSize, b);
  commit_chunk(r, 1, Uuid::random(), 1, kChunkSize, 3 * kChunkSize, b);
  commit_chunk(r, 2, Uuid::random(), 1, kChunkSize, 3 * kChunkSize, b);
  // A commit with a smaller size drops the chunks past it and clips the last.
  commit_chunk(r, 0, Uuid::random(), 1, kChunkSize, kChunkSize + 10, b);
  auto o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  ASSERT_EQ(o.chunks.size(), 2u);
  EXPECT_EQ(o.chunks[1].size, 10u);
  EXPECT_TRUE(o.chunks[1].sha256.empty());
  EXPECT_EQ(o.chunks[0].sha256.size(), 32u);
  EXPECT_EQ(counts().deletions, 2);  // chunk 2 and the old chunk 0
  // Truncation through setattr does the same.
  SetattrArgs t;
  t.ino = r.attr.ino;
  t.size = 5;
  auto a = store().setattr(t);
  EXPECT_EQ(a.size, 5u);
  EXPECT_GT(a.mtime_ns, 0);
  o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  ASSERT_EQ(o.chunks.size(), 1u);
  EXPECT_EQ(o.chunks[0].size, 5u);
  EXPECT_FALSE(o.is_inline);  // it still has a chunk row
  // open with truncate drops everything.
  auto w = store().open(OpenArgs{r.attr.ino, proto::AccessMode::WRITE, true, 7});
  EXPECT_EQ(w.attr.size, 0u);
  EXPECT_TRUE(w.chunks.empty());
  EXPECT_TRUE(w.is_inline);
  EXPECT_EQ(counts().deletions, 4);
}

TEST_P(FilesTest, ARefusedCommitChangesNothing) {
  auto b = register_backend();
  auto r = create(1, "f");
  auto other = create(1, "g");
  auto taken = Uuid::random();
  commit_chunk(other, 0, taken, 1, 10, 10, b);
  // One object for two chunks: refused as a whole, the first update included.
  CommitArgs c;
  c.ino = r.attr.ino;
  c.token_id = r.token.token_id;
  c.size = kChunkSize + 10;
  auto shared = Uuid::random();
  c.chunks.push_back(ChunkUpdateArgs{0, shared, 1, kChunkSize, "", b});
  c.chunks.push_back(ChunkUpdateArgs{1, shared, 1, 10, "", b});
  EXPECT_EQ(code_of([&] { store().commit_data(c); }), Errc::exists);
  // An object of another file.
  c.chunks = {ChunkUpdateArgs{0, Uuid::random(), 1, kChunkSize, "", b},
              ChunkUpdateArgs{1, taken, 1, 10, "", b}};
  EXPECT_EQ(code_of([&] { store().commit_data(c); }), Errc::exists);
  // A backend nobody registered, after a good update.
  c.chunks = {ChunkUpdateArgs{0, Uuid::random(), 1, kChunkSize, "", b},
              ChunkUpdateArgs{1, Uuid::random(), 1, 10, "", Uuid::random()}};
  EXPECT_EQ(code_of([&] { store().commit_data(c); }), Errc::invalid);
  EXPECT_EQ(store().getattr(r.attr.ino).size, 0u);
  EXPECT_EQ(store().getattr(r.attr.ino).version, r.attr.version);
  EXPECT_EQ(counts().chunks, 1u);
  EXPECT_EQ(counts().deletions, 0u);
}

TEST_P(FilesTest, CommitNeedsALiveRegularFileAndToken) {
  auto b = register_backend();
  auto r = create(1, "f");
  advance_ms(kTokenLifetimeMs + 1);
  EXPECT_EQ(code_of([&] { commit_chunk(r, 0, Uuid::random(), 1, 10, 10, b); }),
            Errc::token_expired);
  NodeArgs fifo{1, "p", proto::FileType::FIFO, 0600, 0, "", caller_};
  auto p = store().mknod(fifo);
  auto w = store().open(OpenArgs{p.ino, proto::AccessMode::WRITE, false, 7});
  EXPECT_FALSE(w.write_target);
  EXPECT_TRUE(w.chunks.empty());
  EXPECT_EQ(code_of([&] { commit_chunk(w, 0, Uuid::random(), 1, 10, 10, b); }), Errc::invalid);
  CommitArgs both;
  both.ino = w.attr.ino;
  both.token_id = w.token.token_id;
  both.set_inline = true;
  both.drop_inline = true;
  EXPECT_EQ(code_of([&] { store().commit_data(both); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { commit_chunk(w, 0, Uuid::random(), 0, 10, 10, b); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { commit_chunk(w, 0, Uuid::random(), 1, kChunkSize + 1, 10, b); }),
            Errc::invalid);
}

TEST_P(FilesTest, DropInlineWhenDataMovesToAChunk) {
  auto b = register_backend();
  auto r = create(1, "f");
  store().commit_data(inline_commit(r, "abcd"));
  CommitArgs grow;
  grow.ino = r.attr.ino;
  grow.token_id = r.token.token_id;
  grow.size = kInlineMax * 2;
  grow.drop_inline = true;
  grow.chunks.push_back(ChunkUpdateArgs{0, Uuid::random(), 1, kInlineMax * 2, "", b});
  store().commit_data(grow);
  auto o = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  EXPECT_FALSE(o.is_inline);
  EXPECT_EQ(o.chunks.size(), 1u);
  EXPECT_EQ(counts().inline_files, 0);
}

TEST_P(FilesTest, ReadOpenOfAnInlineFileMayGoWithoutAToken) {
  auto b = register_backend();
  auto r = create(1, "f");
  store().commit_data(inline_commit(r, "abcd"));
  store().release(r.token.token_id);
  OpenArgs a{r.attr.ino, proto::AccessMode::READ, false, 7};
  a.inline_without_token = true;
  auto o = store().open(a);
  EXPECT_EQ(o.token.token_id, 0u) << "an inline file's read-only open asked for no token";
  EXPECT_TRUE(o.is_inline);
  EXPECT_EQ(o.inline_data, "abcd");
  EXPECT_EQ(o.attr.size, 4u);
  EXPECT_EQ(store().sweep().open_tokens, 0u) << "nothing was recorded";
  // Writing or truncating always takes a token, whatever the request asked.
  for (auto [mode, truncate] : {std::pair{proto::AccessMode::READ_WRITE, false},
                                std::pair{proto::AccessMode::READ, true}}) {
    OpenArgs w{r.attr.ino, mode, truncate, 7};
    w.inline_without_token = true;
    auto t = store().open(w);
    EXPECT_NE(t.token.token_id, 0u) << access_mode_name(mode) << " truncate=" << truncate;
    store().release(t.token.token_id);
  }
  // A file with chunks and a directory get one too.
  auto g = create(1, "g");
  commit_chunk(g, 0, Uuid::random(), 1, 100, 100, b);
  store().release(g.token.token_id);
  OpenArgs chunked{g.attr.ino, proto::AccessMode::READ, false, 7};
  chunked.inline_without_token = true;
  auto oc = store().open(chunked);
  EXPECT_NE(oc.token.token_id, 0u);
  EXPECT_EQ(oc.chunks.size(), 1u);
  store().release(oc.token.token_id);
  auto d = mkdir(1, "d");
  OpenArgs dir{d.ino, proto::AccessMode::READ, false, 7};
  dir.inline_without_token = true;
  auto od = store().open(dir);
  EXPECT_NE(od.token.token_id, 0u);
  store().release(od.token.token_id);
  // Nothing keeps an unlinked file for a tokenless open: its reader holds the bytes.
  store().unlink(1, "f");
  EXPECT_EQ(code_of([&] { store().getattr(r.attr.ino); }), Errc::not_found);
  OpenArgs gone{r.attr.ino, proto::AccessMode::READ, false, 7};
  gone.inline_without_token = true;
  EXPECT_EQ(code_of([&] { store().open(gone); }), Errc::not_found);
  EXPECT_EQ(counts().inline_files, 0u);
}

TEST_P(FilesTest, TokensRenewAndRelease) {
  auto r = create(1, "f");
  advance_ms(1000);
  auto t = store().renew_token(r.token.token_id);
  EXPECT_EQ(t.expires_ms, static_cast<uint64_t>(now_ms() + kTokenLifetimeMs));
  EXPECT_EQ(t.ino, r.attr.ino);
  EXPECT_EQ(t.fsid, r.attr.fsid);
  EXPECT_EQ(t.client_id, 7u);
  EXPECT_EQ(t.mode, proto::AccessMode::READ_WRITE);
  store().release(r.token.token_id);
  store().release(r.token.token_id);  // idempotent
  EXPECT_EQ(code_of([&] { store().renew_token(r.token.token_id); }), Errc::bad_token);
}

// Tokens released together: the known ones go (an unknown one is skipped), and an
// unlinked inode whose last token was among them is reclaimed.
TEST_P(FilesTest, ReleaseManyDropsEachAndReclaimsOrphans) {
  auto a = create(1, "a");
  auto b = create(1, "b");
  auto gone = create(1, "gone");
  auto again = store().open(OpenArgs{a.attr.ino, proto::AccessMode::READ, false, 7});
  store().unlink(1, "gone");
  store().release_many({a.token.token_id, gone.token.token_id, 999999, again.token.token_id});
  for (uint64_t t : {a.token.token_id, gone.token.token_id, again.token.token_id})
    EXPECT_EQ(code_of([&] { store().renew_token(t); }), Errc::bad_token) << t;
  EXPECT_EQ(store().renew_token(b.token.token_id).ino, b.attr.ino);
  EXPECT_EQ(code_of([&] { store().getattr(gone.attr.ino); }), Errc::not_found);
  EXPECT_EQ(store().getattr(a.attr.ino).nlink, 1u);
  store().release_many({});
  store().release_many({b.token.token_id});
  EXPECT_EQ(code_of([&] { store().renew_token(b.token.token_id); }), Errc::bad_token);
}

TEST_P(FilesTest, UnlinkedWhileOpenLivesUntilRelease) {
  auto b = register_backend();
  auto r = create(1, "f");
  commit_chunk(r, 0, Uuid::random(), 1, 100, 100, b);
  store().unlink(1, "f");
  auto orphan = store().getattr(r.attr.ino);
  EXPECT_EQ(orphan.nlink, 0u);
  commit_chunk(r, 0, Uuid::random(), 1, 100, 100, b);  // still writable through its token
  store().sweep();
  EXPECT_EQ(store().getattr(r.attr.ino).nlink, 0u);  // a live token keeps it
  store().release(r.token.token_id);
  EXPECT_EQ(code_of([&] { store().getattr(r.attr.ino); }), Errc::not_found);
  EXPECT_EQ(counts().deletions, 2);
  EXPECT_EQ(counts().chunks, 0);
}

TEST_P(FilesTest, ExpiredTokensAreSweptAndOrphansReclaimed) {
  auto r = create(1, "f");
  auto kept = create(1, "kept");
  store().unlink(1, "f");
  advance_ms(kTokenLifetimeMs / 2);
  store().renew_token(kept.token.token_id);
  advance_ms(kTokenLifetimeMs / 2 + 1);
  auto s = store().sweep();
  EXPECT_EQ(s.expired_tokens, 1u);
  EXPECT_EQ(s.reclaimed, 1u);
  EXPECT_EQ(s.open_tokens, 1u);
  EXPECT_EQ(code_of([&] { store().getattr(r.attr.ino); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().renew_token(r.token.token_id); }), Errc::bad_token);
  EXPECT_EQ(store().getattr(kept.attr.ino).nlink, 1u);
}

TEST_P(FilesTest, RemovedDirectoryAcceptsNoNewEntries) {
  auto d = mkdir(1, "d");
  auto tok = store().open(OpenArgs{d.ino, proto::AccessMode::READ, false, 7});
  store().rmdir(1, "d");
  EXPECT_EQ(code_of([&] { mknod(d.ino, "x"); }), Errc::not_found);
  store().release(tok.token.token_id);
  EXPECT_EQ(code_of([&] { store().getattr(d.ino); }), Errc::not_found);
}

}  // namespace
}  // namespace zhsm
