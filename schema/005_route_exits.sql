-- Several exits per route (msnl(7) EXITS, `msnl route add ... via A priority 10 via B priority 20`)
-- and a pinned path MTU (`mtu N`). The route's row keeps its first exit (host, port, and now its
-- priority), so readers and writers of one-exit routes (the fleet's) are unchanged; the further
-- exits are rows of route_exits in the order given (position 1..7; at most eight exits in all).
-- Lower priority is preferred. Deleting a route deletes its further exits (trigger: the database
-- does not enforce foreign keys).
ALTER TABLE routes ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 65535);
ALTER TABLE routes ADD COLUMN mtu INTEGER CHECK (mtu IS NULL OR mtu BETWEEN 576 AND 65535);

CREATE TABLE route_exits (
  network  INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  length   INTEGER NOT NULL CHECK (length BETWEEN 0 AND 32),
  position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 7),
  host     TEXT    NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
  port     INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 65535),
  PRIMARY KEY (network, length, position),
  UNIQUE (network, length, host, port)
) STRICT;

CREATE TRIGGER routes_delete_exits AFTER DELETE ON routes
BEGIN
  DELETE FROM route_exits WHERE network = OLD.network AND length = OLD.length;
END;
