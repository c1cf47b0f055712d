-- zhsm schema, migration 4: how many copies a close waits for, per chain, and the access
-- counts the `accesses` rule attribute reads (doc/architecture.md, "File resolve chains").

-- A close (or fsync) of a file of this chain is answered once this many copies of its
-- changed data objects are current; the rest are made in the background.
ALTER TABLE chains
  ADD COLUMN ack integer NOT NULL DEFAULT 1 CHECK (ack BETWEEN 1 AND 16); -- copies a close waits for

-- Opens of a file, counted by the controller per hour. The `accesses` attribute of a rule
-- is the sum over the controller's access window; older hours are deleted.
CREATE TABLE file_accesses (
  ino    bigint NOT NULL REFERENCES inodes (ino) ON DELETE CASCADE, -- the file; goes with it
  hour   bigint NOT NULL,                 -- hours since the Unix epoch (UTC)
  count  bigint NOT NULL CHECK (count > 0), -- opens in that hour
  PRIMARY KEY (ino, hour)
);
