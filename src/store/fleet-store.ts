// The fleet's part of the database (schema/003_cluster.sql): the cluster settings, the host
// records last applied with the etcd revision they were read at, and the mappings and routes with
// origin 'cluster' derived from them. msnld's fleet watcher writes each watch batch here in one
// transaction; the daemon's ordinary change detection then reconciles, as after any local edit.
// Local rows (origin cli/import) win: a cluster row never replaces one, and adding a local row
// replaces a cluster row for the same prefix (Store.addMapping, Store.addRoute).
import type BetterSqlite3 from 'better-sqlite3';
import type { Ipv4Prefix } from '../abi/inet.js';
import { StoreError } from './errors.js';

export interface ClusterSettings {
  /** Comma-separated etcd URLs; '' when this host is in no fleet. */
  readonly urls: string;
  /** Lease TTL of this host's record, seconds. */
  readonly ttlS: number;
  /** The underlay endpoint(s) published, comma-separated `HOST:PORT`; '' for the listen address. */
  readonly endpoint: string;
}

export interface StoredClusterHost {
  readonly msnlAddress: number;
  /** The record's JSON as read from etcd (src/fleet/record.ts). */
  readonly record: string;
  /** The etcd lease id, decimal. */
  readonly lease: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ClusterMappingRow {
  readonly prefix: Ipv4Prefix;
  readonly msnlAddress: number;
  readonly comment: string;
}

export interface ClusterRouteRow {
  readonly msnlAddress: number;
  readonly host: string;
  readonly port: number;
  readonly publicKey: Uint8Array | null;
}

/** One watch batch (or one full re-list, with replaceHosts) and what it changes. */
export interface ClusterBatch {
  /** The etcd revision everything up to which is now applied. */
  readonly revision: number;
  /** A re-list: every stored host not in putHosts is removed. */
  readonly replaceHosts?: boolean;
  readonly putHosts: readonly StoredClusterHost[];
  readonly delHosts: readonly number[];
  readonly putMappings: readonly ClusterMappingRow[];
  readonly delMappings: readonly Ipv4Prefix[];
  readonly putRoutes: readonly ClusterRouteRow[];
  readonly delRoutes: readonly number[];
}

type Run = <T>(what: string, body: () => T) => T;

export class FleetStore {
  /** Use Store.fleet(). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly write: Run,
    private readonly read: Run,
    private readonly clock: () => number,
  ) {}

  settings(): ClusterSettings {
    return this.read('read the cluster settings', () => {
      const row = this.db.prepare('SELECT urls, ttl_s, endpoint FROM cluster_state WHERE id = 1').get() as { urls: string; ttl_s: number; endpoint: string } | undefined;
      if (row === undefined) throw new StoreError('corrupt', 'the database has no cluster_state row');
      return { urls: row.urls, ttlS: row.ttl_s, endpoint: row.endpoint };
    });
  }

  setSettings(changes: Partial<ClusterSettings>): void {
    this.write('set the cluster settings', () => {
      this.db.prepare('UPDATE cluster_state SET urls = coalesce(?, urls), ttl_s = coalesce(?, ttl_s), endpoint = coalesce(?, endpoint) WHERE id = 1')
        .run(changes.urls ?? null, changes.ttlS ?? null, changes.endpoint ?? null);
    });
  }

  /** The etcd revision the stored records are applied up to (0: none yet). */
  revision(): number {
    return this.read('read the cluster revision', () => this.db.prepare('SELECT revision FROM cluster_state WHERE id = 1').pluck().get() as number);
  }

  hosts(): StoredClusterHost[] {
    return this.read('list the cluster hosts', () =>
      (this.db.prepare('SELECT msnl_address, record, lease, create_revision, mod_revision FROM cluster_hosts ORDER BY msnl_address').all() as
        Array<{ msnl_address: number; record: string; lease: string; create_revision: number; mod_revision: number }>)
        .map((r) => ({ msnlAddress: r.msnl_address, record: r.record, lease: r.lease, createRevision: r.create_revision, modRevision: r.mod_revision })),
    );
  }

  /** The local mappings this host publishes to the fleet (`msnl map add ... publish`). */
  publishedPrefixes(): Ipv4Prefix[] {
    return this.read('list published mappings', () =>
      (this.db.prepare("SELECT network, length FROM mappings WHERE publish = 1 AND origin <> 'cluster' AND (expires_at IS NULL OR expires_at > ?) ORDER BY network, length")
        .all(this.clock()) as Array<{ network: number; length: number }>).map((r) => ({ address: r.network, length: r.length })),
    );
  }

  /** Marks a stored mapping as published (or not); run inside the transaction that adds it. */
  setPublish(prefix: Ipv4Prefix, publish: boolean): void {
    this.write('mark a mapping published', () => {
      const result = this.db.prepare("UPDATE mappings SET publish = ? WHERE network = ? AND length = ? AND origin <> 'cluster'").run(Number(publish), prefix.address, prefix.length);
      if (result.changes === 0) throw new StoreError('not-found', 'no local mapping to publish');
    });
  }

  /** Writes one batch in one transaction: all of it is applied, or none. */
  apply(batch: ClusterBatch): void {
    this.write('apply a fleet batch', () => {
      const db = this.db;
      if (batch.replaceHosts === true) db.prepare('DELETE FROM cluster_hosts').run();
      const delHost = db.prepare('DELETE FROM cluster_hosts WHERE msnl_address = ?');
      for (const address of batch.delHosts) delHost.run(address);
      const putHost = db.prepare('INSERT OR REPLACE INTO cluster_hosts (msnl_address, record, lease, create_revision, mod_revision) VALUES (?, ?, ?, ?, ?)');
      for (const h of batch.putHosts) putHost.run(h.msnlAddress, h.record, h.lease, h.createRevision, h.modRevision);
      const delMapping = db.prepare("DELETE FROM mappings WHERE network = ? AND length = ? AND origin = 'cluster'");
      for (const prefix of batch.delMappings) delMapping.run(prefix.address, prefix.length);
      // OR IGNORE: a local mapping for the prefix stays and wins.
      const putMapping = db.prepare("INSERT OR IGNORE INTO mappings (network, length, msnl_address, comment, origin, created_at) VALUES (?, ?, ?, ?, 'cluster', ?)");
      const now = this.clock();
      for (const m of batch.putMappings) {
        delMapping.run(m.prefix.address, m.prefix.length);
        putMapping.run(m.prefix.address, m.prefix.length, m.msnlAddress, m.comment.slice(0, 1024), now);
      }
      const delRoute = db.prepare("DELETE FROM routes WHERE network = ? AND length = 32 AND origin = 'cluster'");
      for (const address of batch.delRoutes) delRoute.run(address);
      const putRoute = db.prepare("INSERT OR IGNORE INTO routes (network, length, host, port, public_key, origin) VALUES (?, 32, ?, ?, ?, 'cluster')");
      for (const r of batch.putRoutes) {
        delRoute.run(r.msnlAddress);
        putRoute.run(r.msnlAddress, r.host, r.port, r.publicKey === null ? null : Buffer.from(r.publicKey));
      }
      db.prepare('UPDATE cluster_state SET revision = ? WHERE id = 1').run(batch.revision);
    });
  }

  /** Removes every cluster row and record (leaving a fleet for good). */
  clear(): void {
    this.write('clear the fleet state', () => {
      this.db.prepare("DELETE FROM mappings WHERE origin = 'cluster'").run();
      this.db.prepare("DELETE FROM routes WHERE origin = 'cluster'").run();
      this.db.prepare('DELETE FROM cluster_hosts').run();
      this.db.prepare('UPDATE cluster_state SET revision = 0 WHERE id = 1').run();
    });
  }
}
