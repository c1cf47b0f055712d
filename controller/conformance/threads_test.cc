// Conformance tests of concurrent callers (every MetaStore is thread-safe, see
// meta_store.h): many writers in one directory and criss-cross directory renames, which
// on PostgreSQL exercise row locks, lock order and deadlock retries.
#include <atomic>
#include <thread>

#include "controller/conformance/store_fixture.h"
#include "controller/group_commit.h"

namespace zhsm {
namespace {

TEST_P(ThreadsTest, ParallelCreatesInOneDirectory) {
  auto d = mkdir(1, "d");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        try {
          mkdir(d.ino, "t" + std::to_string(t) + "-" + std::to_string(i));
        } catch (const Error&) {
          ++failures;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store().getattr(d.ino).nlink, 102u);
  EXPECT_EQ(store().readdir(d.ino, 0, 1000).entries.size(), 100u);
}

// Commits from many threads through GroupCommit: every one lands with its own data, a
// bad one fails alone, and the groups carry them all.
TEST_P(ThreadsTest, GroupedCommitsFromManyThreads) {
  GroupCommit group(store());
  constexpr int kThreads = 6, kFiles = 15;
  std::vector<std::vector<OpenResult>> files(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kFiles; ++i)
      files[t].push_back(create(1, "f" + std::to_string(t) + "-" + std::to_string(i)));
  std::atomic<int> failures{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFiles; ++i) {
        CommitArgs c;
        c.ino = files[t][i].attr.ino;
        c.token_id = files[t][i].token.token_id;
        c.inline_data = "data " + std::to_string(t) + " " + std::to_string(i);
        c.size = c.inline_data.size();
        c.set_inline = true;
        try {
          if (group.commit(c).size != c.size) ++failures;
        } catch (const Error&) {
          ++failures;
        }
        CommitArgs bad = c;
        bad.token_id = 1'000'000 + t;
        try {
          group.commit(bad);
        } catch (const Error& e) {
          if (e.code() == Errc::bad_token) ++refused;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(refused.load(), kThreads * kFiles);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kFiles; ++i)
      EXPECT_EQ(store().open(OpenArgs{files[t][i].attr.ino, proto::AccessMode::READ, false, 7})
                    .inline_data,
                "data " + std::to_string(t) + " " + std::to_string(i));
  GroupCommit::Counts c = group.counts();
  EXPECT_EQ(c.commits, 2u * kThreads * kFiles);
  EXPECT_LE(c.groups, c.commits);
}

TEST_P(ThreadsTest, CrissCrossRenamesKeepLinkCountsRight) {
  auto a = mkdir(1, "a");
  auto b = mkdir(1, "b");
  for (int i = 0; i < 20; ++i) {
    mkdir(a.ino, "x" + std::to_string(i));
    mkdir(b.ino, "y" + std::to_string(i));
  }
  std::atomic<int> failures{0};
  auto mover = [&](uint64_t from, uint64_t to, const std::string& prefix) {
    for (int i = 0; i < 20; ++i) {
      try {
        store().rename(RenameArgs{from, prefix + std::to_string(i), to, prefix + std::to_string(i),
                                  false, false});
      } catch (const Error&) {
        ++failures;
      }
    }
  };
  std::thread t1(mover, a.ino, b.ino, "x");
  std::thread t2(mover, b.ino, a.ino, "y");
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store().getattr(a.ino).nlink, 22u);
  EXPECT_EQ(store().getattr(b.ino).nlink, 22u);
  EXPECT_EQ(store().lookup(b.ino, "x7").type, proto::FileType::DIRECTORY);
  EXPECT_EQ(store().lookup(a.ino, "y7").type, proto::FileType::DIRECTORY);
  EXPECT_EQ(code_of([&] { store().lookup(a.ino, "x7"); }), Errc::not_found);
}

}  // namespace
}  // namespace zhsm
