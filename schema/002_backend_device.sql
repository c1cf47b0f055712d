-- zhsm schema, migration 2: the device of each backend. A file server may serve several
-- backends that are directories on one filesystem; their space is shared, so statfs
-- counts each (server, device) once instead of summing every backend.
ALTER TABLE backends
  ADD COLUMN device_id bigint NOT NULL DEFAULT 0;  -- st_dev of the backend's filesystem on its server; 0 = not reported (each such backend counts alone)
