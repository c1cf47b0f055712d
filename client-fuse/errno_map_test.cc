// Errc -> errno: every code maps to a positive errno, the namespace outcomes to
// their POSIX values, transport failures to EIO.
#include <cerrno>

#include <gtest/gtest.h>

#include "client-fuse/errno_map.h"

namespace zhsm::fuse {
namespace {

TEST(ErrnoMap, NamespaceOutcomes) {
  EXPECT_EQ(errno_for(Errc::not_found), ENOENT);
  EXPECT_EQ(errno_for(Errc::exists), EEXIST);
  EXPECT_EQ(errno_for(Errc::not_empty), ENOTEMPTY);
  EXPECT_EQ(errno_for(Errc::not_dir), ENOTDIR);
  EXPECT_EQ(errno_for(Errc::is_dir), EISDIR);
  EXPECT_EQ(errno_for(Errc::name_too_long), ENAMETOOLONG);
  EXPECT_EQ(errno_for(Errc::invalid), EINVAL);
  EXPECT_EQ(errno_for(Errc::no_space), ENOSPC);
  EXPECT_EQ(errno_for(Errc::permission), EACCES);
  EXPECT_EQ(errno_for(Errc::not_permitted), EPERM);
  EXPECT_EQ(errno_for(Errc::no_data), ENODATA);
  EXPECT_EQ(errno_for(Errc::range), ERANGE);
  EXPECT_EQ(errno_for(Errc::too_many_links), EMLINK);
  EXPECT_EQ(errno_for(Errc::busy), EBUSY);
  EXPECT_EQ(errno_for(Errc::cross_device), EXDEV);
  EXPECT_EQ(errno_for(Errc::not_supported), EOPNOTSUPP);
  EXPECT_EQ(errno_for(Errc::loop), EINVAL);
  EXPECT_EQ(errno_for(Errc::stale), ESTALE);
}

TEST(ErrnoMap, FailuresAreEio) {
  for (Errc c : {Errc::ok, Errc::io, Errc::bad_token, Errc::token_expired, Errc::disconnected,
                 Errc::overloaded, Errc::timeout, Errc::unimplemented, Errc::internal})
    EXPECT_EQ(errno_for(c), EIO) << errc_name(c);
}

TEST(ErrnoMap, EveryCodeIsPositive) {
  for (int i = 0; i <= static_cast<int>(Errc::loop); ++i)
    EXPECT_GT(errno_for(static_cast<Errc>(i)), 0) << i;
}

}  // namespace
}  // namespace zhsm::fuse
