// main() of every integration test binary: GoogleTest with the cluster
// environment installed, so the binary's tests share one running cluster.
#include <gtest/gtest.h>

#include "test/integration/cluster.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(zhsm::test::make_cluster_environment());
  return RUN_ALL_TESTS();
}
