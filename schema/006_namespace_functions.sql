-- zhsm schema, migration 6: the removals and the making of nodes as server-side functions
-- (doc/architecture.md, "Decisions": why these transactions run inside PostgreSQL).
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
LANGUAGE sql VOLATILE AS $$
  UPDATE inodes SET mtime_ns = p_now_ns, ctime_ns = p_now_ns, nlink = nlink + p_nlink_delta,
    version = version + 1
  WHERE ino = p_dir RETURNING *
$$;

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
