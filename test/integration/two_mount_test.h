// TwoMountTest: a gtest fixture for tests on two mounts of one cluster, the main
// mount (A) and a second mount "mnt2" (B) added once per test binary. Each test
// gets a scratch directory on A named after the test (a_) and the same directory
// as B sees it (b_); SetUp waits, with bounded polling, until B sees it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace zhsm::test {

// How long a change on one mount may take to be seen on the other (attribute and
// entry timeouts are 1 s).
inline constexpr auto kVisible = std::chrono::seconds(10);

// lstat succeeds.
bool present(const std::filesystem::path& p);

class TwoMountTest : public ::testing::Test {
 protected:
  // Adds the second mount; a failure is reported by every test's SetUp.
  static void SetUpTestSuite();
  void SetUp() override;

  static const std::filesystem::path& second_mount() { return second_; }

  std::filesystem::path a_;  // on the main mount
  std::filesystem::path b_;  // the same directory on the second mount

 private:
  static std::filesystem::path second_;
  static std::string mount_error_;
};

}  // namespace zhsm::test
