// The mapping change log (schema/004_change_log.sql) and the paged reads msnld reconciles from.
// Triggers on `mappings` append every touched prefix to `mapping_changes` inside the writer's own
// transaction, whoever the writer is, so the daemon applies a one-row edit by reading one row;
// bulk writes log one "anything may have changed" entry and the daemon re-reads the table in pages.
import type BetterSqlite3 from 'better-sqlite3';
import { StatementCache } from './statements.js';
import type { Ipv4Prefix } from '../abi/inet.js';
import type { MappingChange } from './types.js';

const NOT_EXPIRED = '(expires_at IS NULL OR expires_at > @now)';

/**
 * Runs `body` (inside a write transaction) with per-row logging off, then logs one "re-read
 * everything" entry: for writes of many rows, where one full re-read is cheaper than a log row
 * per row. Another writer does the same with `UPDATE change_log SET bulk = 1` ... `bulk = 0` and
 * `INSERT INTO mapping_changes (network, length) VALUES (NULL, NULL)` in its transaction.
 */
export function bulkWrite<T>(db: BetterSqlite3.Database, body: () => T): T {
  if (!db.inTransaction) throw new Error('bulkWrite outside a transaction');
  db.prepare('UPDATE change_log SET bulk = 1 WHERE id = 1').run();
  const result = body();
  db.prepare('UPDATE change_log SET bulk = 0 WHERE id = 1').run();
  db.prepare('INSERT INTO mapping_changes (network, length) VALUES (NULL, NULL)').run();
  return result;
}

/** Where the log stands. Every change after `pruned` is still in the log; `head` is the newest. */
export interface LogPosition {
  readonly head: number;
  readonly pruned: number;
}

export class MappingLog {
  private readonly statements: StatementCache;

  constructor(
    db: BetterSqlite3.Database,
    private readonly clock: () => number,
    private readonly read: <T>(what: string, body: () => T) => T,
  ) {
    this.statements = new StatementCache(db);
  }

  /** The store's clock (Unix ms): what "expired" is measured against. */
  now(): number {
    return this.clock();
  }

  private statement(sql: string): BetterSqlite3.Statement {
    return this.statements.get(sql);
  }

  /**
   * `head`: the newest sequence number ever given (0: none); every change after `pruned` is still
   * in the log. A reader that applied up to `seq` catches up from the log when seq >= pruned and
   * must re-read the whole table otherwise.
   */
  position(): LogPosition {
    return this.read('read the mapping change log', () => {
      const head = (this.statement("SELECT seq FROM sqlite_sequence WHERE name = 'mapping_changes'").pluck().get() as number | undefined) ?? 0;
      const oldest = this.statement('SELECT min(seq) FROM mapping_changes').pluck().get() as number | null;
      return { head, pruned: oldest === null ? head : oldest - 1 };
    });
  }

  /** Up to `limit` changes after `seq`, oldest first. */
  changesSince(seq: number, limit: number): MappingChange[] {
    return this.read('read the mapping change log', () =>
      (this.statement('SELECT seq, network, length FROM mapping_changes WHERE seq > ? ORDER BY seq LIMIT ?').raw().all(seq, limit) as Array<[number, number | null, number | null]>).map(
        ([s, network, length]): MappingChange => ({ seq: s, prefix: network === null || length === null ? null : { address: network, length } }),
      ),
    );
  }

  /** The MSNL address of the live mapping for exactly this prefix, or undefined. */
  value(address: number, length: number): number | undefined {
    return this.read('read a mapping', () =>
      this.statement(`SELECT msnl_address FROM mappings WHERE network = @network AND length = @length AND ${NOT_EXPIRED}`)
        .pluck()
        .get({ network: address, length, now: this.clock() }) as number | undefined,
    );
  }

  /**
   * One page of live mappings in row-id order after row `afterId`, as flat [id, network, length,
   * msnl_address] quadruples: a reader pages through a large table without ever holding it.
   */
  page(afterId: number, limit: number): number[] {
    return this.read('read mappings', () => {
      const rows = this.statement(`SELECT id, network, length, msnl_address FROM mappings WHERE id > @after AND ${NOT_EXPIRED} ORDER BY id LIMIT @limit`)
        .raw()
        .all({ after: afterId, limit, now: this.clock() }) as Array<[number, number, number, number]>;
      return rows.flat();
    });
  }

  /** Prefixes of mappings whose expiry falls in (from, to]: they go away without any write. */
  expiredBetween(from: number, to: number): Ipv4Prefix[] {
    return this.read('read expired mappings', () =>
      (this.statement('SELECT network, length FROM mappings WHERE expires_at > ? AND expires_at <= ?').raw().all(from, to) as Array<[number, number]>).map(
        ([address, length]): Ipv4Prefix => ({ address, length }),
      ),
    );
  }

  /**
   * At least the number of rows (the largest row id, 0 when empty): what the daemon sizes its table
   * by before a whole read. Instant, where count() walks the table.
   */
  idBound(): number {
    return this.read('count mappings', () => (this.statement('SELECT max(id) FROM mappings').pluck().get() as number | null) ?? 0);
  }

  /** Number of live mappings (walks the table: seconds at a million rows on a busy machine). */
  count(): number {
    return this.read('count mappings', () => this.statement(`SELECT count(*) FROM mappings WHERE ${NOT_EXPIRED}`).pluck().get({ now: this.clock() }) as number);
  }
}
