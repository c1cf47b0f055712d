// Unit tests of the lock table: POSIX ranges (conflicts, merging, splitting, upgrading and
// downgrading in place, refusals that change nothing), flock (sharing, conversion as on
// Linux), the append lock, kinds that never conflict, F_GETLK, and dropping by token and
// by client.
#include "controller/lock_table.h"

#include <gtest/gtest.h>

namespace zhsm {
namespace {

using Kind = proto::LockKind;
using Type = proto::LockType;

constexpr uint64_t kIno = 42;

LockSpec lk(uint64_t client, uint64_t owner, Type type, uint64_t start, uint64_t end,
            Kind kind = Kind::POSIX, uint64_t token = 0) {
  LockSpec s;
  s.ino = kIno;
  s.client = client;
  s.owner = owner;
  s.kind = kind;
  s.type = type;
  s.start = start;
  s.end = end;
  s.token = token != 0 ? token : client * 100 + owner;
  s.pid = static_cast<uint32_t>(1000 + owner);
  return s;
}

LockSpec whole(uint64_t client, uint64_t owner, Type type, Kind kind, uint64_t token = 0) {
  return lk(client, owner, type, 0, kLockToEof, kind, token);
}

// The ranges held on kIno, as "client/owner:type[start,end]" for readable failures.
std::vector<std::string> ranges(const LockTable& t) {
  std::vector<std::string> out;
  for (const auto& l : t.locks_of(kIno))
    out.push_back(std::to_string(l.client) + "/" + std::to_string(l.owner) + ":" +
                  lock_kind_name(l.kind) + ":" + lock_type_name(l.type) + "[" +
                  std::to_string(l.start) + "," +
                  (l.end == kLockToEof ? std::string("eof") : std::to_string(l.end)) + "]");
  return out;
}

using V = std::vector<std::string>;

TEST(LockTable, DisjointRangesOfDifferentHoldersCoexist) {
  LockTable t;
  EXPECT_TRUE(t.set(lk(1, 1, Type::WRITE, 0, 9)).granted);
  EXPECT_TRUE(t.set(lk(2, 1, Type::WRITE, 10, 19)).granted);
  EXPECT_TRUE(t.set(lk(1, 2, Type::WRITE, 20, kLockToEof)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[0,9]", "1/2:posix:write[20,eof]",
                          "2/1:posix:write[10,19]"}));
  EXPECT_EQ(t.size(), 3u);
}

TEST(LockTable, OverlappingWriteIsRefusedWithTheHolder) {
  LockTable t;
  ASSERT_TRUE(t.set(lk(1, 1, Type::WRITE, 100, 199)).granted);
  LockOutcome o = t.set(lk(2, 7, Type::WRITE, 150, 300));
  EXPECT_FALSE(o.granted);
  ASSERT_TRUE(o.conflict);
  EXPECT_EQ(o.conflict->client, 1u);
  EXPECT_EQ(o.conflict->owner, 1u);
  EXPECT_EQ(o.conflict->type, Type::WRITE);
  EXPECT_EQ(o.conflict->start, 100u);
  EXPECT_EQ(o.conflict->end, 199u);
  EXPECT_EQ(o.conflict->pid, 1001u);
  // A read lock conflicts with a write lock too; the same owner of another client is
  // another holder.
  EXPECT_FALSE(t.set(lk(2, 1, Type::READ, 199, 199)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[100,199]"}));
}

TEST(LockTable, ReadLocksAreShared) {
  LockTable t;
  EXPECT_TRUE(t.set(lk(1, 1, Type::READ, 0, 99)).granted);
  EXPECT_TRUE(t.set(lk(2, 1, Type::READ, 50, 149)).granted);
  EXPECT_FALSE(t.set(lk(3, 1, Type::WRITE, 140, 140)).granted);
  EXPECT_TRUE(t.set(lk(3, 1, Type::WRITE, 150, 160)).granted);
}

TEST(LockTable, RangesOfOneTypeMergeWhenTheyTouch) {
  LockTable t;
  t.set(lk(1, 1, Type::READ, 0, 9));
  t.set(lk(1, 1, Type::READ, 20, 29));
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,9]", "1/1:posix:read[20,29]"}));
  t.set(lk(1, 1, Type::READ, 10, 19));  // adjacent on both sides
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,29]"}));
  t.set(lk(1, 1, Type::READ, 25, 40));  // overlapping
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,40]"}));
  t.set(lk(1, 1, Type::READ, 100, kLockToEof));
  t.set(lk(1, 1, Type::READ, 41, 99));
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,eof]"}));
  EXPECT_EQ(t.size(), 1u);
}

TEST(LockTable, UnlockOfASubRangeSplits) {
  LockTable t;
  t.set(lk(1, 1, Type::WRITE, 0, 99));
  EXPECT_TRUE(t.set(lk(1, 1, Type::UNLOCK, 10, 19)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[0,9]", "1/1:posix:write[20,99]"}));
  t.set(lk(1, 1, Type::UNLOCK, 90, kLockToEof));
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[0,9]", "1/1:posix:write[20,89]"}));
  t.set(lk(1, 1, Type::UNLOCK, 0, 25));
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[26,89]"}));
  // Unlocking what is not held changes nothing and is granted.
  EXPECT_TRUE(t.set(lk(1, 1, Type::UNLOCK, 1000, 2000)).granted);
  EXPECT_TRUE(t.set(lk(2, 1, Type::UNLOCK, 0, kLockToEof)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[26,89]"}));
  t.set(lk(1, 1, Type::UNLOCK, 0, kLockToEof));
  EXPECT_TRUE(ranges(t).empty());
  EXPECT_EQ(t.size(), 0u);
}

TEST(LockTable, UpgradeAndDowngradeInPlace) {
  LockTable t;
  t.set(lk(1, 1, Type::READ, 0, 99));
  EXPECT_TRUE(t.set(lk(1, 1, Type::WRITE, 10, 19)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,9]", "1/1:posix:write[10,19]",
                          "1/1:posix:read[20,99]"}));
  EXPECT_TRUE(t.set(lk(1, 1, Type::READ, 10, 19)).granted);  // back: merges again
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,99]"}));
  EXPECT_TRUE(t.set(lk(1, 1, Type::WRITE, 0, kLockToEof)).granted);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[0,eof]"}));
}

TEST(LockTable, ARefusedRequestChangesNothing) {
  LockTable t;
  t.set(lk(1, 1, Type::READ, 0, 99));
  t.set(lk(2, 1, Type::READ, 50, 60));
  LockOutcome o = t.set(lk(1, 1, Type::WRITE, 0, 99));  // an upgrade another reader blocks
  EXPECT_FALSE(o.granted);
  EXPECT_FALSE(o.dropped_old);
  EXPECT_EQ(o.conflict->client, 2u);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:read[0,99]", "2/1:posix:read[50,60]"}));
}

TEST(LockTable, KindsNeverConflict) {
  LockTable t;
  EXPECT_TRUE(t.set(lk(1, 1, Type::WRITE, 0, kLockToEof)).granted);
  EXPECT_TRUE(t.set(whole(2, 9, Type::WRITE, Kind::FLOCK)).granted);
  EXPECT_TRUE(t.set(whole(3, 0, Type::WRITE, Kind::APPEND)).granted);
  EXPECT_EQ(t.size(), 3u);
}

TEST(LockTable, FlockSharesReadersAndExcludesWriters) {
  LockTable t;
  EXPECT_TRUE(t.set(whole(1, 11, Type::READ, Kind::FLOCK)).granted);
  EXPECT_TRUE(t.set(whole(2, 22, Type::READ, Kind::FLOCK)).granted);
  LockOutcome o = t.set(whole(3, 33, Type::WRITE, Kind::FLOCK));
  EXPECT_FALSE(o.granted);
  EXPECT_EQ(o.conflict->kind, Kind::FLOCK);
  EXPECT_EQ(o.conflict->type, Type::READ);
  // Taking the same lock again is granted and changes nothing.
  EXPECT_TRUE(t.set(whole(1, 11, Type::READ, Kind::FLOCK)).granted);
  EXPECT_EQ(t.size(), 2u);
  t.set(whole(1, 11, Type::UNLOCK, Kind::FLOCK));
  t.set(whole(2, 22, Type::UNLOCK, Kind::FLOCK));
  EXPECT_TRUE(t.set(whole(3, 33, Type::WRITE, Kind::FLOCK)).granted);
  EXPECT_FALSE(t.set(whole(1, 11, Type::READ, Kind::FLOCK)).granted);
}

TEST(LockTable, FlockConversionDropsTheOldLockFirstAsOnLinux) {
  LockTable t;
  t.set(whole(1, 11, Type::READ, Kind::FLOCK));
  t.set(whole(2, 22, Type::READ, Kind::FLOCK));
  // Both readers convert: the first is refused and loses its shared lock, so the second
  // gets the exclusive one instead of both waiting for each other.
  LockOutcome first = t.set(whole(1, 11, Type::WRITE, Kind::FLOCK));
  EXPECT_FALSE(first.granted);
  EXPECT_TRUE(first.dropped_old);
  LockOutcome second = t.set(whole(2, 22, Type::WRITE, Kind::FLOCK));
  EXPECT_TRUE(second.granted);
  EXPECT_TRUE(second.dropped_old);
  EXPECT_EQ(ranges(t), (V{"2/22:flock:write[0,eof]"}));
  // Downgrading in place.
  EXPECT_TRUE(t.set(whole(2, 22, Type::READ, Kind::FLOCK)).granted);
  EXPECT_EQ(ranges(t), (V{"2/22:flock:read[0,eof]"}));
}

TEST(LockTable, AppendLockIsExclusiveAndReentrantForItsHolder) {
  LockTable t;
  EXPECT_TRUE(t.set(whole(1, 0, Type::WRITE, Kind::APPEND)).granted);
  EXPECT_TRUE(t.set(whole(1, 0, Type::WRITE, Kind::APPEND)).granted);
  EXPECT_FALSE(t.set(whole(2, 0, Type::WRITE, Kind::APPEND)).granted);
  t.set(whole(1, 0, Type::UNLOCK, Kind::APPEND));
  EXPECT_TRUE(t.set(whole(2, 0, Type::WRITE, Kind::APPEND)).granted);
}

TEST(LockTable, TestReportsTheFirstConflictOfAnotherHolder) {
  LockTable t;
  t.set(lk(1, 1, Type::WRITE, 500, 599));
  t.set(lk(2, 1, Type::READ, 100, 199));
  t.set(lk(3, 1, Type::WRITE, 0, 9));
  auto c = t.test(lk(3, 1, Type::WRITE, 0, kLockToEof));  // its own range is not in the way
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client, 2u);
  EXPECT_EQ(c->start, 100u);
  EXPECT_EQ(c->type, Type::READ);
  auto r = t.test(lk(4, 1, Type::READ, 100, 550));  // readers share: the writer is in the way
  ASSERT_TRUE(r);
  EXPECT_EQ(r->client, 1u);
  EXPECT_EQ(r->end, 599u);
  EXPECT_FALSE(t.test(lk(4, 1, Type::READ, 100, 199)));
  EXPECT_FALSE(t.test(lk(4, 1, Type::WRITE, 600, kLockToEof)));
  EXPECT_FALSE(t.test(whole(4, 1, Type::WRITE, Kind::FLOCK)));  // another kind
  EXPECT_EQ(t.size(), 3u);  // testing changes nothing
}

TEST(LockTable, DropByTokenAndByClient) {
  LockTable t;
  t.set(lk(1, 1, Type::WRITE, 0, 9, Kind::POSIX, 500));
  t.set(lk(1, 1, Type::WRITE, 20, 29, Kind::POSIX, 501));
  t.set(whole(1, 5, Type::WRITE, Kind::FLOCK, 501));
  t.set(lk(2, 1, Type::READ, 40, 49, Kind::POSIX, 600));
  EXPECT_EQ(t.tokens(), (std::vector<uint64_t>{500, 501, 600}));
  EXPECT_EQ(t.drop_token(501), 2u);
  EXPECT_EQ(ranges(t), (V{"1/1:posix:write[0,9]", "2/1:posix:read[40,49]"}));
  EXPECT_EQ(t.drop_token(501), 0u);
  EXPECT_EQ(t.drop_client(1), 1u);
  EXPECT_EQ(ranges(t), (V{"2/1:posix:read[40,49]"}));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.drop_client(2), 1u);
  EXPECT_TRUE(t.tokens().empty());
  EXPECT_EQ(t.size(), 0u);
}

TEST(LockTable, InodesAreSeparate) {
  LockTable t;
  LockSpec a = lk(1, 1, Type::WRITE, 0, kLockToEof);
  LockSpec b = a;
  b.ino = kIno + 1;
  b.client = 2;
  EXPECT_TRUE(t.set(a).granted);
  EXPECT_TRUE(t.set(b).granted);
}

}  // namespace
}  // namespace zhsm
