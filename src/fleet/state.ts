// The fleet as this host has applied it: the valid host records by MSNL address, the view derived
// from them, and the batch each watch response or re-list turns into. Pure: the session feeds it
// etcd's key-values and writes the batches it returns to the store.
import { formatDottedQuad } from '../abi/inet.js';
import type { Logger } from '../base/logger.js';
import type { ClusterBatch, StoredClusterHost } from '../store/fleet-store.js';
import { addressOfKey, decodeRecord, encodeRecord, recordKey } from './record.js';
import { formatIpv4Prefix, type Ipv4Prefix } from '../abi/inet.js';
import {
  compareConflicts, decideClaim, diffViews, resolveFleet, routeTo, sameMapping, sameRoute,
  type ClusterMapping, type ClusterRoute, type Conflict, type FleetHost, type FleetView,
} from './resolve.js';

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

/**
 * Kept incrementally: a watch response touching k hosts costs O(their prefixes), not O(fleet)
 * (resolveFleet over 2 000 hosts x 10 prefixes takes ~100 ms; one host's change well under 1 ms).
 * The result is the same as resolveFleet over all hosts (test/fleet/resolve.test.ts checks it).
 */
export class FleetState {
  readonly hosts = new Map<number, FleetHost>();
  revision = 0;
  skipped = 0;
  /** Claimants of each prefix, by `a.b.c.d/len`. */
  private readonly claims = new Map<string, { prefix: Ipv4Prefix; claimants: FleetHost[] }>();
  private readonly mappings = new Map<string, ClusterMapping>();
  private readonly routes = new Map<number, ClusterRoute>();
  private readonly conflicts = new Map<string, Conflict>();

  constructor(
    private self: number,
    private readonly log: Logger,
  ) {}

  get selfAddress(): number {
    return this.self;
  }

  /** The mappings, routes and conflicts this host applies now. */
  get view(): FleetView {
    return { mappings: this.mappings, routes: this.routes, conflicts: [...this.conflicts.values()].sort(compareConflicts) };
  }

  /** A copy of the view, unaffected by later changes. */
  private copyView(): FleetView {
    return { mappings: new Map(this.mappings), routes: new Map(this.routes), conflicts: this.view.conflicts };
  }

  get conflictCount(): number {
    return this.conflicts.size;
  }

  /** Loads the cache (records as last applied); the view then matches the stored cluster rows. */
  load(stored: readonly StoredClusterHost[], revision: number): void {
    const hosts: FleetHost[] = [];
    for (const h of stored) {
      const record = decodeRecord(recordKey(h.msnlAddress), h.record);
      if (typeof record === 'string') continue; // cannot be: only valid records are stored
      hosts.push({ record, lease: h.lease, createRevision: h.createRevision, modRevision: h.modRevision });
    }
    this.rebuild(hosts);
    this.revision = revision;
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
    const dirty = new Set<string>();
    for (const { type, kv } of events) {
      const address = addressOfKey(kv.key);
      if (typeof address === 'string') {
        if (type === 'put') this.decode(kv); // logs it
        continue;
      }
      this.setHost(address, type === 'put' ? this.decode(kv) : undefined, dirty);
      touched.add(address);
    }
    const putHosts: StoredClusterHost[] = [];
    const delHosts: number[] = [];
    for (const address of touched) {
      const host = this.hosts.get(address);
      if (host === undefined) delHosts.push(address);
      else putHosts.push(this.stored(host));
    }
    this.revision = Math.max(revision, this.revision);
    return { revision: this.revision, putHosts, delHosts, ...this.recompute(dirty, touched) };
  }

  /** Replaces every record by a full listing at `revision` (start-up without cache, or after a compaction). */
  relist(kvs: readonly Kv[], revision: number): ClusterBatch {
    const hosts = new Map<number, FleetHost>();
    for (const kv of kvs) {
      const address = addressOfKey(kv.key);
      const host = this.decode(kv);
      if (host !== undefined && typeof address === 'number') hosts.set(address, host);
    }
    const before = this.copyView();
    this.rebuild([...hosts.values()]);
    this.logNewConflicts(before.conflicts, this.view.conflicts);
    this.revision = revision;
    return { revision, replaceHosts: true, putHosts: [...this.hosts.values()].map((h) => this.stored(h)), delHosts: [], ...diffViews(before, this.view) };
  }

  /** This host's MSNL address changed: its own prefixes are no longer mapped to it, and the others' are. */
  setSelf(address: number): ClusterBatch | undefined {
    if (address === this.self) return undefined;
    this.self = address;
    const before = this.copyView();
    this.rebuild([...this.hosts.values()]);
    return { revision: this.revision, putHosts: [], delHosts: [], ...diffViews(before, this.view) };
  }

  private rebuild(hosts: readonly FleetHost[]): void {
    this.hosts.clear();
    this.claims.clear();
    this.mappings.clear();
    this.routes.clear();
    this.conflicts.clear();
    const view = resolveFleet(hosts, this.self);
    for (const h of hosts) {
      this.hosts.set(h.record.msnlAddress, h);
      this.addClaims(h, undefined);
    }
    for (const [k, m] of view.mappings) this.mappings.set(k, m);
    for (const [a, r] of view.routes) this.routes.set(a, r);
    for (const c of view.conflicts) this.conflicts.set(formatIpv4Prefix(c.prefix), c);
  }

  private addClaims(host: FleetHost, dirty: Set<string> | undefined): void {
    for (const prefix of host.record.prefixes) {
      const key = formatIpv4Prefix(prefix);
      const claim = this.claims.get(key);
      if (claim === undefined) this.claims.set(key, { prefix, claimants: [host] });
      else if (!claim.claimants.some((c) => c.record.msnlAddress === host.record.msnlAddress)) claim.claimants.push(host);
      dirty?.add(key);
    }
  }

  private setHost(address: number, host: FleetHost | undefined, dirty: Set<string>): void {
    const old = this.hosts.get(address);
    if (old !== undefined) {
      for (const prefix of old.record.prefixes) {
        const key = formatIpv4Prefix(prefix);
        const claim = this.claims.get(key);
        if (claim === undefined) continue;
        claim.claimants = claim.claimants.filter((c) => c.record.msnlAddress !== address);
        if (claim.claimants.length === 0) this.claims.delete(key);
        dirty.add(key);
      }
    }
    if (host === undefined) {
      this.hosts.delete(address);
      return;
    }
    this.hosts.set(address, host);
    this.addClaims(host, dirty);
  }

  /** Decides the dirty prefixes and touched hosts' routes again; the writes that changes. */
  private recompute(dirty: ReadonlySet<string>, touched: ReadonlySet<number>): Pick<ClusterBatch, 'putMappings' | 'delMappings' | 'putRoutes' | 'delRoutes'> {
    const putMappings: ClusterMapping[] = [];
    const delMappings: Ipv4Prefix[] = [];
    const putRoutes: ClusterRoute[] = [];
    const delRoutes: number[] = [];
    for (const key of dirty) {
      const claim = this.claims.get(key);
      const decided = claim === undefined ? {} : decideClaim(claim.prefix, claim.claimants, this.self);
      const old = this.mappings.get(key);
      if (!sameMapping(old, decided.mapping)) {
        if (decided.mapping === undefined) {
          this.mappings.delete(key);
          delMappings.push(old!.prefix);
        } else {
          this.mappings.set(key, decided.mapping);
          putMappings.push(decided.mapping);
        }
      }
      const before = this.conflicts.get(key);
      if (decided.conflict === undefined) this.conflicts.delete(key);
      else {
        this.conflicts.set(key, decided.conflict);
        if (before === undefined || conflictText(before) !== conflictText(decided.conflict)) this.logNewConflicts([], [decided.conflict]);
      }
    }
    for (const address of touched) {
      const host = this.hosts.get(address);
      const route = host === undefined ? undefined : routeTo(host, this.self);
      const old = this.routes.get(address);
      if (sameRoute(old, route)) continue;
      if (route === undefined) {
        this.routes.delete(address);
        delRoutes.push(address);
      } else {
        this.routes.set(address, route);
        putRoutes.push(route);
      }
    }
    return { putMappings, delMappings, putRoutes, delRoutes };
  }

  private logNewConflicts(before: readonly Conflict[], after: readonly Conflict[]): void {
    const known = new Set(before.map(conflictText));
    for (const c of after) if (!known.has(conflictText(c))) this.log.warn(`fleet: conflict over ${conflictText(c)} (the older claim wins on every host)`);
  }

  private stored(h: FleetHost): StoredClusterHost {
    return { msnlAddress: h.record.msnlAddress, record: encodeRecord(h.record), lease: h.lease, createRevision: h.createRevision, modRevision: h.modRevision };
  }
}
