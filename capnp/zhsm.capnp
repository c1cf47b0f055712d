# zhsm wire protocol: every message that crosses a process boundary.
#
# One connection carries a stream of frames; each frame is one Envelope (see
# common/frame.h for the length prefix and the reader limits). A caller sends an
# Envelope holding a Request with a fresh requestId; the callee answers with an
# Envelope holding a Response with the same requestId. Answers may come out of
# order, so one connection carries many concurrent calls. A callee that does not
# know a request kind (version skew) answers `unimplemented`.
#
# Conversations (who sends which request):
#   client (zhsm-fuse)  -> controller : hello .. renewToken
#   file server         -> controller : registerServer, heartbeat
#   client              -> file server: readObject .. abortWrite
#   admin (zhsm-admin)  -> controller : clusterStatus, fileInfo, chain*, why, plan,
#                                       jobs, serverMaintenance, serverDrain
#   file server         -> file server: readObject (copy tasks, doc/protocol.md "Copies")
# Byte strings that are names or paths travel as Data: POSIX names are bytes.
# UUIDs travel as Data of exactly 16 bytes.

@0x8044d2233a60f02e;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("zhsm::proto");

# ---------------------------------------------------------------- envelope

struct Envelope {
  requestId @0 :UInt64;   # chosen by the caller, unique per connection, echoed in the answer
  deadlineMs @1 :UInt64;  # unix ms after which the caller stops waiting; 0 = none
  union {
    request @2 :Request;
    response @3 :Response;
  }
}

# Failure taxonomy. The first group are expected outcomes of namespace calls
# (the client maps them to errno); the second says whether a retry can help.
enum ErrorCode {
  ok @0;
  notFound @1;        # ENOENT
  exists @2;          # EEXIST
  notEmpty @3;        # ENOTEMPTY
  notDir @4;          # ENOTDIR
  isDir @5;           # EISDIR
  nameTooLong @6;     # ENAMETOOLONG
  invalid @7;         # EINVAL: malformed or out-of-range argument
  noSpace @8;         # ENOSPC: no backend can take the data
  permission @9;      # EACCES
  notPermitted @10;   # EPERM
  noAttr @11;         # ENODATA: xattr absent
  range @12;          # ERANGE
  tooManyLinks @13;   # EMLINK
  busy @14;           # EBUSY
  stale @15;          # ESTALE: the object changed or vanished under the caller
  io @16;             # EIO: data could not be read or written
  badToken @17;       # token MAC, mode or object does not match: never retry
  tokenExpired @18;   # renew the token, then retry
  disconnected @19;   # peer went away: retry on a new connection can help
  overloaded @20;     # peer refuses for now: retry later can help
  timeout @21;        # deadline passed: retry can help
  unimplemented @22;  # peer does not know this request (version skew)
  internal @23;       # a bug on the answering side; logged there
  notSupported @24;   # EOPNOTSUPP
  crossDevice @25;    # EXDEV
  loop @26;           # ELOOP / EINVAL for a move into its own subtree
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;   # human-readable, with context; for logs, never parsed
}

# ---------------------------------------------------------------- shared types

enum FileType {
  regular @0;
  directory @1;
  symlink @2;
  fifo @3;
  socket @4;
  charDevice @5;
  blockDevice @6;
}

# The attributes of one inode, as the controller holds them.
struct Attr {
  ino @0 :UInt64;       # stable inode number, never reused; 1 is the root
  fsid @1 :Data;        # the inode's UUID (16 bytes)
  type @2 :FileType;
  mode @3 :UInt32;      # permission bits only (07777); the type is in `type`
  nlink @4 :UInt32;
  uid @5 :UInt32;
  gid @6 :UInt32;
  size @7 :UInt64;      # bytes; for symlinks the target length
  rdev @8 :UInt64;      # device number for charDevice / blockDevice
  atimeNs @9 :Int64;    # nanoseconds since the unix epoch
  mtimeNs @10 :Int64;
  ctimeNs @11 :Int64;
  version @12 :UInt64;  # bumped by every change of the inode's content or attributes
}

# Where one copy of a data object lives.
struct CopyRef {
  backend @0 :Data;     # backend UUID
  backendName @1 :Text;
  server @2 :Data;      # server UUID
  serverName @3 :Text;
  address @4 :Text;     # "host:port" of the file server serving this backend
  state @5 :CopyState;
  version @6 :UInt64;   # version this copy holds
}

enum CopyState {
  current @0;   # holds the newest version
  outdated @1;  # holds an older version
  target @2;    # the chains want a copy here; not there yet
}

# One data object (chunk) of a file: bytes [index*chunkSize, index*chunkSize+size).
struct ChunkRef {
  index @0 :UInt64;
  uuid @1 :Data;        # the data object's UUID
  version @2 :UInt64;
  size @3 :UInt64;      # valid bytes in this chunk; reads past it return zeros
  sha256 @4 :Data;      # of the chunk's `size` bytes (32 bytes)
  copies @5 :List(CopyRef);
}

enum AccessMode {
  read @0;
  write @1;
  readWrite @2;
  append @3;
}

# An access grant from open to close. The controller signs it with the cluster
# key; file servers check it without asking the controller (common/token.h
# defines the exact bytes the MAC covers).
struct Token {
  tokenId @0 :UInt64;   # controller-unique; names the open in `release`/`renewToken`
  fsid @1 :Data;        # the file (inode UUID) this token grants access to
  ino @2 :UInt64;
  mode @3 :AccessMode;
  expiresMs @4 :UInt64; # unix ms
  clientId @5 :UInt64;  # the client session the token was issued to
  mac @6 :Data;         # HMAC-SHA256 over the fields above, 32 bytes
}

# A backend as a file server reports it.
struct BackendInfo {
  id @0 :Data;          # backend UUID, kept in the backend directory's .zhsm-backend file
  name @1 :Text;        # operator-chosen, unique in the cluster
  tier @2 :Text;        # e.g. "ssd", "hdd", "archive"
  path @3 :Text;        # directory on the file server (informational)
  totalBytes @4 :UInt64;
  freeBytes @5 :UInt64;
  usedBytes @6 :UInt64;   # bytes held by zhsm objects
  objectCount @7 :UInt64;
  deviceId @8 :UInt64;    # st_dev of the backend's filesystem on its server: backends of
                          # one server on one device share their space (statfs counts it once)
}

# ---------------------------------------------------------------- requests

struct Request {
  union {
    # ---- client -> controller (namespace and open/close)
    hello @0 :Hello;
    lookup @1 :Lookup;
    getattr @2 :Getattr;
    setattr @3 :Setattr;
    mknod @4 :Mknod;
    mkdir @5 :Mkdir;
    symlink @6 :Symlink;
    link @7 :Link;
    unlink @8 :Unlink;
    rmdir @9 :Unlink;
    rename @10 :Rename;
    readlink @11 :Getattr;
    readdir @12 :Readdir;
    create @13 :Create;
    open @14 :Open;
    release @15 :Release;
    commitData @16 :CommitData;
    setxattr @17 :Setxattr;
    getxattr @18 :Getxattr;
    listxattr @19 :Getattr;
    removexattr @20 :Getxattr;
    statfs @21 :Void;
    renewToken @22 :Release;

    # ---- file server -> controller
    registerServer @23 :RegisterServer;
    heartbeat @24 :Heartbeat;

    # ---- client -> file server
    readObject @25 :ReadObject;
    beginWrite @26 :BeginWrite;
    writeObject @27 :WriteObject;
    truncateObject @28 :TruncateObject;
    commitWrite @29 :CommitWrite;
    abortWrite @30 :AbortWrite;

    # ---- admin -> controller
    clusterStatus @31 :Void;
    fileInfo @32 :FileInfo;

    # ---- client -> controller (locks and appends; see doc/protocol.md, "Locks")
    setLock @33 :Lock;      # take, change or drop a flock or POSIX lock; never waits
    getLock @34 :Lock;      # F_GETLK: the first lock held by another owner that conflicts
    dataMap @35 :DataMap;   # the current data of a file already open (appends)
    sync @36 :Void;         # fsync, fsyncdir: every change answered before is durable
                            # when `done` comes back (doc/durability.md)

    # ---- admin -> controller: file resolve chains and the copies they want
    chainList @37 :Void;                 # -> chains (every chain)
    chainShow @38 :Text;                 # -> chains (the one named)
    chainCreate @39 :ChainCreate;        # -> done
    chainDelete @40 :Text;               # -> done; busy while a rule jumps to it or a directory names it
    chainAddRule @41 :ChainRuleEdit;     # -> chains (the chain after the change)
    chainRemoveRule @42 :ChainRuleEdit;  # -> chains (the chain after the change)
    chainSetDir @43 :ChainSetDir;        # -> done
    why @44 :FileInfo;                   # -> why
    plan @45 :PlanRequest;               # -> plan
    jobs @46 :Void;                      # -> jobs
    serverMaintenance @47 :ServerMode;   # -> done
    serverDrain @48 :Text;               # -> done (server name)
    chainSet @49 :ChainCreate;           # -> chains (copies, stripe, ack; 0 = unchanged)

    # ---- client -> controller: directory leases (doc/protocol.md, "Directory leases")
    leases @50 :Leases;                  # -> leases; held until there is a recall or for
                                         #    a third of the lease time
  }
}

# A mount's lease poll: renews the leases it keeps and gives back those it released (the
# answer to a recall, or dropped on its own). A lease it names in neither is not renewed and
# ends at its time.
struct Leases {
  keep @0 :List(UInt64);      # directories whose leases to renew
  release @1 :List(UInt64);   # directories whose leases this mount no longer holds
}

struct LeasesReply {
  drop @0 :List(UInt64);      # recalled, or no longer this mount's: forget them now and
                              # name them in the next poll's `release`
  leaseMs @1 :UInt32;         # how long a renewed lease lasts, from when the poll was sent
}

struct ChainCreate {
  name @0 :Text;
  copies @1 :UInt32;    # copies wanted: evaluation stops once this many `use` rules placed one
  stripe @2 :UInt32;    # spread a file's data objects over up to this many backends; 0 = 1
  ack @3 :UInt32;       # a close is answered once this many copies are current; 0 = 1
}

# plan: what the replicator would do. With `chains`, as if those chains (by name; a new
# name adds a chain) were defined so instead of as stored: a preview before a change.
struct PlanRequest {
  chains @0 :List(ChainDef);
}

struct ChainRuleEdit {
  chain @0 :Text;
  rule @1 :Text;        # chainAddRule: one rule in its written form ("size > 1G use tier:hdd")
  at @2 :UInt32;        # 1-based position; chainAddRule: 0 = append; chainRemoveRule: required
}

struct ChainSetDir {
  path @0 :Data;        # absolute path of a directory inside the zhsm namespace
  chain @1 :Text;       # the chain for everything below it; empty = inherit again
}

struct ServerMode {
  name @0 :Text;        # server name
  on @1 :Bool;          # maintenance on (planned absence: no repair) or off
}

struct Hello {
  clientName @0 :Text;  # host name and mount point, for logs and token listings
  resumeClientId @1 :UInt64;  # the id an earlier hello gave this same process (it reconnects);
                              # the controller keeps it when it still knows the id, so the
                              # process's tokens and locks stay its own. 0: a new client
}

struct Lookup {
  parent @0 :UInt64;
  name @1 :Data;
}

struct Getattr {
  ino @0 :UInt64;
}

# Caller identity for calls that create or change ownership: the FUSE request's
# uid/gid. The kernel has already checked permissions (default_permissions).
struct Caller {
  uid @0 :UInt32;
  gid @1 :UInt32;
}

struct Setattr {
  ino @0 :UInt64;
  caller @1 :Caller;
  setMode @2 :Bool;
  mode @3 :UInt32;
  setUid @4 :Bool;
  uid @5 :UInt32;
  setGid @6 :Bool;
  gid @7 :UInt32;
  setSize @8 :Bool;
  size @9 :UInt64;      # truncate: chunks past it are dropped, the last one clipped
  setAtime @10 :Bool;
  atimeNs @11 :Int64;
  atimeNow @12 :Bool;   # use the controller's clock
  setMtime @13 :Bool;
  mtimeNs @14 :Int64;
  mtimeNow @15 :Bool;
  tokenId @16 :UInt64;  # open the truncate came through, 0 if none (path truncate)
}

struct Mknod {
  parent @0 :UInt64;
  name @1 :Data;
  type @2 :FileType;    # regular, fifo, socket, charDevice or blockDevice
  mode @3 :UInt32;      # permission bits, umask already applied by the kernel
  rdev @4 :UInt64;
  caller @5 :Caller;
}

struct Mkdir {
  parent @0 :UInt64;
  name @1 :Data;
  mode @2 :UInt32;
  caller @3 :Caller;
}

struct Symlink {
  parent @0 :UInt64;
  name @1 :Data;
  target @2 :Data;
  caller @3 :Caller;
}

struct Link {
  ino @0 :UInt64;
  newParent @1 :UInt64;
  newName @2 :Data;
}

struct Unlink {
  parent @0 :UInt64;
  name @1 :Data;
}

struct Rename {
  parent @0 :UInt64;
  name @1 :Data;
  newParent @2 :UInt64;
  newName @3 :Data;
  noReplace @4 :Bool;   # RENAME_NOREPLACE
  exchange @5 :Bool;    # RENAME_EXCHANGE
}

struct Readdir {
  ino @0 :UInt64;
  after @1 :UInt64;     # cookie of the last entry already returned; 0 = from the start
  maxEntries @2 :UInt32;# at most this many entries in the answer (controller caps it)
  plus @3 :Bool;        # full attributes for each entry (readdirplus)
}

struct Create {
  parent @0 :UInt64;
  name @1 :Data;
  mode @2 :UInt32;
  caller @3 :Caller;
  exclusive @4 :Bool;   # O_EXCL: an existing name is `exists`
  truncate @5 :Bool;    # O_TRUNC on an existing file
  access @6 :AccessMode;# the access the open asks for
}

struct Open {
  ino @0 :UInt64;
  mode @1 :AccessMode;
  truncate @2 :Bool;    # O_TRUNC
  # A read-only open whose caller keeps an inline file's bytes itself: when the file
  # is inline the answer carries no token (tokenId 0, nothing recorded, no release
  # due). A file with chunks gets a token as always.
  inlineWithoutToken @3 :Bool;
}

struct Release {
  tokenId @0 :UInt64;           # 0: none (only `more`)
  # Further tokens released in the same call: a mount gathers the releases of files
  # closed within a few milliseconds into one call. At most 1024; unknown ones (already
  # released or expired) are skipped, as a single unknown tokenId is.
  more @1 :List(UInt64);
}

# The result of a write session: which chunks changed, the new size and times.
# Committed in one transaction; chunk versions only move forward (a commit
# carrying an older version than the database holds for that chunk is ignored
# for that chunk).
struct CommitData {
  ino @0 :UInt64;
  tokenId @1 :UInt64;
  size @2 :UInt64;            # file size after the session
  mtimeNs @3 :Int64;
  chunks @4 :List(ChunkUpdate);
  setInline @5 :Bool;         # replace the data by inlineData (small file)
  inlineData @6 :Data;
  dropInline @7 :Bool;        # the file became chunked: forget the inline data
  # A setattr of the same inode (no size) applied with the commit, in its transaction
  # (its mtime becomes the commit's): an explicit utimensat or chmod on a file with
  # unwritten data costs no round trip of its own. The answer's attributes are then those
  # after both. Absent: none.
  thenSetattr @8 :Setattr;
}

struct ChunkUpdate {
  index @0 :UInt64;
  uuid @1 :Data;
  version @2 :UInt64;
  size @3 :UInt64;
  sha256 @4 :Data;
  backend @5 :Data;           # the backend that now holds the current copy
}

struct Setxattr {
  ino @0 :UInt64;
  name @1 :Data;
  value @2 :Data;
  create @3 :Bool;      # XATTR_CREATE: fail with `exists` if present
  replace @4 :Bool;     # XATTR_REPLACE: fail with `noAttr` if absent
}

struct Getxattr {
  ino @0 :UInt64;
  name @1 :Data;
}

struct RegisterServer {
  serverId @0 :Data;    # the server's UUID, kept in its state directory
  name @1 :Text;
  address @2 :Text;     # "host:port" clients use for data
  backends @3 :List(BackendInfo);
}

struct Heartbeat {
  serverId @0 :Data;
  backends @1 :List(BackendInfo);
  deleted @2 :List(ObjectAddress);  # deletions done since the last heartbeat
  copied @3 :List(CopyResult);      # copy tasks finished since the last heartbeat
  copying @4 :UInt32;               # copy tasks running or queued on the server now
  corrupt @5 :List(ObjectAddress);  # objects whose data did not match their checksum on read
  progress @6 :List(CopyProgress);  # copy tasks running now
  load @7 :UInt32;                  # data requests (reads, writes) in progress now
}

struct CopyProgress {
  backend @0 :Data;
  uuid @1 :Data;
  bytesDone @2 :UInt64;     # of the task's size
  runningMs @3 :UInt64;     # since the copy began
}

# A copy task: fetch a committed data object from another file server and install
# it on one of this server's backends, byte-exact, with the same head.
struct CopyTask {
  backend @0 :Data;         # destination backend (on the server that gets the task)
  uuid @1 :Data;
  index @2 :UInt64;         # chunk index, for the head
  version @3 :UInt64;       # the version to copy; the source must hold exactly it
  size @4 :UInt64;
  sha256 @5 :Data;          # expected SHA-256 of the data; empty = unknown (accept and report)
  mtimeNs @6 :Int64;        # for the head
  token @7 :Token;          # read token for the owning file (its fsid is the head's owner)
  sources @8 :List(CopyRef);# current copies to read from, preferred first
}

struct CopyResult {
  backend @0 :Data;
  uuid @1 :Data;
  version @2 :UInt64;
  ok @3 :Bool;
  sha256 @4 :Data;          # of the installed data (ok)
  error @5 :Error;          # why not (not ok)
}

struct ObjectAddress {
  backend @0 :Data;
  uuid @1 :Data;
}

struct ReadObject {
  token @0 :Token;
  backend @1 :Data;
  uuid @2 :Data;
  offset @3 :UInt64;
  length @4 :UInt32;    # at most 4 MiB
  sessionId @5 :UInt64; # read through this connection's open write session; 0 = committed object
  expectVersion @6 :UInt64; # committed objects: `stale` unless the object holds this version; 0 = any
}

struct BeginWrite {
  token @0 :Token;
  backend @1 :Data;
  uuid @2 :Data;
  index @3 :UInt64;     # chunk index within the file, recorded in the object head
  keepLength @4 :UInt64;# bytes of the current object to start from; the rest is cut
}

struct WriteObject {
  sessionId @0 :UInt64;
  offset @1 :UInt64;
  data @2 :Data;        # at most 4 MiB
  crc32 @3 :UInt32;     # CRC-32 of data as zlib and gzip compute it (common/crc32.h); a mismatch is `invalid` and writes nothing
}

struct TruncateObject {
  sessionId @0 :UInt64;
  length @1 :UInt64;
}

struct CommitWrite {
  sessionId @0 :UInt64;
  mtimeNs @1 :Int64;
}

struct AbortWrite {
  sessionId @0 :UInt64;
}

struct FileInfo {
  path @0 :Data;        # absolute path inside the zhsm namespace, "/" is the root
}

# Locks are held by the controller for the whole cluster, in memory: they
# vanish with the controller, and are dropped when the holder's token is
# released (close), expires, or its client goes away.
enum LockKind {
  posix @0;   # fcntl byte-range lock; owner = the kernel's lock owner (per process)
  flock @1;   # whole-file flock; owner = the open file description
  append @2;  # whole-file, exclusive, taken by a client around one O_APPEND write
}

enum LockType {
  read @0;    # shared
  write @1;   # exclusive
  unlock @2;  # setLock: drop this range; in a reply: no conflicting lock
}

struct Lock {
  ino @0 :UInt64;
  tokenId @1 :UInt64;   # the open the lock is taken through (must be the caller's)
  owner @2 :UInt64;     # lock owner, unique within the calling client
  kind @3 :LockKind;
  type @4 :LockType;
  start @5 :UInt64;     # first byte
  end @6 :UInt64;       # last byte, inclusive; 0xffffffffffffffff = to end of file
  pid @7 :UInt32;       # process of the holder, reported by getLock
}

struct DataMap {
  ino @0 :UInt64;
  tokenId @1 :UInt64;   # an open token of the caller for this inode
}

# ---------------------------------------------------------------- responses

struct Response {
  union {
    error @0 :Error;
    unimplemented @1 :Void;
    done @2 :Void;                  # success without a payload
    hello @3 :HelloReply;
    attr @4 :Attr;                  # lookup, getattr, setattr, mknod, mkdir, symlink, link, commitData
    readlink @5 :Data;
    readdir @6 :ReaddirReply;
    open @7 :OpenReply;             # create, open
    xattr @8 :Data;                 # getxattr
    xattrNames @9 :List(Data);      # listxattr
    statfs @10 :StatfsReply;
    renewToken @11 :Token;
    heartbeat @12 :HeartbeatReply;  # registerServer, heartbeat
    readObject @13 :Data;           # may be shorter than asked: end of object
    beginWrite @14 :BeginWriteReply;
    commitWrite @15 :CommitWriteReply;
    clusterStatus @16 :ClusterStatus;
    fileInfo @17 :FileInfoReply;
    lock @18 :LockReply;            # setLock, getLock
    dataMap @19 :OpenReply;         # dataMap: `token` is the caller's own token, unchanged
    chains @20 :List(ChainDef);     # chainList, chainShow, chainAddRule, chainRemoveRule
    why @21 :WhyReply;
    plan @22 :PlanReply;
    jobs @23 :JobsReply;
    leases @25 :LeasesReply;        # leases
  }
  # The directories whose entries the call changed, with their attributes as the change
  # left them (mknod, mkdir, symlink, link, unlink, rmdir, rename, create). A mount answers
  # the kernel's next getattr of such a directory from them (client-fuse/fresh_dirs.h).
  touched @24 :List(Attr);
  # mkdir: the new directory is leased to the caller for this long from when it sent the
  # mkdir (0: no lease). While the lease lasts, no other mount adds a name to it without a
  # recall first, so the caller knows every name in it (doc/protocol.md).
  leaseMs @26 :UInt32;
}

struct ChainDef {
  name @0 :Text;
  copies @1 :UInt32;
  rules @2 :List(Text);   # in order, each in its canonical written form
  dirs @3 :List(Data);    # directories that name this chain (paths)
  stripe @4 :UInt32;      # a file's data objects are spread over up to this many backends
  ack @5 :UInt32;         # a close is answered once this many copies are current (>= 1)
}

struct WhyStep {
  chain @0 :Text;
  position @1 :UInt32;    # 1-based within `chain`
  rule @2 :Text;
  matched @3 :Bool;       # the condition held for this file
  outcome @4 :Text;       # what the rule did: "copy on fs2-b1", "skipped fs1-b1", "no live backend with space", ...
}

struct WhyReply {
  path @0 :Data;
  chain @1 :Text;         # where evaluation started
  chainFrom @2 :Data;     # the directory that named it; empty = the `default` chain
  copies @3 :UInt32;      # copies wanted
  steps @4 :List(WhyStep);
  wanted @5 :List(CopyRef);   # the backends the rules resolve to (state = target)
  problems @6 :List(Text);    # rules that could not be met; no copy is dropped because of them
  attr @7 :Attr;
  inline @8 :Bool;            # inline data lives in the database: no copies
  chunks @9 :List(ChunkRef);  # where the copies are now
}

struct PlanMove {
  fromBackend @0 :Text;   # empty = a new copy (from any current copy)
  toBackend @1 :Text;     # empty = a copy dropped
  objects @2 :UInt64;
  bytes @3 :UInt64;
  wakes @4 :List(Text);   # servers that are off or in maintenance and this move needs
}

struct PlanReply {
  moves @0 :List(PlanMove);
  objects @1 :UInt64;     # data objects examined
  problems @2 :List(Text);
}

struct JobInfo {
  kind @0 :Text;          # "copy" or "drop"
  uuid @1 :Data;          # the data object
  fromBackend @2 :Text;
  toBackend @3 :Text;
  bytes @4 :UInt64;
  state @5 :Text;         # "queued" (controller), "sent" (waiting at the server), "running"
  ageMs @6 :UInt64;       # since the job was queued
  bytesDone @7 :UInt64;   # running: copied so far (the file server's last report)
  bytesPerSecond @8 :UInt64;  # running: its rate so far
  etaMs @9 :UInt64;       # running: time left at that rate; 0 = unknown
  reason @10 :Text;       # why: "repair" (fewer current copies than wanted), "update", "move", "close" (a close waits)
  current @11 :UInt32;    # current copies of the object when the job was queued
  wanted @12 :UInt32;     # copies the chains want
}

struct JobsReply {
  jobs @0 :List(JobInfo);     # at most 1000, the oldest first
  queued @1 :UInt64;
  running @2 :UInt64;
  bytesDone @3 :UInt64;       # copied since the controller started
  bytesPerSecond @4 :UInt64;  # over the last minute
  bandwidthLimit @5 :UInt64;  # bytes per second per file server; 0 = none
}

struct HelloReply {
  clientId @0 :UInt64;    # the id in force on this connection (the resumed one, or a new one)
  chunkSize @1 :UInt64;   # bytes per data object
  inlineMax @2 :UInt64;   # files up to this size keep their data in the head
  tokenLifetimeMs @3 :UInt64;
}

struct DirEntry {
  name @0 :Data;
  cookie @1 :UInt64;      # pass as `after` to continue after this entry; >= 3
  attr @2 :Attr;          # ino and type always; the rest only with `plus`
}

struct ReaddirReply {
  entries @0 :List(DirEntry);
  eof @1 :Bool;
  parentIno @2 :UInt64;   # for ".."
}

struct OpenReply {
  attr @0 :Attr;
  token @1 :Token;
  inline @2 :Bool;          # data is inlineData (file size <= inlineMax)
  inlineData @3 :Data;
  chunks @4 :List(ChunkRef);
  writeTarget @5 :CopyRef;  # where new chunks of this file go (for write modes)
  writeTargets @6 :List(CopyRef);  # striped files: new chunk i goes to writeTargets[i mod n];
                                   # empty = every new chunk goes to writeTarget
}

struct LockReply {
  granted @0 :Bool;     # setLock: the lock is held (or dropped) now
  conflict @1 :Lock;    # not granted, or getLock: the conflicting lock; type `unlock` if none
}

struct StatfsReply {
  totalBytes @0 :UInt64;
  freeBytes @1 :UInt64;
  files @2 :UInt64;
  blockSize @3 :UInt32;
}

struct HeartbeatReply {
  deleteObjects @0 :List(ObjectAddress);  # drop these objects; report them in `deleted`
  intervalMs @1 :UInt32;                  # heartbeat period the controller wants
  copyObjects @2 :List(CopyTask);         # copy these objects here; report them in `copied`
  bandwidthLimit @3 :UInt64;              # bytes per second for copy tasks; 0 = none
}

struct BeginWriteReply {
  sessionId @0 :UInt64;     # valid on this connection only; aborted when it closes
  baseVersion @1 :UInt64;   # version of the object the session started from (0 = new)
}

struct CommitWriteReply {
  version @0 :UInt64;       # baseVersion + 1
  size @1 :UInt64;
  sha256 @2 :Data;
}

struct ServerStatus {
  id @0 :Data;
  name @1 :Text;
  address @2 :Text;
  state @3 :Text;               # "on" (heartbeating), "failed" (missed heartbeats), "maintenance"
  maintenance @6 :Bool;         # planned absence: its copies are not repaired elsewhere
  draining @7 :Bool;            # everything is being moved off it
  lastHeartbeatAgeMs @4 :UInt64;
  backends @5 :List(BackendInfo);
  load @8 :UInt32;              # data requests in progress at its last heartbeat
}

struct ClusterStatus {
  servers @0 :List(ServerStatus);
  files @1 :UInt64;
  directories @2 :UInt64;
  dataObjects @3 :UInt64;
  dataBytes @4 :UInt64;
  clients @5 :UInt64;           # client sessions seen recently
  openTokens @6 :UInt64;
  problems @7 :List(Text);      # placement problems of the replicator's last pass (at most 100)
  problemCount @8 :UInt64;      # all of them
  jobsQueued @9 :UInt64;
  jobsRunning @10 :UInt64;
}

struct FileInfoReply {
  attr @0 :Attr;
  inline @1 :Bool;
  chunkSize @2 :UInt64;
  chunks @3 :List(ChunkRef);
}

# ---------------------------------------------------------------- on disk

# The head stored at the start of every object file on a backend, so that the
# database can be checked against (and in the end rebuilt from) the backends.
struct ObjectHead {
  uuid @0 :Data;        # the object's UUID (also its path)
  owner @1 :Data;       # FSID of the file the data object belongs to
  index @2 :UInt64;     # chunk index within that file
  version @3 :UInt64;
  mtimeNs @4 :Int64;
  size @5 :UInt64;      # data bytes following the head block
  sha256 @6 :Data;      # of those bytes
}
