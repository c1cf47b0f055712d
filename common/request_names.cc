#include "common/request_names.h"

namespace zhsm {

std::string_view request_name(proto::Request::Which which) {
  using W = proto::Request::Which;
  switch (which) {
    case W::HELLO: return "hello";
    case W::LOOKUP: return "lookup";
    case W::GETATTR: return "getattr";
    case W::SETATTR: return "setattr";
    case W::MKNOD: return "mknod";
    case W::MKDIR: return "mkdir";
    case W::SYMLINK: return "symlink";
    case W::LINK: return "link";
    case W::UNLINK: return "unlink";
    case W::RMDIR: return "rmdir";
    case W::RENAME: return "rename";
    case W::READLINK: return "readlink";
    case W::READDIR: return "readdir";
    case W::CREATE: return "create";
    case W::OPEN: return "open";
    case W::RELEASE: return "release";
    case W::COMMIT_DATA: return "commitData";
    case W::SETXATTR: return "setxattr";
    case W::GETXATTR: return "getxattr";
    case W::LISTXATTR: return "listxattr";
    case W::REMOVEXATTR: return "removexattr";
    case W::STATFS: return "statfs";
    case W::SYNC: return "sync";
    case W::RENEW_TOKEN: return "renewToken";
    case W::REGISTER_SERVER: return "registerServer";
    case W::HEARTBEAT: return "heartbeat";
    case W::READ_OBJECT: return "readObject";
    case W::BEGIN_WRITE: return "beginWrite";
    case W::WRITE_OBJECT: return "writeObject";
    case W::TRUNCATE_OBJECT: return "truncateObject";
    case W::COMMIT_WRITE: return "commitWrite";
    case W::ABORT_WRITE: return "abortWrite";
    case W::CLUSTER_STATUS: return "clusterStatus";
    case W::FILE_INFO: return "fileInfo";
    case W::SET_LOCK: return "setLock";
    case W::GET_LOCK: return "getLock";
    case W::DATA_MAP: return "dataMap";
    case W::CHAIN_LIST: return "chainList";
    case W::CHAIN_SHOW: return "chainShow";
    case W::CHAIN_CREATE: return "chainCreate";
    case W::CHAIN_DELETE: return "chainDelete";
    case W::CHAIN_ADD_RULE: return "chainAddRule";
    case W::CHAIN_REMOVE_RULE: return "chainRemoveRule";
    case W::CHAIN_SET_DIR: return "chainSetDir";
    case W::WHY: return "why";
    case W::PLAN: return "plan";
    case W::JOBS: return "jobs";
    case W::SERVER_MAINTENANCE: return "serverMaintenance";
    case W::SERVER_DRAIN: return "serverDrain";
    case W::CHAIN_SET: return "chainSet";
    case W::LEASES: return "leases";
  }
  return "unknown";
}

}  // namespace zhsm
