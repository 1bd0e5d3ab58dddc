// What the path MTU searches found, per underlay path (msnl(7) Path MTU: a host MAY share results
// between the connections of one path). The path MTU is a property of the path, not of a
// connection: with thousands of connections to one peer host, each running its own search would
// cost hundreds of size probes a second for a minute after they come up. So one connection of a
// path searches and confirms (its owner), the others adopt its result (PathMtu.adopt) and send no
// size probes; a connection that comes while the owner searches waits for its result. A result
// left by an owner that went away is trusted until its next confirmation would have been due;
// after that the next connection to look becomes the owner and confirms or searches again. A
// too-big report lowers a result; only a search raises one. Bounded: the least recently added
// path goes first. Pure: time comes in; a path is the underlay's path key of a link (over UDP the
// peer's address, whatever its port), or without one the link itself by the underlay's `same`.

import type { PathMtu } from './pmtu.js';

/** At most this many paths are remembered. */
export const PATH_CACHE_ENTRIES = 1024;

/** The connection side a shared path needs: its path MTU state and whether it is still open. */
export interface PathUser {
  readonly path: PathMtu;
}

export interface SharedPath<L, C extends PathUser> {
  readonly link: L;
  /** The connection that searches and confirms for the path, with the PathMtu it did it in. */
  owner: C | null;
  ownerPath: PathMtu | null;
  /** A result left by an owner that went away, trusted until `freshUntil`. */
  size: number;
  freshUntil: number;
  /** Connections that wait for the owner's search. */
  readonly waiters: Set<C>;
}

export class PathCache<L, C extends PathUser> {
  private readonly byLink = new Map<unknown, SharedPath<L, C>>();

  constructor(
    private readonly sameLink: (a: L, b: L) => boolean,
    private readonly isOpen: (conn: C) => boolean,
    private readonly keyOf: ((link: L) => string | number) | null = null,
    private readonly maxEntries = PATH_CACHE_ENTRIES,
  ) {}

  get size(): number {
    return this.byLink.size;
  }

  /** The path of `link`, if one is remembered. */
  find(link: L): SharedPath<L, C> | undefined {
    if (this.keyOf !== null) return this.byLink.get(this.keyOf(link));
    const hit = this.byLink.get(link);
    if (hit !== undefined) return hit;
    for (const entry of this.byLink.values()) if (this.sameLink(entry.link, link)) return entry;
    return undefined;
  }

  /** The path of `link`, remembered from now on. */
  entry(link: L): SharedPath<L, C> {
    const found = this.find(link);
    if (found !== undefined) return found;
    if (this.byLink.size >= this.maxEntries) {
      const oldest = this.byLink.keys().next();
      if (oldest.done !== true) this.byLink.delete(oldest.value);
    }
    const entry: SharedPath<L, C> = { link, owner: null, ownerPath: null, size: 0, freshUntil: -Infinity, waiters: new Set() };
    this.byLink.set(this.keyOf === null ? link : this.keyOf(link), entry);
    return entry;
  }

  /** True when the owner is open and still on the path it searches. */
  ownerLive(entry: SharedPath<L, C>): boolean {
    return entry.owner !== null && entry.ownerPath !== null && entry.owner.path === entry.ownerPath && this.isOpen(entry.owner);
  }

  /** The size a connection of the path may use without probing now, or 0 when there is none. */
  result(entry: SharedPath<L, C> | undefined, now: number): number {
    if (entry === undefined) return 0;
    if (this.ownerLive(entry)) return entry.ownerPath!.phase === 'done' && entry.ownerPath!.confirmed > 0 ? entry.ownerPath!.maxDatagram : 0;
    return now < entry.freshUntil ? entry.size : 0;
  }

  /** The owner's search settled: every connection waiting for it takes its result. */
  settled(entry: SharedPath<L, C>, now: number): void {
    const path = entry.ownerPath;
    if (path === null || path.phase !== 'done' || path.confirmed === 0) return;
    for (const conn of entry.waiters) if (this.isOpen(conn) && conn !== entry.owner) conn.path.adopt(path.maxDatagram, now);
    entry.waiters.clear();
  }

  /** `conn` closes or leaves the path: an owner leaves its result, trusted until its next confirmation. */
  leave(conn: C, link: L, now: number, confirmMs: number): void {
    const entry = this.find(link);
    if (entry === undefined) return;
    entry.waiters.delete(conn);
    if (entry.owner !== conn) return;
    const path = entry.ownerPath;
    if (path !== null && path.phase === 'done' && path.confirmed > 0) {
      entry.size = path.maxDatagram;
      entry.freshUntil = Math.min(path.nextProbeAt, now + confirmMs);
    }
    entry.owner = entry.ownerPath = null;
  }

  /** A too-big report on `link`: a left result never stays above what fits (`fits`: 0 none named). */
  tooBig(link: L, fits: number): void {
    const entry = this.find(link);
    if (entry === undefined || fits <= 0 || entry.size <= fits) return;
    entry.size = fits;
  }
}
