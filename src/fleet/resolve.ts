// From the fleet's host records to the mappings and routes one host applies, and the difference
// between two such views. Pure and deterministic: every host that holds the same records computes
// the same winners, whatever order the records arrived in.
//
// Conflicts: when several hosts claim one prefix, the record created first in etcd wins (the
// lower create_revision, which is also the older lease's claim; etcd revisions are cluster-wide);
// on equal revisions (never in one etcd, but cached records may meet) the lower MSNL address.
import { formatDottedQuad, formatIpv4Prefix, type Ipv4Prefix } from '../abi/inet.js';
import type { HostRecord } from './record.js';

export interface FleetHost {
  readonly record: HostRecord;
  /** The etcd lease id (decimal text: ids are 64-bit), '0' when unknown. */
  readonly lease: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ClusterMapping {
  readonly prefix: Ipv4Prefix;
  readonly msnlAddress: number;
  /** Says which fleet host the entry came from, and any conflict over its prefix. */
  readonly comment: string;
}

export interface ClusterRoute {
  readonly msnlAddress: number;
  readonly host: string;
  readonly port: number;
  readonly publicKey: Uint8Array | null;
}

export interface Conflict {
  readonly prefix: Ipv4Prefix;
  readonly winner: number;
  /** The other claimants, in the order they lose. */
  readonly losers: readonly number[];
}

export interface FleetView {
  /** By `a.b.c.d/len`. */
  readonly mappings: ReadonlyMap<string, ClusterMapping>;
  /** By MSNL address. */
  readonly routes: ReadonlyMap<number, ClusterRoute>;
  readonly conflicts: readonly Conflict[];
}

export const EMPTY_VIEW: FleetView = { mappings: new Map(), routes: new Map(), conflicts: [] };

/** Orders claimants: the first one wins. */
export function compareClaims(a: FleetHost, b: FleetHost): number {
  if (a.createRevision !== b.createRevision) return a.createRevision - b.createRevision;
  return a.record.msnlAddress - b.record.msnlAddress;
}

/**
 * What host `self` applies: a mapping for each prefix another host wins (none for prefixes this
 * host wins itself: they are its own), a /32 route to each other host's first endpoint with its
 * key, and every conflict.
 */
export function resolveFleet(hosts: Iterable<FleetHost>, self: number): FleetView {
  const claims = new Map<string, { prefix: Ipv4Prefix; claimants: FleetHost[] }>();
  const routes = new Map<number, ClusterRoute>();
  for (const host of hosts) {
    const { record } = host;
    const route = routeTo(host, self);
    if (route !== undefined) routes.set(record.msnlAddress, route);
    for (const prefix of record.prefixes) {
      const key = formatIpv4Prefix(prefix);
      const claim = claims.get(key);
      if (claim === undefined) claims.set(key, { prefix, claimants: [host] });
      else if (!claim.claimants.some((c) => c.record.msnlAddress === record.msnlAddress)) claim.claimants.push(host);
    }
  }
  const mappings = new Map<string, ClusterMapping>();
  const conflicts: Conflict[] = [];
  for (const [key, { prefix, claimants }] of claims) {
    const decided = decideClaim(prefix, claimants, self);
    if (decided.conflict !== undefined) conflicts.push(decided.conflict);
    if (decided.mapping !== undefined) mappings.set(key, decided.mapping);
  }
  conflicts.sort(compareConflicts);
  return { mappings, routes, conflicts };
}

export function compareConflicts(a: Conflict, b: Conflict): number {
  return a.prefix.address - b.prefix.address || a.prefix.length - b.prefix.length;
}

/** One prefix's claimants (sorted in place): the mapping `self` applies for it, if any, and the conflict, if any. */
export function decideClaim(prefix: Ipv4Prefix, claimants: FleetHost[], self: number): { mapping?: ClusterMapping; conflict?: Conflict } {
  claimants.sort(compareClaims);
  const winner = claimants[0]!.record.msnlAddress;
  const losers = claimants.slice(1).map((c) => c.record.msnlAddress);
  const conflict = losers.length > 0 ? { prefix, winner, losers } : undefined;
  if (winner === self) return { conflict };
  const comment = losers.length === 0
    ? `fleet host ${formatDottedQuad(winner)}`
    : `fleet host ${formatDottedQuad(winner)}; conflict: also claimed by ${losers.map(formatDottedQuad).join(', ')} (older claim wins)`;
  return { mapping: { prefix, msnlAddress: winner, comment }, conflict };
}

/** The route `self` applies to a host, if any (none to itself, none without an endpoint). */
export function routeTo(host: FleetHost, self: number): ClusterRoute | undefined {
  const first = host.record.endpoints[0];
  if (host.record.msnlAddress === self || first === undefined) return undefined;
  return { msnlAddress: host.record.msnlAddress, host: first.host, port: first.port, publicKey: host.record.publicKey };
}

export function sameMapping(a: ClusterMapping | undefined, b: ClusterMapping | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.msnlAddress === b.msnlAddress && a.comment === b.comment;
}

export function sameRoute(a: ClusterRoute | undefined, b: ClusterRoute | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.host === b.host && a.port === b.port && sameKey(a.publicKey, b.publicKey);
}

export interface FleetDiff {
  readonly putMappings: readonly ClusterMapping[];
  readonly delMappings: readonly Ipv4Prefix[];
  readonly putRoutes: readonly ClusterRoute[];
  readonly delRoutes: readonly number[];
}

function sameKey(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The writes that turn `before` into `after`; empty lists when nothing changed. */
export function diffViews(before: FleetView, after: FleetView): FleetDiff {
  const putMappings: ClusterMapping[] = [];
  const delMappings: Ipv4Prefix[] = [];
  const putRoutes: ClusterRoute[] = [];
  const delRoutes: number[] = [];
  for (const [key, m] of after.mappings) {
    const old = before.mappings.get(key);
    if (old === undefined || old.msnlAddress !== m.msnlAddress || old.comment !== m.comment) putMappings.push(m);
  }
  for (const [key, m] of before.mappings) if (!after.mappings.has(key)) delMappings.push(m.prefix);
  for (const [address, r] of after.routes) {
    const old = before.routes.get(address);
    if (old === undefined || old.host !== r.host || old.port !== r.port || !sameKey(old.publicKey, r.publicKey)) putRoutes.push(r);
  }
  for (const address of before.routes.keys()) if (!after.routes.has(address)) delRoutes.push(address);
  return { putMappings, delMappings, putRoutes, delRoutes };
}

export function isEmptyDiff(diff: FleetDiff): boolean {
  return diff.putMappings.length + diff.delMappings.length + diff.putRoutes.length + diff.delRoutes.length === 0;
}
