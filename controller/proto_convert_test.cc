// Unit tests of the wire <-> metadata conversions.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include "common/error.h"
#include "controller/proto_convert.h"

namespace zhsm {
namespace {

TEST(ProtoConvert, AttrRoundTrip) {
  InodeAttr a;
  a.ino = 42;
  a.fsid = Uuid::random();
  a.type = proto::FileType::SYMLINK;
  a.mode = 0755;
  a.nlink = 3;
  a.uid = 1000;
  a.gid = 100;
  a.size = 1 << 20;
  a.mtime_ns = -5;
  a.version = 7;
  capnp::MallocMessageBuilder m;
  auto b = m.initRoot<proto::Attr>();
  fill_attr(b, a);
  auto r = b.asReader();
  EXPECT_EQ(r.getIno(), 42u);
  EXPECT_EQ(*Uuid::from_data(r.getFsid()), a.fsid);
  EXPECT_EQ(r.getType(), proto::FileType::SYMLINK);
  EXPECT_EQ(r.getMode(), 0755u);
  EXPECT_EQ(r.getNlink(), 3u);
  EXPECT_EQ(r.getMtimeNs(), -5);
  EXPECT_EQ(r.getVersion(), 7u);
}

TEST(ProtoConvert, UuidArgumentsMustBe16Bytes) {
  capnp::byte three[3] = {1, 2, 3};
  try {
    uuid_arg(capnp::Data::Reader(three, 3), "serverId");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    EXPECT_NE(std::string(e.what()).find("serverId"), std::string::npos);
  }
}

TEST(ProtoConvert, SetattrFlags) {
  capnp::MallocMessageBuilder m;
  auto s = m.initRoot<proto::Setattr>();
  s.setIno(9);
  s.setSetMode(true);
  s.setMode(0600);
  s.setSetAtime(true);
  s.setAtimeNow(true);
  s.setSetMtime(true);
  s.setMtimeNs(123);
  s.setSize(77);  // ignored: setSize is false
  auto a = setattr_arg(s.asReader());
  EXPECT_EQ(a.ino, 9u);
  EXPECT_EQ(a.mode, 0600u);
  EXPECT_TRUE(a.atime_now);
  EXPECT_FALSE(a.atime_ns);
  EXPECT_EQ(a.mtime_ns, 123);
  EXPECT_FALSE(a.size);
  EXPECT_FALSE(a.uid);
}

TEST(ProtoConvert, RequestNames) {
  EXPECT_EQ(request_name(proto::Request::COMMIT_DATA), "commitData");
  EXPECT_EQ(request_name(proto::Request::FILE_INFO), "fileInfo");
}

}  // namespace
}  // namespace zhsm
