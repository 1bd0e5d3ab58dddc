// Keeps msnld's mapping table equal to the stored mappings without re-reading them: the store's
// change log (schema/004_change_log.sql) names every prefix a write touched, and each is applied by
// reading that one row again (present: set, absent or expired: delete), O(change) whatever the
// table's size. A whole re-read happens only at start, on reload, after a bulk write (import,
// flush) or when the log was pruned past what was applied; it pages through the table in row-id
// order, yields to the event loop every `sliceMs` (10 ms), and updates the one live table in place by
// mark and sweep, so lookups keep answering, nothing blocks for long and no second copy is held.
// Writes made while the re-read runs are in the log after its starting point and are applied after.

import type { MappingLog } from '../store/mapping-log.js';
import { MappingTable } from '../manager/mapping-table.js';

export interface ReconcilerOptions {
  readonly log: MappingLog;
  /** Wall clock (Unix ms) for mapping expiry (default: the store's). */
  readonly now?: () => number;
  /** Monotonic ms, for the slice budget (default performance.now). */
  readonly monotonic?: () => number;
  /** Longest a slice of a whole re-read holds the event loop (ms, default 10). */
  readonly sliceMs?: number;
  /** Rows per page of a whole re-read (default 1024). */
  readonly pageRows?: number;
  /** More pending log entries than this and a whole re-read is cheaper (default 50 000). */
  readonly maxDeltas?: number;
  /** Told of each mapping a delta or an expiry set (msnl address) or deleted (undefined); not of whole re-reads. */
  readonly onMapping?: (address: number, length: number, msnlAddress: number | undefined) => void;
  /** How a slice gives the event loop back (default setImmediate). */
  readonly pause?: () => Promise<void>;
}

/** What one sync did. */
export interface SyncResult {
  readonly kind: 'none' | 'delta' | 'full';
  /** Entries set or deleted (full: rows read plus entries swept). */
  readonly changes: number;
}

/** A whole read stopped by cancel(). */
export class ReconcileCancelled extends Error {
  constructor() {
    super('the whole read of the mappings was cancelled (shutdown)');
    this.name = 'ReconcileCancelled';
  }
}

/** Slots looked at between checks of the slice budget while sweeping. */
const SWEEP_SLOTS = 1 << 16;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Reconciler {
  /** The live table: lookups may read it at any time, also while a sync runs. */
  readonly table = new MappingTable();
  /** Log sequence number applied through; -1 before the first whole read. */
  private applied = -1;
  /** Expiries up to this time (Unix ms) are applied. */
  private expiredThrough = 0;
  private running: Promise<SyncResult> | undefined;
  private cancelled = false;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly sliceMs: number;
  private readonly pageRows: number;
  private readonly maxDeltas: number;
  private readonly pause: () => Promise<void>;
  /** Whole re-reads done (tests, counters). */
  fullReads = 0;
  /** The longest the last whole re-read held the event loop in one go (ms). */
  longestSliceMs = 0;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => options.log.now());
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.sliceMs = options.sliceMs ?? 10;
    this.pageRows = options.pageRows ?? 1024;
    this.maxDeltas = options.maxDeltas ?? 50_000;
    this.pause = options.pause ?? nextTurn;
  }

  /** Stops a whole read in progress at its next slice (daemon shutdown); later syncs do nothing. */
  cancel(): void {
    this.cancelled = true;
  }

  /** The log sequence number applied through (-1 before the first whole read). */
  get appliedSeq(): number {
    return this.applied;
  }

  /**
   * Brings the table to the store: from the log when it can, by a whole re-read when `full` is
   * asked or the log cannot say. Calls are serialised: one made while another runs waits for it.
   */
  sync(full = false): Promise<SyncResult> {
    const previous = this.running ?? Promise.resolve({ kind: 'none', changes: 0 } as SyncResult);
    const next = previous.catch(() => undefined).then(() => this.syncNow(full));
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = undefined;
    }).catch(() => undefined);
    return next;
  }

  private async syncNow(full: boolean): Promise<SyncResult> {
    if (this.cancelled) return { kind: 'none', changes: 0 };
    const log = this.options.log;
    const position = log.position();
    let result: SyncResult = { kind: 'none', changes: 0 };
    if (full || this.applied < 0 || this.applied < position.pruned) {
      result = await this.readAll();
    } else if (position.head > this.applied) {
      const pending = log.changesSince(this.applied, this.maxDeltas + 1);
      if (pending.length > this.maxDeltas || pending.some((change) => change.prefix === null)) result = await this.readAll();
      else {
        for (const change of pending) this.refresh(change.prefix!.address, change.prefix!.length);
        this.applied = pending[pending.length - 1]?.seq ?? this.applied;
        result = { kind: 'delta', changes: pending.length };
      }
    }
    const expired = this.expire();
    return expired === 0 ? result : { kind: result.kind === 'none' ? 'delta' : result.kind, changes: result.changes + expired };
  }

  /** Sets or deletes one prefix as the store has it now. */
  private refresh(address: number, length: number): void {
    const value = this.options.log.value(address, length);
    if (value === undefined) this.table.delete(address, length);
    else this.table.set(address, length, value);
    this.options.onMapping?.(address, length, value);
  }

  /** Drops the mappings whose lifetime ended since the last sync: expiry writes nothing to the log. */
  private expire(): number {
    const now = this.now();
    if (now <= this.expiredThrough) return 0;
    const gone = this.options.log.expiredBetween(this.expiredThrough, now);
    this.expiredThrough = now;
    for (const prefix of gone) this.refresh(prefix.address, prefix.length);
    return gone.length;
  }

  /** The whole re-read: pages in, mark and sweep, then the log entries written meanwhile. */
  private async readAll(): Promise<SyncResult> {
    const log = this.options.log;
    const start = log.position().head;
    this.expiredThrough = this.now();
    const table = this.table;
    let sliceStart = this.monotonic();
    this.longestSliceMs = 0;
    const yieldIfDue = async (): Promise<void> => {
      const held = this.monotonic() - sliceStart;
      if (held < this.sliceMs) return;
      this.longestSliceMs = Math.max(this.longestSliceMs, held);
      await this.pause();
      if (this.cancelled) throw new ReconcileCancelled();
      sliceStart = this.monotonic();
    };
    table.reserve(log.idBound()); // one allocation of the whole table: tens of ms at a million
    await yieldIfDue();
    table.startMarking();
    let rows = 0;
    let after = 0;
    let pageRows = Math.min(this.pageRows, 32);
    try {
      for (;;) {
        // Pages start small and double: the first ones run cold (SQLite's cache, unoptimised code).
        const page = log.page(after, pageRows);
        for (let i = 0; i + 3 < page.length; i += 4) table.set(page[i + 1]!, page[i + 2]!, page[i + 3]!);
        rows += page.length / 4;
        if (page.length < 4 * pageRows) break;
        pageRows = Math.min(this.pageRows, pageRows * 2);
        after = page[page.length - 4]!;
        await yieldIfDue();
      }
    } finally {
      table.stopMarking();
    }
    await yieldIfDue();
    // Sweep: list everything the pages did not set (in ranges, yielding), then delete it.
    const unmarked = { networks: [] as number[], lengths: [] as number[] };
    for (let from = 0; from < table.slots; from += SWEEP_SLOTS) {
      table.collectUnmarked(from, from + SWEEP_SLOTS, unmarked);
      await yieldIfDue();
    }
    for (let k = 0; k < unmarked.networks.length; k++) {
      table.delete(unmarked.networks[k]!, unmarked.lengths[k]!);
      if ((k & 1023) === 1023) await yieldIfDue();
    }
    this.longestSliceMs = Math.max(this.longestSliceMs, this.monotonic() - sliceStart);
    this.applied = start;
    this.fullReads++;
    // What was written while the pages were read: in the log after `start`.
    const pending = log.changesSince(start, this.maxDeltas + 1);
    if (pending.length <= this.maxDeltas && !pending.some((change) => change.prefix === null)) {
      for (const change of pending) this.refresh(change.prefix!.address, change.prefix!.length);
      this.applied = pending[pending.length - 1]?.seq ?? start;
    }
    return { kind: 'full', changes: rows + unmarked.networks.length + pending.length };
  }
}
