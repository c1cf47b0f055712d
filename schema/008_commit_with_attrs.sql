-- zhsm schema, migration 8: a small file's commit and the mode, owner and access time that
-- ride with it (commitData.thenSetattr: a chmod, chown or utimensat made before the close)
-- in one statement. Before, the controller sent them as a setattr statement followed by
-- zhsm_commit_small, two round trips to PostgreSQL for every file `cp -a` or `tar x` wrote.
-- zhsm_commit_small_with checks as zhsm_commit_small does, then sets the attributes whose
-- p_set_* flag is true, then ends the commit (zhsm_commit_end, which sets the mtime, the
-- ctime and the version). Nothing changes when a check fails (status 1).
CREATE FUNCTION zhsm_commit_small_with(p_ino bigint, p_token bigint, p_size bigint,
                                       p_mtime_ns bigint, p_now_ns bigint, p_keep bigint,
                                       p_now_ms bigint, p_last_size bigint,
                                       p_inline_action integer, p_data bytea,
                                       p_inline_max bigint,
                                       p_set_mode boolean, p_mode integer,
                                       p_set_uid boolean, p_uid bigint,
                                       p_set_gid boolean, p_gid bigint,
                                       p_set_atime boolean, p_atime_ns bigint,
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
  IF p_set_mode OR p_set_uid OR p_set_gid OR p_set_atime THEN
    UPDATE inodes SET
      mode = CASE WHEN p_set_mode THEN p_mode ELSE mode END,
      uid = CASE WHEN p_set_uid THEN p_uid ELSE uid END,
      gid = CASE WHEN p_set_gid THEN p_gid ELSE gid END,
      atime_ns = CASE WHEN p_set_atime THEN p_atime_ns ELSE atime_ns END
    WHERE ino = p_ino;
  END IF;
  attrs := zhsm_commit_end(p_ino, p_size, p_mtime_ns, p_now_ns, p_keep, p_now_ms, p_last_size,
                           p_inline_action, p_data, p_inline_max);
  status := 0;
END $$;

DROP FUNCTION zhsm_commit_small(bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint,
                                integer, bytea, bigint);
