// RequestStats: counts and times per name, the same name from two literals in one row,
// names past the slots as "other", and no count lost between threads.
#include "client-fuse/request_stats.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;

TEST(RequestStats, CountsAndTimesEachName) {
  RequestStats s;
  s.add("lookup", 2ms);
  s.add("create", 1ms);
  s.add("lookup", 4ms);
  auto rows = s.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "lookup");
  EXPECT_EQ(rows[0].count, 2u);
  EXPECT_NEAR(rows[0].seconds, 0.006, 1e-9);
  EXPECT_EQ(rows[1].name, "create");
  EXPECT_EQ(rows[1].count, 1u);
}

TEST(RequestStats, OneRowForOneNameFromTwoPlaces) {
  RequestStats s;
  static const char a[] = "open";
  static const char b[] = "open";
  s.add(a, 1ms);
  s.add(b, 1ms);
  auto rows = s.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 2u);
}

TEST(RequestStats, NamesPastTheSlotsCountAsOther) {
  RequestStats s;
  std::vector<std::string> names;
  for (size_t i = 0; i < RequestStats::kSlots + 3; ++i) names.push_back("op" + std::to_string(i));
  for (const auto& n : names) s.add(n.c_str(), 1ms);
  auto rows = s.rows();
  ASSERT_EQ(rows.size(), RequestStats::kSlots + 1);
  EXPECT_EQ(rows.back().name, "other");
  EXPECT_EQ(rows.back().count, 3u);
}

TEST(RequestStats, ThreadsLoseNoCount) {
  RequestStats s;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) s.add(i % 2 ? "read" : "write", 1us);
    });
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  for (const auto& r : s.rows()) total += r.count;
  EXPECT_EQ(total, 40000u);
  EXPECT_EQ(s.rows().size(), 2u);
}

}  // namespace
}  // namespace zhsm::fuse
