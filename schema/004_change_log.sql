-- The mapping change log (ARCHITECTURE.md, "Reconciliation"): every write to `mappings`, by any
-- writer (msnl, a fleet agent, sqlite3 by hand), appends the prefixes it touched to
-- `mapping_changes` from triggers, inside the same transaction, so msnld applies exactly what
-- changed (read the row again; present: set, absent: delete) instead of re-reading the table.
-- `seq` is AUTOINCREMENT: never reused, and rows are only ever pruned from the low end, so the
-- log is always the contiguous range (pruned_through, head] and a reader that fell behind knows it.
-- A row with NULL network and length means "anything may have changed": bulk writes (import,
-- flush) set `change_log.bulk` for their transaction, log nothing per row and append one such
-- row, and msnld then re-reads the whole table in chunks.
CREATE TABLE mapping_changes (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  network INTEGER CHECK (network BETWEEN 0 AND 4294967295),
  length  INTEGER CHECK (length BETWEEN 0 AND 32),
  CHECK ((network IS NULL) = (length IS NULL))
) STRICT;

-- bulk: 1 only inside a bulk write's transaction. keep: how many log rows are kept (older ones
-- are pruned by the insert trigger, so the log stays bounded while msnld is down).
CREATE TABLE change_log (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  bulk  INTEGER NOT NULL DEFAULT 0 CHECK (bulk IN (0, 1)),
  keep  INTEGER NOT NULL DEFAULT 65536 CHECK (keep >= 1)
) STRICT;
INSERT INTO change_log (id) VALUES (1);

CREATE TRIGGER mappings_log_insert AFTER INSERT ON mappings
WHEN (SELECT bulk FROM change_log WHERE id = 1) = 0
BEGIN
  INSERT INTO mapping_changes (network, length) VALUES (new.network, new.length);
END;

CREATE TRIGGER mappings_log_delete AFTER DELETE ON mappings
WHEN (SELECT bulk FROM change_log WHERE id = 1) = 0
BEGIN
  INSERT INTO mapping_changes (network, length) VALUES (old.network, old.length);
END;

CREATE TRIGGER mappings_log_update AFTER UPDATE ON mappings
WHEN (SELECT bulk FROM change_log WHERE id = 1) = 0
BEGIN
  INSERT INTO mapping_changes (network, length) VALUES (old.network, old.length);
  INSERT INTO mapping_changes (network, length) SELECT new.network, new.length
    WHERE new.network IS NOT old.network OR new.length IS NOT old.length;
END;

CREATE TRIGGER mapping_changes_prune AFTER INSERT ON mapping_changes
BEGIN
  DELETE FROM mapping_changes WHERE seq <= new.seq - (SELECT keep FROM change_log WHERE id = 1);
END;
