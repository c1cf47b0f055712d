-- zhsm schema, migration 7: a small file's bytes (inodes.inline_data, up to inline_max)
-- are compressed with lz4 instead of PostgreSQL's default pglz when they are large enough
-- to be compressed at all (about 2 KiB). Every close of a small file writes them: lz4
-- compresses about four times faster (measured on /usr/share/doc's files of up to 64 KiB:
-- 7 against 27 µs per file) and decompresses faster for reads. Values already stored keep
-- their method until they are next written; both are read transparently.
ALTER TABLE inodes ALTER COLUMN inline_data SET COMPRESSION lz4;
