-- zhsm schema, migration 3: file resolve chains (doc/architecture.md, "File resolve chains")
-- and the operator's marks on servers. Rules are kept in their canonical written form
-- (controller/chain.h): the controller parses every rule before it stores it, and the text
-- is what operators read and write.

-- Chains by name. `default` is where evaluation starts unless a directory names another.
CREATE TABLE chains (
  name    text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]+$'), -- the chain's name
  copies  integer NOT NULL DEFAULT 1 CHECK (copies BETWEEN 1 AND 16), -- copies wanted: evaluation stops at this many
  stripe  integer NOT NULL DEFAULT 1 CHECK (stripe BETWEEN 1 AND 64)   -- a file's data objects spread over up to this many backends
);

-- The rules of each chain, in order.
CREATE TABLE chain_rules (
  chain     text NOT NULL REFERENCES chains (name) ON DELETE CASCADE, -- the chain
  position  integer NOT NULL CHECK (position >= 1),  -- 1-based order within the chain, without gaps
  rule      text NOT NULL,                           -- canonical written form, e.g. 'size > 1G use tier:hdd'
  PRIMARY KEY (chain, position)
);

-- Directories that name a chain for everything below them (the nearest one wins).
CREATE TABLE dir_chains (
  ino    bigint PRIMARY KEY REFERENCES inodes (ino) ON DELETE CASCADE, -- the directory; goes with it
  chain  text NOT NULL REFERENCES chains (name)       -- its chain; a chain named here cannot be deleted
);

-- Planned absence and draining, set by the operator (zhsm-admin server ...).
ALTER TABLE servers
  ADD COLUMN maintenance boolean NOT NULL DEFAULT false, -- planned absence: its copies are not repaired elsewhere
  ADD COLUMN draining boolean NOT NULL DEFAULT false;    -- everything on it is being moved elsewhere

-- One copy anywhere: what the cluster did before chains.
INSERT INTO chains (name, copies) VALUES ('default', 1);
INSERT INTO chain_rules (chain, position, rule) VALUES ('default', 1, 'use any');
