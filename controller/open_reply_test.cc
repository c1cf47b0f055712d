// Unit tests of the order readers get a chunk's copies in (open_reply.h).
#include <gtest/gtest.h>

#include <map>

#include "controller/open_reply.h"

namespace zhsm {
namespace {

CopyInfo copy(const std::string& name, const std::string& address, proto::CopyState state,
              uint64_t version = 3) {
  CopyInfo c;
  c.backend = Uuid::random();
  c.backend_name = name;
  c.server = Uuid::random();
  c.server_name = name;
  c.address = address;
  c.state = state;
  c.version = version;
  return c;
}

std::vector<std::string> names(const ChunkInfo& chunk) {
  std::vector<std::string> out;
  for (const auto& c : chunk.copies) out.push_back(c.backend_name);
  return out;
}

TEST(OrderCopiesForReads, CurrentThenNearThenLeastLoaded) {
  OpenResult r;
  ChunkInfo chunk;
  chunk.version = 3;
  chunk.copies = {copy("old", "10.0.0.1:9000", proto::CopyState::OUTDATED, 2),
                  copy("busy", "10.0.0.2:9000", proto::CopyState::CURRENT),
                  copy("idle", "10.0.0.3:9000", proto::CopyState::CURRENT),
                  copy("stale-version", "10.0.0.9:9000", proto::CopyState::CURRENT, 2),
                  copy("local", "10.0.0.9:9001", proto::CopyState::CURRENT)};
  r.chunks = {chunk};
  std::map<Uuid, uint32_t> load{{r.chunks[0].copies[1].server, 40},
                                {r.chunks[0].copies[2].server, 1},
                                {r.chunks[0].copies[4].server, 99}};
  order_copies_for_reads(r, "10.0.0.9:51234", [&](const Uuid& s) {
    auto it = load.find(s);
    return ReadHint{.leaving = false, .load = it == load.end() ? 0u : it->second};
  });
  EXPECT_EQ(names(r.chunks[0]),
            (std::vector<std::string>{"local", "idle", "busy", "stale-version", "old"}))
      << "the reader's own host first however loaded, then the least loaded; copies that are "
         "not current last";
}

TEST(OrderCopiesForReads, IPv6AddressesCompareByHost) {
  OpenResult r;
  ChunkInfo chunk;
  chunk.version = 1;
  chunk.copies = {copy("far", "[fd00::2]:9000", proto::CopyState::CURRENT, 1),
                  copy("near", "[fd00::1]:9000", proto::CopyState::CURRENT, 1)};
  r.chunks = {chunk};
  order_copies_for_reads(r, "[fd00::1]:40000", [](const Uuid&) { return ReadHint{}; });
  EXPECT_EQ(names(r.chunks[0]), (std::vector<std::string>{"near", "far"}));
}

TEST(OrderCopiesForReads, ServersLeavingComeAfterTheOthersEvenWhenNear) {
  OpenResult r;
  ChunkInfo chunk;
  chunk.version = 3;
  chunk.copies = {copy("near-maintenance", "10.0.0.9:9000", proto::CopyState::CURRENT),
                  copy("far-busy", "10.0.0.2:9000", proto::CopyState::CURRENT),
                  copy("old", "10.0.0.3:9000", proto::CopyState::OUTDATED, 2)};
  r.chunks = {chunk};
  const Uuid leaving = r.chunks[0].copies[0].server;
  order_copies_for_reads(r, "10.0.0.9:51234", [&](const Uuid& s) {
    return s == leaving ? ReadHint{.leaving = true, .load = 0} : ReadHint{.leaving = false, .load = 50};
  });
  EXPECT_EQ(names(r.chunks[0]), (std::vector<std::string>{"far-busy", "near-maintenance", "old"}))
      << "a current copy on a server in maintenance or draining is read only when no other is";
}

}  // namespace
}  // namespace zhsm
