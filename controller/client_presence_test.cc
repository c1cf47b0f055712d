// Unit tests of ClientPresence: a client counts as gone only when its last connection
// closed, and is reported once after the grace time unless it came back.
#include "controller/client_presence.h"

#include <gtest/gtest.h>

namespace zhsm {
namespace {

using namespace std::chrono_literals;

TEST(ClientPresence, GoneOnlyAfterTheLastConnectionAndTheGrace) {
  ClientPresence p;
  const auto t0 = ClientPresence::Clock::now();
  p.attach(1);
  p.attach(1);  // a second connection of the same client
  p.attach(2);
  p.detach(1, t0);
  EXPECT_EQ(p.connections(1), 1u);
  EXPECT_TRUE(p.take_gone(t0 + 1h, 10s).empty());
  p.detach(1, t0 + 1s);
  p.detach(2, t0 + 5s);
  EXPECT_TRUE(p.take_gone(t0 + 10s, 10s).empty());
  EXPECT_EQ(p.take_gone(t0 + 11s, 10s), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(p.take_gone(t0 + 12s, 10s).empty());  // reported once
  EXPECT_EQ(p.take_gone(t0 + 15s, 10s), (std::vector<uint64_t>{2}));
}

TEST(ClientPresence, AClientThatComesBackIsNotGone) {
  ClientPresence p;
  const auto t0 = ClientPresence::Clock::now();
  p.attach(3);
  p.detach(3, t0);
  p.attach(3);  // hello resuming the session on a new connection
  EXPECT_TRUE(p.take_gone(t0 + 1h, 10s).empty());
  p.detach(3, t0 + 1h);
  EXPECT_EQ(p.take_gone(t0 + 2h, 10s), (std::vector<uint64_t>{3}));
  p.detach(3, t0 + 2h);  // unknown now: ignored
  EXPECT_TRUE(p.take_gone(t0 + 3h, 10s).empty());
}

}  // namespace
}  // namespace zhsm
