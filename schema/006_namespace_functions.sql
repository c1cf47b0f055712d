-- zhsm schema, migration 6: the removals, the making of nodes and a small file's commit as
-- server-side functions (doc/architecture.md, "Decisions": why these transactions run
-- inside PostgreSQL).
--
-- All are PL/pgSQL, whose statements are planned once per session (a LANGUAGE sql
-- function with a data-modifying statement is planned again at every call).
--
-- Each function is the whole transaction the controller used to send statement by
-- statement (6 to 14 round trips); called as one statement without BEGIN and COMMIT, it
-- costs one. They are VOLATILE, so under READ COMMITTED every statement in them takes a
-- fresh snapshot after the locks before it, as the statements of a client-side
-- transaction do: a row locked after a wait is read as it is now.
--
-- Outcomes that are not success are returned as a status (nothing changed then), not
-- raised, so that the controller words the error as before:
--   0 done; 1 the directory does not exist; 2 it is not a directory; 3 it has been
--   removed (nlink 0); 4 no such entry; 5 the entry exists; 6 the victim is a directory
--   (unlink); 7 the victim is not a directory (rmdir); 8 the directory is not empty;
--   9 the root directory (rmdir); 10 the entry names a missing inode.
-- Each function turns synchronous commit off for its transaction, as the controller did
-- for these changes (doc/durability.md).

-- Reclaims inode p_ino if it has no link (its row locked first) and no token: its
-- xattrs, its chunks (their copies queued for deletion at p_now_ms) and the inode go.
-- Whether it did. Locking before looking for tokens matters: a read-only open holds the
-- inode FOR KEY SHARE while it inserts its token, so this either waits and then sees the
-- token, or reclaims first and the open finds no inode.
CREATE FUNCTION zhsm_reclaim_if_unused(p_ino bigint, p_now_ms bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  links integer;
BEGIN
  SELECT nlink INTO links FROM inodes WHERE ino = p_ino FOR UPDATE;
  IF NOT FOUND OR links > 0 THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM tokens WHERE ino = p_ino) THEN
    RETURN false;
  END IF;
  DELETE FROM xattrs WHERE ino = p_ino;
  INSERT INTO deletions (backend_id, uuid, queued_at)
    SELECT c.backend_id, c.uuid, p_now_ms FROM chunks k JOIN chunk_copies c ON c.uuid = k.uuid
    WHERE k.ino = p_ino ON CONFLICT DO NOTHING;
  DELETE FROM chunks WHERE ino = p_ino;
  DELETE FROM inodes WHERE ino = p_ino;
  RETURN true;
END $$;

-- Locks directory p_dir for a change of its entries; a status (see above) other than 0
-- when it is missing, not a directory or, with p_live, already removed.
CREATE FUNCTION zhsm_lock_dir(p_dir bigint, p_live boolean) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  d record;
BEGIN
  SELECT type, nlink INTO d FROM inodes WHERE ino = p_dir FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 1;
  END IF;
  IF d.type <> 1 THEN
    RETURN 2;
  END IF;
  IF p_live AND d.nlink = 0 THEN
    RETURN 3;
  END IF;
  RETURN 0;
END $$;

-- A directory's entries changed at p_now_ns: its times, version and link count (by
-- p_nlink_delta). Its row after the change.
CREATE FUNCTION zhsm_touch_dir(p_dir bigint, p_now_ns bigint, p_nlink_delta integer)
RETURNS inodes
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  d inodes;
BEGIN
  UPDATE inodes SET mtime_ns = p_now_ns, ctime_ns = p_now_ns, nlink = nlink + p_nlink_delta,
    version = version + 1
  WHERE ino = p_dir RETURNING * INTO d;
  RETURN d;
END $$;

-- unlink (p_dir_only false) or rmdir (true) of entry p_name in directory p_parent at
-- p_now_ns: the entry goes, the directory is touched, the victim loses its link and is
-- reclaimed when nothing keeps it. Returns the status, the victim's inode and the
-- directory's row after the touch (NULL unless the status is 0).
CREATE FUNCTION zhsm_remove(p_parent bigint, p_name bytea, p_dir_only boolean, p_now_ns bigint,
                            OUT status integer, OUT victim bigint, OUT dir inodes)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v record;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  status := zhsm_lock_dir(p_parent, false);
  IF status <> 0 THEN
    RETURN;
  END IF;
  SELECT ino INTO victim FROM dentries WHERE parent = p_parent AND name = p_name;
  IF NOT FOUND THEN
    status := 4;
    RETURN;
  END IF;
  IF p_dir_only AND victim = 1 THEN
    status := 9;
    RETURN;
  END IF;
  SELECT type INTO v FROM inodes WHERE ino = victim FOR UPDATE;
  IF NOT FOUND THEN
    status := 10;
    RETURN;
  END IF;
  IF NOT p_dir_only AND v.type = 1 THEN
    status := 6;
    RETURN;
  END IF;
  IF p_dir_only THEN
    IF v.type <> 1 THEN
      status := 7;
      RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM dentries WHERE parent = victim) THEN
      status := 8;
      RETURN;
    END IF;
  END IF;
  DELETE FROM dentries WHERE parent = p_parent AND name = p_name;
  dir := zhsm_touch_dir(p_parent, p_now_ns, CASE WHEN p_dir_only THEN -1 ELSE 0 END);
  UPDATE inodes SET ctime_ns = p_now_ns,
    nlink = CASE WHEN p_dir_only THEN 0 ELSE nlink - 1 END, version = version + 1
  WHERE ino = victim;
  PERFORM zhsm_reclaim_if_unused(victim, p_now_ns / 1000000);
END $$;

-- mkdir, mknod or symlink: a new inode of type p_type named p_name in directory p_parent
-- (times p_now_ns, version 1; a directory gets 2 links, anything else 1), its entry and
-- the directory's touch. A setgid directory passes on its group, and to a new directory
-- its setgid bit. p_symlink is NULL but for symlinks, p_size their target's length.
-- Returns the status, the new inode's number, mode and group, and the directory's row after the touch (NULL unless the status is 0).
CREATE FUNCTION zhsm_make_node(p_parent bigint, p_name bytea, p_fsid uuid, p_type smallint,
                               p_mode integer, p_uid bigint, p_gid bigint, p_size bigint,
                               p_rdev bigint, p_symlink bytea, p_now_ns bigint,
                               OUT status integer, OUT new_ino bigint, OUT new_mode integer,
                               OUT new_gid bigint, OUT dir inodes)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  p record;
  is_dir boolean := p_type = 1;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  status := zhsm_lock_dir(p_parent, true);
  IF status <> 0 THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM dentries WHERE parent = p_parent AND name = p_name) THEN
    status := 5;
    RETURN;
  END IF;
  SELECT i.mode, i.gid INTO p FROM inodes i WHERE i.ino = p_parent;
  new_mode := p_mode;
  new_gid := p_gid;
  IF p.mode & 1024 <> 0 THEN  -- 02000, setgid
    new_gid := p.gid;
    IF is_dir THEN
      new_mode := new_mode | 1024;
    END IF;
  END IF;
  INSERT INTO inodes (fsid, type, mode, uid, gid, nlink, size, rdev, atime_ns, mtime_ns,
                      ctime_ns, version, parent, symlink)
  VALUES (p_fsid, p_type, new_mode, p_uid, new_gid, CASE WHEN is_dir THEN 2 ELSE 1 END,
          p_size, p_rdev, p_now_ns, p_now_ns, p_now_ns, 1, p_parent, p_symlink)
  RETURNING inodes.ino INTO new_ino;
  INSERT INTO dentries (parent, name, ino) VALUES (p_parent, p_name, new_ino);
  dir := zhsm_touch_dir(p_parent, p_now_ns, CASE WHEN is_dir THEN 1 ELSE 0 END);
END $$;

-- The end of commitData, after the chunk updates, in one statement: chunks at index p_keep
-- and past are dropped (their copies queued for deletion at p_now_ms), chunk p_keep - 1 is
-- clipped to p_last_size bytes (its SHA-256 becomes unknown), and the inode gets size
-- p_size, mtime p_mtime_ns, ctime p_now_ns and its new inline bytes: p_data when
-- p_inline_action = 1, none when 2, else the old ones; cut to the size when it is below
-- p_inline_max so that cut bytes never come back; none when the size passes p_inline_max
-- or chunks remain. Every part of the statement sees the chunks as they were before it.
-- The inode's row after the change.
CREATE FUNCTION zhsm_commit_end(p_ino bigint, p_size bigint, p_mtime_ns bigint, p_now_ns bigint,
                                p_keep bigint, p_now_ms bigint, p_last_size bigint,
                                p_inline_action integer, p_data bytea, p_inline_max bigint)
RETURNS inodes
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r inodes;
BEGIN
  WITH gone AS (DELETE FROM chunks WHERE ino = p_ino AND idx >= p_keep RETURNING uuid),
  queued AS (INSERT INTO deletions (backend_id, uuid, queued_at)
             SELECT c.backend_id, c.uuid, p_now_ms FROM gone g
             JOIN chunk_copies c ON c.uuid = g.uuid ON CONFLICT DO NOTHING),
  clipped AS (UPDATE chunks SET size = p_last_size, sha256 = ''::bytea
              WHERE ino = p_ino AND idx = p_keep - 1 AND size > p_last_size)
  UPDATE inodes i SET size = p_size, mtime_ns = p_mtime_ns, ctime_ns = p_now_ns,
    version = version + 1,
    inline_data = (SELECT CASE
      WHEN p_size > p_inline_max OR EXISTS (SELECT 1 FROM chunks WHERE ino = p_ino AND idx < p_keep)
        THEN NULL
      WHEN p_size < p_inline_max THEN substring(v from 1 for p_size::int)
      ELSE v END
      FROM (SELECT CASE p_inline_action WHEN 1 THEN p_data WHEN 2 THEN NULL
                   ELSE i.inline_data END AS v) s)
  WHERE i.ino = p_ino RETURNING i.* INTO r;
  RETURN r;
END $$;

-- A commitData without chunk updates (a small file's close) as one statement: locks inode
-- p_ino, then (reading the token after the lock, as the transaction does) checks that
-- token p_token is for it, grants writing (mode 1, 2 or 3) and has not expired at p_now_ms,
-- and that the inode is a regular file (type 0); then zhsm_commit_end. Status 0 and the
-- inode's row after the change, or status 1 and nothing changed when any check fails:
-- the controller then runs the transaction, which words the error.
CREATE FUNCTION zhsm_commit_small(p_ino bigint, p_token bigint, p_size bigint,
                                  p_mtime_ns bigint, p_now_ns bigint, p_keep bigint,
                                  p_now_ms bigint, p_last_size bigint, p_inline_action integer,
                                  p_data bytea, p_inline_max bigint,
                                  OUT status integer, OUT attrs inodes)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  f record;
  t record;
BEGIN
  status := 1;
  SELECT type INTO f FROM inodes WHERE ino = p_ino FOR UPDATE;
  IF NOT FOUND OR f.type <> 0 THEN
    RETURN;
  END IF;
  SELECT ino, mode, expires_at_ms INTO t FROM tokens WHERE id = p_token;
  IF NOT FOUND OR t.ino <> p_ino OR t.mode NOT IN (1, 2, 3) OR t.expires_at_ms < p_now_ms THEN
    RETURN;
  END IF;
  attrs := zhsm_commit_end(p_ino, p_size, p_mtime_ns, p_now_ns, p_keep, p_now_ms, p_last_size,
                           p_inline_action, p_data, p_inline_max);
  status := 0;
END $$;
