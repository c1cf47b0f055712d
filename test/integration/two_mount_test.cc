// TwoMountTest: the second mount and the per-test directory seen from both mounts.
#include "test/integration/two_mount_test.h"

#include <sys/stat.h>

#include <exception>

#include "test/integration/cluster.h"

namespace zhsm::test {

namespace fs = std::filesystem;

bool present(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

fs::path TwoMountTest::second_;
std::string TwoMountTest::mount_error_;

void TwoMountTest::SetUpTestSuite() {
  try {
    second_ = Cluster::get().add_mount("mnt2");
  } catch (const std::exception& e) {
    mount_error_ = e.what();
  }
}

void TwoMountTest::SetUp() {
  ASSERT_FALSE(second_.empty()) << mount_error_;
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  a_ = Cluster::get().scratch(name);
  b_ = second_ / name;
  ASSERT_TRUE(eventually([&] { return present(b_); }, kVisible))
      << "the test directory made on the first mount never appeared on the second";
}

}  // namespace zhsm::test
