// The timers of one open connection (msnl(7) HEALTH): its probe every probeIntervalMs, the idle
// signal after idleMs without data, the release after deadMs without hearing anything, and, for a
// keyed connection, the deadline its keys set (secure.ts), and its path's next size probe (pmtu.ts). The endpoint runs them only when the
// connection's deadline comes (connection-table.ts), never by walking every connection. Pure.
import type { Connection } from './connection.js';
import { MAX_PROBE_INTERVAL_MS, MsgType, Reason } from './constants.js';
import type { EndpointConfig, EndpointCounters, EndpointEvents } from './types.js';

export interface LivenessHost<L> {
  readonly config: EndpointConfig;
  readonly counters: EndpointCounters;
  readonly events: EndpointEvents<L>;
  sendOnConnection(conn: Connection<L>, bytes: Uint8Array): void;
  /** Sends a health probe on the connection (from a reused frame) with `code`: 0 plain, 3 acknowledging, 4 asking (msnl(7) Probes). */
  sendProbe(conn: Connection<L>, type: 8, seq: number, stamp: number, code: 0 | 3 | 4): void;
  closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void;
  /** Sends the release of a connection that is going (signalling's). */
  releaseDead(conn: Connection<L>): void;
}

/** The earliest time any timer of `conn` has work; `secureAt` is its keys' deadline (or Infinity). */
export function connectionDeadline<L>(conn: Connection<L>, config: EndpointConfig, secureAt: number): number {
  let next = Math.min(conn.nextProbeAt, conn.path.nextProbeAt, secureAt, conn.exits?.nextAt ?? Infinity);
  if (!conn.idleSignalled) next = Math.min(next, conn.lastDataAt + config.idleMs);
  if (config.deadMs > 0) next = Math.min(next, conn.lastHeardAt + config.deadMs);
  return next;
}

/**
 * Steady probe deadlines fall on whole seconds of the clock (ms) when the interval is a second or
 * more (msnld's 2 s): one wake-up a second sends every probe due, in one batch, and callers whose
 * clocks agree probe a busy callee in step, so its reads find many probes at once (an idle
 * msnld's cost is mostly its wake-ups: bench/README.md, issues 20/21).
 */
export const PROBE_GRID_MS = 1000;
/** The grid of shorter intervals, and of a new connection's first probe (spread over it, so a call storm's first probes do not all go in one second). */
export const FINE_GRID_MS = 100;
/** A resting callee looks again on this coarser grid (ms): all its resting connections on one wake-up a second. */
export const REST_GRID_MS = 1000;

/** The grid of an interval: whole seconds from a second up, 100 ms below. */
function gridOf(intervalMs: number): number {
  return intervalMs >= PROBE_GRID_MS ? PROBE_GRID_MS : FINE_GRID_MS;
}
/**
 * When an originator's first probe goes (its confirm proved both directions, msnl(7) Probes):
 * from about half (the grid point at or before it) to the whole of `intervalMs` after `now`,
 * spread by the connection's id (random) so that a call storm's connections do not all probe
 * together, on the fine grid.
 */
export function firstProbeAt(connId: number, now: number, intervalMs: number): number {
  const at = Math.floor((now + intervalMs * (0.5 + (connId % 1024) / 2048)) / FINE_GRID_MS) * FINE_GRID_MS;
  return at > now ? at : now + intervalMs;
}

/**
 * When a responder's first probe goes (msnl(7) Probes): half an interval after an originator's
 * would (from the whole to one and a half of `intervalMs` after `now`, spread and on the grid as
 * firstProbeAt), never more than MAX_PROBE_INTERVAL_MS on. The caller's first probe or frame,
 * which comes before it, proves the callee's sending direction, so a call costs no probe
 * datagrams while it is set up (a storm of them included), and the first packets each way are
 * not queued behind a probe and its reply.
 */
export function responderFirstProbeAt(connId: number, now: number, intervalMs: number): number {
  const at = firstProbeAt(connId, now, intervalMs) + Math.floor(intervalMs / 2 / FINE_GRID_MS) * FINE_GRID_MS;
  return Math.min(at, now + MAX_PROBE_INTERVAL_MS);
}

/**
 * The probe interval with `connections` open: config.probeIntervalMs, stretched so that all of
 * them together send at most config.probesPerSecond, and never beyond MAX_PROBE_INTERVAL_MS. A
 * stretch is rounded up to the whole second (the probe grid), so probes on whole seconds keep
 * within the budget.
 */
export function probeInterval(config: EndpointConfig, connections: number): number {
  const stretched = (connections * 1000) / Math.max(config.probesPerSecond, 1);
  const cap = Math.max(config.probeIntervalMs, MAX_PROBE_INTERVAL_MS);
  if (stretched <= config.probeIntervalMs) return Math.min(config.probeIntervalMs, cap);
  return Math.min(Math.ceil(stretched / PROBE_GRID_MS) * PROBE_GRID_MS, cap);
}

/**
 * Runs what is due on `conn` at `now` (`endpointIntervalMs`: probeInterval(), stretched to what
 * the peer asked for, msnl(7) Probes); false when it was released as dead.
 */
export function runConnectionTimers<L>(host: LivenessHost<L>, conn: Connection<L>, now: number, endpointIntervalMs: number): boolean {
  const { idleMs, deadMs } = host.config;
  if (deadMs > 0 && now - conn.lastHeardAt >= deadMs) {
    host.releaseDead(conn);
    host.closeConnection(conn, Reason.DEAD, false);
    return false;
  }
  if (now >= conn.nextProbeAt) {
    const intervalMs = conn.intervalFor(endpointIntervalMs);
    // The next probe goes on the grid point at or just before the interval's end (never later).
    const grid = gridOf(intervalMs);
    const next = Math.floor((now + intervalMs) / grid) * grid;
    const inMs = next > now ? next - now : intervalMs;
    if (conn.mayRest(now)) {
      // The peer's acknowledging probes prove both directions: a responder rests (msnl(7) Probes),
      // and looks again on the whole second at or before the interval's end (at least 1 s on), so
      // an idle host's resting connections share one wake-up a second.
      const look = Math.floor((now + intervalMs) / REST_GRID_MS) * REST_GRID_MS;
      conn.rested(now, look >= now + REST_GRID_MS ? look - now : inMs);
      host.counters.probesRested++;
    } else {
      const code = conn.nextProbeCode(host.config.probeAcks, host.config.probeAsks);
      const seq = conn.probeSent(now, inMs);
      host.counters.probesSent++;
      host.sendProbe(conn, MsgType.PROBE, seq, now >>> 0, code);
    }
  }
  if (!conn.idleSignalled && now - conn.lastDataAt >= idleMs) {
    conn.idleSignalled = true;
    host.events.idle(conn.connId);
  }
  return true;
}
