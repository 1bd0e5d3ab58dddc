// One sampler of tunnel health for the whole daemon, running whether or not anyone watches:
// every HEALTH_SAMPLE_MS it reads each open connection's health and, for each change of state
// (up, half, down), pushes a `health` event to `msnl monitor` and, once a tunnel has been up,
// logs the change once, with why (a peer that goes silent is logged when it goes silent, not
// when it comes back). Connections are keyed by id; ids that disappear are forgotten (the
// manager logs the connection going down). A sample reads every connection or, when none came or
// went, only those due(): an up one whose cached up time has passed (kept in buckets by second)
// and any not up or read at the last sample.

import { formatDottedQuad } from '../abi/inet.js';
import type { Logger } from '../base/logger.js';
import type { HealthState } from '../control/rows.js';
import type { Health } from '../msnl/types.js';
import type { DaemonEvents } from './events.js';

/** How often the daemon samples tunnel health. */
export const HEALTH_SAMPLE_MS = 1000;

/** What the watch reads of a connection (a subset of the daemon's ConnectionView). */
export interface WatchedConnection {
  readonly conn: number;
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number;
  readonly health: Health | undefined;
}

export function healthState(h: Health): HealthState {
  return h.up ? 'up' : h.txProven || h.rxProven ? 'half' : 'down';
}

/** Why a tunnel is not up, in words; null when it is. */
export function healthReason(h: Health): string | null {
  if (h.up) return null;
  const heard = Number.isFinite(h.lastHeardMs) ? `nothing heard from the peer for ${(h.lastHeardMs / 1000).toFixed(1)} s` : 'nothing heard from the peer yet';
  if (h.txProven) return heard;
  if (h.rxProven) return 'our probes are not answered';
  return `${heard}, our probes are not answered`;
}

export class HealthWatch {
  /** Last state per connection id, and whether that connection was ever up. */
  private readonly states = new Map<number, { state: HealthState; wasUp: boolean; seen: number; until: number }>();
  private round = 0;
  /** Up connections by the second after their cached `until` (stillUpAt): due() then. May hold
   *  ids since forgotten or cached again later; due() callers skip those cheaply. */
  private readonly wheel = new Map<number, number[]>();
  /** Connections read by the last sample (not up, or changed): due at the next. */
  private readonly recheck = new Set<number>();
  /** The connections' generation at the last complete sample (second()). */
  private generation = NaN;

  constructor(
    private readonly log: Logger,
    private readonly events: DaemonEvents,
  ) {}

  /**
   * Reads `connections` (all there are when `complete`, so the ones not among them are forgotten;
   * else those due()) and says what changed.
   */
  sample(connections: Iterable<WatchedConnection>, complete = true): void {
    const round = ++this.round;
    for (const c of connections) {
      if (c.health === undefined) continue;
      this.recheck.add(c.conn);
      const state = healthState(c.health);
      const before = this.states.get(c.conn);
      if (before !== undefined && before.state === state) {
        before.seen = round;
        continue;
      }
      this.states.set(c.conn, { state, wasUp: (before?.wasUp ?? false) || state === 'up', seen: round, until: -Infinity });
      // A tunnel coming up for the first time (a call storm's thousands each second) is news only
      // to a monitor: the manager logged it; no text is made for it otherwise.
      const logged = before?.wasUp === true;
      if (!logged && !this.events.listening) continue;
      const reason = healthReason(c.health);
      const peer = formatDottedQuad(c.peerIp);
      const remote = formatDottedQuad(c.remoteMsnl);
      this.events.emit({ event: 'health', interface: c.interfaceName, connection: c.conn, peer_ip: peer, remote_address: remote, state, reason });
      if (!logged) continue;
      const what = `${c.interfaceName}: tunnel to ${peer} (connection ${c.conn}, MSNL ${remote})`;
      if (state === 'up') this.log.info(`${what} up again`);
      else this.log.warn(`${what} ${state}: ${reason ?? ''}`);
    }
    if (complete) for (const [id, entry] of this.states) if (entry.seen !== round) this.states.delete(id);
  }

  /**
   * The daemon's second: a sample of every connection (`all`) when the set of connections changed
   * since the last such sample (`generation`, Manager.connectionsGeneration: a new one must be
   * seen, a gone one forgotten), else of those due() only (`only`): an idle host with 20 000
   * connections reads the few thousand whose cached up time passed, not all of them.
   */
  second(now: number, generation: number, all: (now: number) => Iterable<WatchedConnection>, only: (ids: readonly number[], now: number) => Iterable<WatchedConnection>): void {
    const due = this.due(now);
    if (generation === this.generation) {
      this.sample(only(due, now), false);
      return;
    }
    this.generation = generation;
    this.sample(all(now));
  }

  /**
   * The connections a sample at `now` must read when none came or went since the last complete
   * one: those whose cached up time passed by this second, and those the last sample read. Taken
   * out of the watch's lists, so call it once per sample (before a complete one too, which reads
   * them anyway).
   */
  due(now: number): number[] {
    const out = [...this.recheck];
    this.recheck.clear();
    const second = Math.floor(now / 1000);
    for (const [at, ids] of this.wheel) {
      if (at > second) continue;
      for (const id of ids) out.push(id);
      this.wheel.delete(at);
    }
    return out;
  }

  /**
   * Called while sample() reads its connections (from their iterable) for one found up: when it
   * was up at the last sample too, or is new and nobody monitors, nothing is to be said: it counts
   * as seen and true is returned, so the caller need not read its health; false: hand it to
   * sample() as usual.
   */
  stillUp(conn: number): boolean {
    const entry = this.states.get(conn);
    if (entry === undefined) {
      // Up at first sight (a call storm's thousands each second): news only to a monitor.
      if (this.events.listening) return false;
      this.states.set(conn, { state: 'up', wasUp: true, seen: this.round, until: -Infinity });
      return true;
    }
    if (entry.state !== 'up') return false;
    entry.seen = this.round;
    return true;
  }

  /**
   * stillUp for a connection read only when it may have changed: `upUntil(conn)` says until when
   * it stays up unless proven again (MsnlEndpoint.upUntil); a tunnel up at the last sample is
   * taken as still up, unread, until that time has passed, and only then asked again (its probes
   * have usually moved it on by then). So the watch reads each idle connection about once per
   * window, not every second. (A window that shrinks meanwhile, when the probe interval does, is
   * noticed at the time kept.) False: hand it to sample() as usual.
   */
  stillUpAt(conn: number, now: number, upUntil: (conn: number) => number): boolean {
    const entry = this.states.get(conn);
    if (entry !== undefined && entry.state === 'up' && entry.until >= now) {
      entry.seen = this.round;
      return true;
    }
    const until = upUntil(conn);
    if (!(until >= now) || !this.stillUp(conn)) return false;
    const kept = entry ?? this.states.get(conn);
    if (kept !== undefined) {
      kept.until = until;
      const at = Math.floor(until / 1000) + 1;
      const bucket = this.wheel.get(at);
      if (bucket === undefined) this.wheel.set(at, [conn]);
      else bucket.push(conn);
    }
    return true;
  }

  /** Connections being watched (for tests and leak checks). */
  get size(): number {
    return this.states.size;
  }
}
