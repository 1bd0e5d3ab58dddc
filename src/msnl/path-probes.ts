// The path MTU searches of all connections (pmtu.ts, msnl(7) Path MTU): a new search starts from
// what the underlay says of a link's route, and the size probes of all connections share one
// budget, config.sizeProbeRatePerSecond with a burst: a probe over it waits in line, its
// connection's path timer parked, and goes when the budget has room again, oldest first. Each
// probe is padded so the datagram (sealed or not) is exactly the size its search asks for. The
// connections of one underlay path share one search (path-cache.ts): one searches and confirms,
// the others adopt its result without size probes. Pure.

import type { Clock } from '../base/clock.js';
import { TokenBucket } from '../base/token-bucket.js';
import type { Connection } from './connection.js';
import type { EndpointOptions } from './endpoint-options.js';
import { PathCache } from './path-cache.js';
import { BASE_DATAGRAM, CONFIRM_INTERVAL_MS, MIN_DATAGRAM, PathMtu } from './pmtu.js';
import { SEAL_OVERHEAD } from './secure-wire.js';
import type { EndpointConfig, EndpointCounters } from './types.js';
import { encodeSizeProbe } from './wire.js';

/** The largest UDP payload over IPv4 (65535 - 20 - 8). */
const MAX_UDP_DATAGRAM = 65507;

export interface PathProbeHost<L> {
  readonly counters: EndpointCounters;
  /** True while `conn` is an open connection of the endpoint. */
  isOpen(conn: Connection<L>): boolean;
  /** Takes `conn` out of the deadline heap (its deadline is set again after the tick). */
  unschedule(conn: Connection<L>): void;
  /** Sends one frame on `conn` (sealed when it is keyed). */
  connOut(conn: Connection<L>, bytes: Uint8Array): void;
  /** What the underlay says of a link's route to an MSNL address (EndpointOptions.pathLimitOf). */
  readonly pathLimitOf: EndpointOptions<L>['pathLimitOf'];
  /** True when two links are one peer (EndpointOptions.sameLink). */
  sameLink(a: L, b: L): boolean;
  /** The underlay path of a link (EndpointOptions.pathKeyOf); absent: sameLink's links. */
  readonly pathKeyOf: EndpointOptions<L>['pathKeyOf'];
}

export class PathProbes<L> {
  private readonly bucket: TokenBucket;
  /** Connections whose size probe waits for the budget, in order of arrival. */
  private readonly queue = new Set<Connection<L>>();
  /** The search results and searching connections of each underlay path. */
  readonly shared: PathCache<L, Connection<L>>;

  constructor(private readonly config: EndpointConfig, private readonly clock: Clock, private readonly host: PathProbeHost<L>) {
    this.bucket = new TokenBucket(config.sizeProbeRatePerSecond, config.sizeProbeBurst, () => clock.now());
    this.shared = new PathCache((a, b) => host.sameLink(a, b), (conn) => host.isOpen(conn), host.pathKeyOf ?? null);
  }

  /** A new path MTU state for `link` to `address`, starting from what the underlay says of its route. */
  pathFor(link: L, now: number, address: number): PathMtu {
    const { config } = this;
    const limit = this.host.pathLimitOf?.(link, address);
    const max = Math.min(limit?.maxDatagram ?? config.maxDatagram, MAX_UDP_DATAGRAM);
    const path = new PathMtu(max, now, limit?.pinned === true || !config.pathProbing, config.firstSizeProbeMs);
    if (path.phase === 'pinned') return path;
    const found = this.shared.result(this.shared.find(link), now);
    if (found > 0) path.adopt(found, now);
    return path;
  }

  /**
   * The connection's path search wants a probe now: sent within the budget, or queued; or none,
   * when another connection of its path searches (it waits) or has a result (it is adopted).
   */
  due(conn: Connection<L>, now: number): void {
    if (!this.turn(conn, now)) return;
    if (this.queue.size === 0 && this.bucket.take()) this.send(conn, now);
    else {
      // Over the budget: the connection waits in line, its path timer parked, and is not
      // visited again until its turn (drain).
      conn.path.nextProbeAt = Infinity;
      this.queue.add(conn);
    }
  }

  /** One probe's worth of the budget for a standby exit's size probe, which never waits in line: false when there is none. */
  take(): boolean {
    return this.queue.size === 0 && this.bucket.take();
  }

  /**
   * Sends the waiting size probes the budget allows, oldest first; their connections go into
   * `due` to have their deadlines set again.
   */
  drain(now: number, due: Connection<L>[]): void {
    for (const conn of this.queue) {
      if (!this.host.isOpen(conn)) {
        this.queue.delete(conn);
        continue;
      }
      if (!this.bucket.take()) return;
      this.queue.delete(conn);
      conn.path.nextProbeAt = now;
      this.send(conn, now);
      this.host.unschedule(conn);
      due.push(conn);
    }
  }

  /** The connection closed. */
  forget(conn: Connection<L>): void {
    this.queue.delete(conn);
    this.shared.leave(conn, conn.pathLink, this.clock.now(), CONFIRM_INTERVAL_MS);
  }

  /** A too-big report on `link` (`maxPayload` 0: no size named): a result left there is lowered too. */
  tooBig(link: L, maxPayload: number): void {
    this.shared.tooBig(link, maxPayload <= 0 ? BASE_DATAGRAM : Math.max(MIN_DATAGRAM, Math.floor(maxPayload)));
  }

  // Whether the connection's own search goes on now: it does when it owns its path's search (or
  // becomes the owner: no live owner and no trusted result). Otherwise it adopts the result there
  // is, or waits for the owner's (looking again after a confirmation interval, should the owner
  // go away mid-search).
  private turn(conn: Connection<L>, now: number): boolean {
    const path = conn.path;
    if (path.phase === 'pinned') return true;
    const entry = this.shared.entry(conn.pathLink);
    if (entry.owner === conn && entry.ownerPath === path) return true;
    const found = this.shared.result(entry, now);
    if (found > 0) {
      path.adopt(found, now);
      return false;
    }
    if (this.shared.ownerLive(entry)) {
      path.nextProbeAt = now + CONFIRM_INTERVAL_MS;
      entry.waiters.add(conn);
      return false;
    }
    entry.owner = conn;
    entry.ownerPath = path;
    entry.waiters.delete(conn);
    return true;
  }

  /** When drain() next has work, or Infinity. */
  nextAt(): number {
    return this.queue.size === 0 ? Infinity : this.bucket.nextTokenAt();
  }

  // Sends the size probe the connection's path search asks for, if any.
  private send(conn: Connection<L>, now: number): void {
    const size = conn.path.probe(now);
    if (conn.path.phase === 'done' && conn.path.confirmed > 0) {
      const entry = this.shared.find(conn.pathLink);
      if (entry !== undefined && entry.owner === conn && entry.waiters.size > 0) this.shared.settled(entry, now);
    }
    if (size === 0) return;
    const inner = conn.secure !== null ? size - SEAL_OVERHEAD : size;
    this.host.counters.sizeProbesSent++;
    this.host.connOut(conn, encodeSizeProbe(false, conn.remoteConnId, conn.path.seq, now >>> 0, inner));
  }
}
