// Attribute conversion. st_blocks is derived from the size (the controller does
// not track allocation); st_blksize is large so tools copy in big pieces.
#include "client-fuse/attr.h"

#include <cstring>

namespace zhsm::fuse {

mode_t type_bits(proto::FileType type) {
  switch (type) {
    case proto::FileType::REGULAR: return S_IFREG;
    case proto::FileType::DIRECTORY: return S_IFDIR;
    case proto::FileType::SYMLINK: return S_IFLNK;
    case proto::FileType::FIFO: return S_IFIFO;
    case proto::FileType::SOCKET: return S_IFSOCK;
    case proto::FileType::CHAR_DEVICE: return S_IFCHR;
    case proto::FileType::BLOCK_DEVICE: return S_IFBLK;
  }
  return S_IFREG;
}

proto::FileType file_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return proto::FileType::DIRECTORY;
    case S_IFLNK: return proto::FileType::SYMLINK;
    case S_IFIFO: return proto::FileType::FIFO;
    case S_IFSOCK: return proto::FileType::SOCKET;
    case S_IFCHR: return proto::FileType::CHAR_DEVICE;
    case S_IFBLK: return proto::FileType::BLOCK_DEVICE;
    default: return proto::FileType::REGULAR;
  }
}

static timespec to_timespec(int64_t ns) {
  timespec ts{};
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

struct stat stat_from(proto::Attr::Reader attr) {
  struct stat st;
  std::memset(&st, 0, sizeof st);
  st.st_ino = attr.getIno();
  st.st_mode = type_bits(attr.getType()) | (attr.getMode() & 07777);
  st.st_nlink = attr.getNlink();
  st.st_uid = attr.getUid();
  st.st_gid = attr.getGid();
  st.st_size = static_cast<off_t>(attr.getSize());
  st.st_rdev = attr.getRdev();
  st.st_blksize = 1 << 20;
  st.st_blocks = static_cast<blkcnt_t>((attr.getSize() + 511) / 512);
  st.st_atim = to_timespec(attr.getAtimeNs());
  st.st_mtim = to_timespec(attr.getMtimeNs());
  st.st_ctim = to_timespec(attr.getCtimeNs());
  return st;
}

void fill_setattr(proto::Setattr::Builder s, uint64_t ino, const SetattrArgs& a) {
  s.setIno(ino);
  auto c = s.initCaller();
  c.setUid(a.caller_uid);
  c.setGid(a.caller_gid);
  if (a.set_mode) {
    s.setSetMode(true);
    s.setMode(a.mode & 07777);
  }
  if (a.set_uid) {
    s.setSetUid(true);
    s.setUid(a.uid);
  }
  if (a.set_gid) {
    s.setSetGid(true);
    s.setGid(a.gid);
  }
  if (a.set_atime) {
    s.setSetAtime(true);
    s.setAtimeNs(a.atime_ns);
    s.setAtimeNow(a.atime_now);
  }
  if (a.set_mtime) {
    s.setSetMtime(true);
    s.setMtimeNs(a.mtime_ns);
    s.setMtimeNow(a.mtime_now);
  }
}

void merge_setattr(SetattrArgs& into, const SetattrArgs& later) {
  into.caller_uid = later.caller_uid;
  into.caller_gid = later.caller_gid;
  if (later.set_mode) {
    into.set_mode = true;
    into.mode = later.mode;
  }
  if (later.set_uid) {
    into.set_uid = true;
    into.uid = later.uid;
  }
  if (later.set_gid) {
    into.set_gid = true;
    into.gid = later.gid;
  }
  if (later.set_size) {
    into.set_size = true;
    into.size = later.size;
  }
  if (later.set_atime) {
    into.set_atime = true;
    into.atime_now = later.atime_now;
    into.atime_ns = later.atime_ns;
  }
  if (later.set_mtime) {
    into.set_mtime = true;
    into.mtime_now = later.mtime_now;
    into.mtime_ns = later.mtime_ns;
  }
}

}  // namespace zhsm::fuse
