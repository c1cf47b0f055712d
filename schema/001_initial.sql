-- zhsm schema, migration 1: the namespace (inodes, directory entries, xattrs), the data
-- layout of files (chunks and where their copies live), file servers and their backends,
-- open-file tokens, client sessions, the object deletion queue and the cluster settings.
-- The controller applies this file in one transaction and then records version 1 in
-- schema_version; doc/schema.md explains the choices. Times ending in _ns are nanoseconds,
-- times ending in _ms milliseconds, both since the unix epoch.

-- Which migrations have been applied. The controller refuses a database whose highest
-- version is newer than the migrations it was built with.
CREATE TABLE schema_version (
  version     integer PRIMARY KEY,                -- migration number (the NNN of schema/NNN_*.sql)
  name        text NOT NULL,                      -- migration file name, for operators
  applied_at  timestamptz NOT NULL DEFAULT now()  -- when the controller applied it
);

-- Cluster-wide settings: exactly one row (id = 1), written by the first controller start.
CREATE TABLE settings (
  id          smallint PRIMARY KEY CHECK (id = 1), -- always 1: a single-row table
  cluster_id  uuid NOT NULL,                       -- identity of this zhsm cluster
  chunk_size  bigint NOT NULL CHECK (chunk_size > 0), -- bytes per data object; fixed once set
  inline_max  bigint NOT NULL CHECK (inline_max >= 0) -- files up to this size keep data inline; may only grow
);

-- Client sessions (one per zhsm-fuse connection that said hello).
CREATE TABLE clients (
  id          bigserial PRIMARY KEY,  -- client id carried in tokens
  name        text NOT NULL,          -- host name and mount point the client reported
  last_seen   bigint NOT NULL         -- unix ms of the last request the controller saw
);
CREATE INDEX clients_last_seen ON clients (last_seen);

-- File servers.
CREATE TABLE servers (
  id              uuid PRIMARY KEY,     -- the server's UUID, kept in its state directory
  name            text NOT NULL UNIQUE, -- operator-chosen name, unique in the cluster
  address         text NOT NULL,        -- "host:port" clients use for data
  last_heartbeat  bigint NOT NULL       -- unix ms of the last register or heartbeat
);

-- Backends: the object directories a file server serves.
CREATE TABLE backends (
  id            uuid PRIMARY KEY,                 -- backend UUID from its .zhsm-backend file
  server_id     uuid NOT NULL REFERENCES servers (id), -- the server that serves it now
  name          text NOT NULL UNIQUE,             -- operator-chosen name, unique in the cluster
  tier          text NOT NULL,                    -- tier label, e.g. "ssd", "hdd", "archive"
  path          text NOT NULL,                    -- directory on the file server (informational)
  total_bytes   bigint NOT NULL DEFAULT 0,        -- file system size as last reported
  free_bytes    bigint NOT NULL DEFAULT 0,        -- free bytes as last reported
  used_bytes    bigint NOT NULL DEFAULT 0,        -- bytes held by zhsm objects as last reported
  object_count  bigint NOT NULL DEFAULT 0,        -- objects stored as last reported
  updated_at    bigint NOT NULL                   -- unix ms of the last report
);
CREATE INDEX backends_server ON backends (server_id);

-- Inodes: one row per file, directory, symlink or special file. Numbers are never reused.
CREATE TABLE inodes (
  ino          bigserial PRIMARY KEY,   -- inode number; 1 is the root
  fsid         uuid NOT NULL UNIQUE,    -- the inode's UUID (owner of its data objects)
  type         smallint NOT NULL,       -- proto FileType: 0 regular, 1 directory, 2 symlink, 3 fifo, 4 socket, 5 char, 6 block
  mode         integer NOT NULL,        -- permission bits (07777), without the type
  uid          bigint NOT NULL,         -- owner
  gid          bigint NOT NULL,         -- group
  nlink        integer NOT NULL,        -- hard links; directories: 2 + subdirectories; 0 = orphan kept for open tokens
  size         bigint NOT NULL DEFAULT 0, -- bytes; for symlinks the target length
  rdev         bigint NOT NULL DEFAULT 0, -- device number of char and block devices
  atime_ns     bigint NOT NULL,         -- last access
  mtime_ns     bigint NOT NULL,         -- last content change
  ctime_ns     bigint NOT NULL,         -- last inode change
  version      bigint NOT NULL DEFAULT 1, -- bumped by every change of content or attributes
  parent       bigint NOT NULL,         -- directories: the parent directory (for ".."); others: the directory the inode was created in
  inline_data  bytea,                   -- inline files: the data (zero-padded to size when shorter); NULL = zeros or chunked
  symlink      bytea                    -- symlinks: the target
);
-- Orphans (unlinked while open) are found through this small partial index.
CREATE INDEX inodes_orphans ON inodes (ino) WHERE nlink = 0;

-- Directory entries. The cookie is the readdir offset: stable while other entries come and go.
CREATE TABLE dentries (
  parent  bigint NOT NULL REFERENCES inodes (ino), -- directory holding the entry
  name    bytea NOT NULL,                          -- the entry's name (POSIX names are bytes)
  ino     bigint NOT NULL REFERENCES inodes (ino), -- the inode the entry names
  cookie  bigserial NOT NULL,                      -- readdir position; >= 3 (0..2 are ".", ".." and "start")
  PRIMARY KEY (parent, name)
);
ALTER SEQUENCE dentries_cookie_seq MINVALUE 3 START WITH 3 RESTART WITH 3;
CREATE UNIQUE INDEX dentries_parent_cookie ON dentries (parent, cookie);
CREATE INDEX dentries_ino ON dentries (ino);

-- Extended attributes.
CREATE TABLE xattrs (
  ino    bigint NOT NULL REFERENCES inodes (ino), -- the inode
  name   bytea NOT NULL,                          -- attribute name including its namespace ("user.x")
  value  bytea NOT NULL,                          -- attribute value, at most 64 KiB
  PRIMARY KEY (ino, name)
);

-- Data objects of chunked files: bytes [idx*chunk_size, idx*chunk_size + size) of the file.
CREATE TABLE chunks (
  ino      bigint NOT NULL REFERENCES inodes (ino), -- the file
  idx      bigint NOT NULL,                         -- chunk index within the file
  uuid     uuid NOT NULL UNIQUE,                    -- the data object's UUID (its path on a backend)
  version  bigint NOT NULL,                         -- newest committed version; only moves forward
  size     bigint NOT NULL,                         -- valid bytes; reads past them return zeros
  sha256   bytea NOT NULL,                          -- SHA-256 of the `size` bytes; empty = unknown (after a clip)
  PRIMARY KEY (ino, idx)
);

-- Where copies of data objects live. A copy row disappears when its object is queued for deletion.
CREATE TABLE chunk_copies (
  uuid        uuid NOT NULL REFERENCES chunks (uuid) ON DELETE CASCADE, -- the data object
  backend_id  uuid NOT NULL REFERENCES backends (id),   -- the backend holding (or meant to hold) the copy
  state       smallint NOT NULL,                        -- proto CopyState: 0 current, 1 outdated, 2 target
  version     bigint NOT NULL,                          -- version this copy holds
  PRIMARY KEY (uuid, backend_id)
);
CREATE INDEX chunk_copies_backend ON chunk_copies (backend_id);

-- Open-file tokens: one row per open; the row's existence keeps an unlinked inode alive.
CREATE TABLE tokens (
  id             bigserial PRIMARY KEY,  -- token id carried in the signed token
  ino            bigint NOT NULL REFERENCES inodes (ino), -- the opened inode
  client_id      bigint NOT NULL,        -- the client session that opened it
  mode           smallint NOT NULL,      -- proto AccessMode: 0 read, 1 write, 2 readWrite, 3 append
  expires_at_ms  bigint NOT NULL         -- unix ms; the sweeper deletes expired rows
);
CREATE INDEX tokens_ino ON tokens (ino);
CREATE INDEX tokens_expiry ON tokens (expires_at_ms);

-- Objects no longer referenced (deleted files, dropped or replaced chunks), waiting for the
-- file server of their backend to delete them and confirm in a heartbeat.
CREATE TABLE deletions (
  backend_id  uuid NOT NULL,                   -- backend holding the object
  uuid        uuid NOT NULL,                   -- the object
  queued_at   bigint NOT NULL,                 -- unix ms when it was queued (oldest first)
  PRIMARY KEY (backend_id, uuid)
);
CREATE INDEX deletions_order ON deletions (backend_id, queued_at);

-- The root directory: ino 1, its own parent.
INSERT INTO inodes (ino, fsid, type, mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, parent)
VALUES (1, gen_random_uuid(), 1, 493, 0, 0, 2, 0,
        (extract(epoch FROM clock_timestamp()) * 1e9)::bigint,
        (extract(epoch FROM clock_timestamp()) * 1e9)::bigint,
        (extract(epoch FROM clock_timestamp()) * 1e9)::bigint, 1);
SELECT setval('inodes_ino_seq', 1);
