-- A fleet through etcd (msnld(8) FLEET): mappings and routes learned from the cluster carry
-- origin 'cluster' and are rewritten by msnld's fleet watcher only; local rows (cli, import) win
-- over them for the same prefix. A mapping may be published to the fleet (`map add ... publish`).
-- SQLite cannot change a CHECK constraint in place, so the mappings table is rebuilt.
CREATE TABLE mappings_new (
  id           INTEGER PRIMARY KEY,
  network      INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  length       INTEGER NOT NULL CHECK (length BETWEEN 0 AND 32),
  msnl_address INTEGER NOT NULL CHECK (msnl_address BETWEEN 0 AND 4294967295),
  comment      TEXT    NOT NULL DEFAULT '' CHECK (length(comment) <= 1024),
  origin       TEXT    NOT NULL CHECK (origin IN ('cli', 'import', 'daemon', 'cluster')),
  created_at   INTEGER NOT NULL CHECK (created_at >= 0),
  expires_at   INTEGER CHECK (expires_at > created_at),
  publish      INTEGER NOT NULL DEFAULT 0 CHECK (publish IN (0, 1)),
  CHECK (network % (1 << (32 - length)) = 0),
  UNIQUE (network, length)
) STRICT;
INSERT INTO mappings_new (id, network, length, msnl_address, comment, origin, created_at, expires_at)
  SELECT id, network, length, msnl_address, comment, origin, created_at, expires_at FROM mappings;
DROP TABLE mappings;
ALTER TABLE mappings_new RENAME TO mappings;
CREATE INDEX mappings_expires_at ON mappings (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX mappings_cluster ON mappings (origin) WHERE origin = 'cluster';

ALTER TABLE routes ADD COLUMN origin TEXT NOT NULL DEFAULT 'cli' CHECK (origin IN ('cli', 'cluster'));

-- The fleet settings (one row) and the last etcd revision whose records are applied below.
CREATE TABLE cluster_state (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  urls      TEXT    NOT NULL DEFAULT '' CHECK (length(urls) <= 4096),
  ttl_s     INTEGER NOT NULL DEFAULT 30 CHECK (ttl_s BETWEEN 2 AND 3600),
  revision  INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0),
  endpoint  TEXT    NOT NULL DEFAULT '' CHECK (length(endpoint) <= 4096)
) STRICT;
INSERT INTO cluster_state (id) VALUES (1);

-- The records of the fleet's hosts as last applied (this host's own included): the cache msnld
-- starts from while etcd is unreachable, and what `msnl fleet show` lists.
CREATE TABLE cluster_hosts (
  msnl_address    INTEGER PRIMARY KEY CHECK (msnl_address BETWEEN 0 AND 4294967295),
  record          TEXT    NOT NULL CHECK (length(record) <= 65536),
  lease           TEXT    NOT NULL DEFAULT '0',
  create_revision INTEGER NOT NULL CHECK (create_revision >= 0),
  mod_revision    INTEGER NOT NULL CHECK (mod_revision >= 0)
) STRICT;
