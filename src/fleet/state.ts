// The fleet as this host has applied it: the valid host records by MSNL address, the view derived
// from them, and the batch each watch response or re-list turns into. Pure: the session feeds it
// etcd's key-values and writes the batches it returns to the store.
import { formatDottedQuad } from '../abi/inet.js';
import type { Logger } from '../base/logger.js';
import type { ClusterBatch, StoredClusterHost } from '../store/fleet-store.js';
import { addressOfKey, decodeRecord, encodeRecord, recordKey } from './record.js';
import { EMPTY_VIEW, diffViews, resolveFleet, type Conflict, type FleetHost, type FleetView } from './resolve.js';

/** An etcd key-value as the state needs it (src/fleet/etcd.ts KeyValue fits). */
export interface Kv {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string;
}

export interface KvEvent {
  readonly type: 'put' | 'delete';
  readonly kv: Kv;
}

function conflictText(c: Conflict): string {
  return `${formatDottedQuad(c.prefix.address)}/${c.prefix.length}: ${formatDottedQuad(c.winner)} wins over ${c.losers.map(formatDottedQuad).join(', ')}`;
}

export class FleetState {
  readonly hosts = new Map<number, FleetHost>();
  view: FleetView = EMPTY_VIEW;
  revision = 0;
  skipped = 0;

  constructor(
    private self: number,
    private readonly log: Logger,
  ) {}

  get selfAddress(): number {
    return this.self;
  }

  /** Loads the cache (records as last applied); the view then matches the stored cluster rows. */
  load(stored: readonly StoredClusterHost[], revision: number): void {
    this.hosts.clear();
    for (const h of stored) {
      const record = decodeRecord(recordKey(h.msnlAddress), h.record);
      if (typeof record === 'string') continue; // cannot be: only valid records are stored
      this.hosts.set(h.msnlAddress, { record, lease: h.lease, createRevision: h.createRevision, modRevision: h.modRevision });
    }
    this.revision = revision;
    this.view = resolveFleet(this.hosts.values(), this.self);
  }

  /** Checks one key-value; the host it describes, or undefined (logged) when it is not valid. */
  private decode(kv: Kv): FleetHost | undefined {
    const record = decodeRecord(kv.key, kv.value);
    if (typeof record === 'string') {
      this.skipped++;
      this.log.warn(`fleet: skipped the record at ${JSON.stringify(kv.key.slice(0, 100))} (revision ${kv.modRevision}): ${record}`);
      return undefined;
    }
    return { record, lease: kv.lease, createRevision: kv.createRevision, modRevision: kv.modRevision };
  }

  /** Applies one watch response's events at `revision`; the batch to store (always: it moves the revision). */
  applyEvents(events: readonly KvEvent[], revision: number): ClusterBatch {
    const touched = new Set<number>();
    for (const { type, kv } of events) {
      const address = addressOfKey(kv.key);
      if (typeof address === 'string') {
        if (type === 'put') this.decode(kv); // logs it
        continue;
      }
      const host = type === 'put' ? this.decode(kv) : undefined;
      if (host === undefined) this.hosts.delete(address);
      else this.hosts.set(address, host);
      touched.add(address);
    }
    const putHosts: StoredClusterHost[] = [];
    const delHosts: number[] = [];
    for (const address of touched) {
      const host = this.hosts.get(address);
      if (host === undefined) delHosts.push(address);
      else putHosts.push(this.stored(host));
    }
    return this.finish({ revision: Math.max(revision, this.revision), putHosts, delHosts });
  }

  /** Replaces every record by a full listing at `revision` (start-up without cache, or after a compaction). */
  relist(kvs: readonly Kv[], revision: number): ClusterBatch {
    this.hosts.clear();
    for (const kv of kvs) {
      const address = addressOfKey(kv.key);
      const host = this.decode(kv);
      if (host !== undefined && typeof address === 'number') this.hosts.set(address, host);
    }
    return this.finish({ revision, replaceHosts: true, putHosts: [...this.hosts.values()].map((h) => this.stored(h)), delHosts: [] });
  }

  /** This host's MSNL address changed: its own prefixes are no longer mapped to it, and the others' are. */
  setSelf(address: number): ClusterBatch | undefined {
    if (address === this.self) return undefined;
    this.self = address;
    return this.finish({ revision: this.revision, putHosts: [], delHosts: [] });
  }

  private stored(h: FleetHost): StoredClusterHost {
    return { msnlAddress: h.record.msnlAddress, record: encodeRecord(h.record), lease: h.lease, createRevision: h.createRevision, modRevision: h.modRevision };
  }

  private finish(part: Pick<ClusterBatch, 'revision' | 'replaceHosts' | 'putHosts' | 'delHosts'>): ClusterBatch {
    const before = this.view;
    const after = resolveFleet(this.hosts.values(), this.self);
    const diff = diffViews(before, after);
    const known = new Set(before.conflicts.map(conflictText));
    for (const c of after.conflicts) if (!known.has(conflictText(c))) this.log.warn(`fleet: conflict over ${conflictText(c)} (the older claim wins on every host)`);
    this.view = after;
    this.revision = part.revision;
    return { ...part, ...diff };
  }
}
