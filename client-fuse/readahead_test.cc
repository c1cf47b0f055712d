// mount_device_of: the device of the newest mount at a path in mountinfo's text.
#include "client-fuse/readahead.h"

#include <gtest/gtest.h>

namespace zhsm::fuse {
namespace {

constexpr const char* kInfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "80 22 0:52 / /srv/zhsm\\040mnt rw,nosuid,nodev shared:40 - fuse.zhsm zhsm rw,user_id=0\n"
    "81 22 0:53 / /srv/a rw,nosuid,nodev shared:41 - fuse.zhsm zhsm rw,user_id=0\n"
    "90 81 0:60 / /srv/a rw,nosuid,nodev shared:50 - fuse.zhsm zhsm rw,user_id=0\n";

TEST(MountDevice, FindsTheMountByItsUnescapedPath) {
  EXPECT_EQ(mount_device_of(kInfo, "/srv/zhsm mnt"), "0:52");
  EXPECT_EQ(mount_device_of(kInfo, "/"), "254:0");
}

TEST(MountDevice, TheNewestOfStackedMountsWins) {
  EXPECT_EQ(mount_device_of(kInfo, "/srv/a"), "0:60");
}

TEST(MountDevice, NothingForAnUnknownPathOrBadText) {
  EXPECT_FALSE(mount_device_of(kInfo, "/srv/zhsm\\040mnt"));
  EXPECT_FALSE(mount_device_of(kInfo, "/srv"));
  EXPECT_FALSE(mount_device_of("", "/"));
  EXPECT_FALSE(mount_device_of("garbage without fields\n\\", "/"));
}

}  // namespace
}  // namespace zhsm::fuse
