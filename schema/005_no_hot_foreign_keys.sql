-- zhsm schema, migration 5: no foreign keys on the tables every create, open and remove
-- writes (doc/architecture.md, "Decisions": why the controller keeps these references
-- itself).
--
-- Each of these keys cost a trigger query per row written (and one per referencing table
-- when an inode row is deleted): about a fifth of a small-file create. The controller
-- writes these rows only inside transactions that hold the inode or directory they name,
-- and removes them before the inode; the test suites check after every conformance test
-- that no row names a missing inode. The keys that delete rows with their inode
-- (ON DELETE CASCADE: dir_chains, file_accesses) and those on the rarely written tables
-- stay.
ALTER TABLE dentries DROP CONSTRAINT dentries_parent_fkey;
ALTER TABLE dentries DROP CONSTRAINT dentries_ino_fkey;
ALTER TABLE tokens DROP CONSTRAINT tokens_ino_fkey;
ALTER TABLE xattrs DROP CONSTRAINT xattrs_ino_fkey;
ALTER TABLE chunks DROP CONSTRAINT chunks_ino_fkey;
