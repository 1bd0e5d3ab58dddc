-- msnl desired state, version 1. Addresses and prefixes are unsigned 32-bit integers in host
-- order (dotted decimal only at the edges). The CHECK constraints repeat the CLI's validation so
-- a bad row is refused even when a writer bypasses it. Times are Unix milliseconds.

-- Host settings: exactly one row.
CREATE TABLE host (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  msnl_address INTEGER NOT NULL DEFAULT 0 CHECK (msnl_address BETWEEN 0 AND 4294967295),
  listen_host  TEXT    NOT NULL DEFAULT '0.0.0.0' CHECK (length(listen_host) BETWEEN 1 AND 255),
  listen_port  INTEGER NOT NULL DEFAULT 1994 CHECK (listen_port BETWEEN 1 AND 65535)
) STRICT;
INSERT INTO host (id) VALUES (1);

-- The four tunnel interfaces; an address and its prefix length are set or cleared together.
CREATE TABLE interfaces (
  name          TEXT    PRIMARY KEY CHECK (name IN ('ms0', 'ms1', 'ms2', 'ms3')),
  address       INTEGER CHECK (address BETWEEN 0 AND 4294967295),
  prefix_length INTEGER CHECK (prefix_length BETWEEN 0 AND 32),
  admin_up      INTEGER NOT NULL DEFAULT 0 CHECK (admin_up IN (0, 1)),
  CHECK ((address IS NULL) = (prefix_length IS NULL))
) STRICT;
INSERT INTO interfaces (name) VALUES ('ms0'), ('ms1'), ('ms2'), ('ms3');

-- IP prefix -> MSNL address, looked up longest prefix first.
CREATE TABLE mappings (
  id           INTEGER PRIMARY KEY,
  network      INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  length       INTEGER NOT NULL CHECK (length BETWEEN 0 AND 32),
  msnl_address INTEGER NOT NULL CHECK (msnl_address BETWEEN 0 AND 4294967295),
  comment      TEXT    NOT NULL DEFAULT '' CHECK (length(comment) <= 1024),
  origin       TEXT    NOT NULL CHECK (origin IN ('cli', 'import', 'daemon')),
  created_at   INTEGER NOT NULL CHECK (created_at >= 0),
  expires_at   INTEGER CHECK (expires_at > created_at),
  CHECK (network % (1 << (32 - length)) = 0),
  UNIQUE (network, length)
) STRICT;
CREATE INDEX mappings_expires_at ON mappings (expires_at) WHERE expires_at IS NOT NULL;

-- MSNL address or prefix -> underlay UDP endpoint.
CREATE TABLE routes (
  network INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  length  INTEGER NOT NULL CHECK (length BETWEEN 0 AND 32),
  host    TEXT    NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
  port    INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  CHECK (network % (1 << (32 - length)) = 0),
  PRIMARY KEY (network, length)
) STRICT;
