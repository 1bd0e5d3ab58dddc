// The endpoint's side of a connection's exits (exits.ts, msnl(7) Exits): sends the exit probes
// an exit set asks for, answers the peer's, moves the connection when its exit set says so (only
// the underlay destination changes: the connection, its ids and keys stay, and its path MTU is
// that exit's), and tells which sources a connection with exits takes plain frames from. The
// standby exits' paths are searched too, at their exit-probe rate and within the shared size-probe
// budget, so a move lands on a known path MTU.

import type { Connection } from './connection.js';
import type { EndpointCounters, EndpointEvents } from './types.js';
import { SEAL_OVERHEAD } from './secure-wire.js';
import { encodeExitProbe, encodeSizeProbe } from './wire.js';

export interface ExitPathsHost<L> {
  readonly counters: EndpointCounters;
  readonly events: EndpointEvents<L>;
  readonly sameLink: (a: L, b: L) => boolean;
  /** Seals one frame of keyed `conn` and sends it to `to`. */
  sealTo(conn: Connection<L>, bytes: Uint8Array, to: L): void;
  /** Sends a plain datagram to `link`. */
  out(link: L, bytes: Uint8Array): void;
  /** The connection's timers changed outside its turn in tick(). */
  reschedule(conn: Connection<L>): void;
  /** One size probe's worth of the shared budget (a standby's probe never waits in line); false: none now. */
  takeSizeProbe(): boolean;
}

export class ExitPaths<L> {
  constructor(private readonly host: ExitPathsHost<L>) {}

  /**
   * Sends a connection's due exit probes and, when its exit set says so, moves it: only the
   * underlay destination changes, and its path is that exit's.
   */
  run(conn: Connection<L>, now: number): void {
    const { host } = this;
    const exits = conn.exits!;
    const from = exits.active;
    // The standby exits whose exit probe is due now: their size probes ride at the same rate.
    let standbyDue = 0;
    for (let i = 0; i < exits.exits.length; i++) if (i !== from && now >= exits.exits[i]!.nextProbeAt) standbyDue |= 1 << i;
    const moved = exits.run(now, (link, seq) => {
      host.counters.exitProbesSent++;
      this.toExit(conn, link, encodeExitProbe(false, conn.remoteConnId, seq, now >>> 0));
    });
    if (standbyDue !== 0) this.sizeStandbys(conn, standbyDue, now);
    if (!moved) return;
    const exit = exits.current;
    conn.link = exit.link;
    conn.path = exit.path;
    conn.pathLink = exit.link;
    host.counters.exitMoves++;
    host.events.exitMoved?.(conn.connId, exit.link, exits.exits[from]!.priority <= exit.priority ? 'down' : 'preferred');
  }

  /**
   * The peer's exit probe from `link`: answered to the address it came from, which may be another
   * exit's. Plain (`sealed` false), it is answered only to the connection's peer or an exit of its
   * route (no reflection).
   */
  answerProbe(conn: Connection<L>, link: L, seq: number, stamp: number, sealed: boolean): void {
    if (!sealed && (conn.exits === null ? !this.host.sameLink(conn.link, link) : !this.fromExit(conn, link))) this.host.counters.dropPlainRefused++;
    else this.toExit(conn, link, encodeExitProbe(true, conn.remoteConnId, seq, stamp));
  }

  /** The answer to one of our exit probes. */
  probeAnswered(conn: Connection<L>, seq: number, now: number): void {
    if (conn.exits?.answered(seq, now) === true) {
      this.host.counters.exitProbesAnswered++;
      this.host.reschedule(conn);
    } else this.host.counters.dropUnexpectedSignal++;
  }

  /** A size probe reply that is not the active path's: true when it answers a standby exit's probe in flight. */
  sizeAnswered(conn: Connection<L>, seq: number, now: number): boolean {
    if (conn.exits === null) return false;
    for (const exit of conn.exits.exits) {
      if (exit.path !== conn.path && exit.path.answered(seq, now)) return true;
    }
    return false;
  }

  /**
   * A plain frame of `conn` from `link`: a connection with exits takes it from those only (one
   * without keeps the historic rule: the connection id decides).
   */
  fromExit(conn: Connection<L>, link: L): boolean {
    return conn.exits === null || this.host.sameLink(conn.link, link) || conn.exits.indexOf(link, this.host.sameLink) >= 0;
  }

  /** The underlay refused a datagram to `link` as too big: a standby exit there lowers its own path (the active one's is conn.path). */
  tooBig(conn: Connection<L>, link: L, maxPayload: number, now: number): void {
    if (conn.exits === null) return;
    for (const exit of conn.exits.exits) if (exit.path !== conn.path && this.host.sameLink(exit.link, link)) exit.path.tooBig(maxPayload, now);
  }

  // The size probes the paths of answering standby exits (bits of `due`) ask for, padded as on
  // the active path; a standby that does not answer exit probes gets none (its loss would read as
  // a size that fails).
  private sizeStandbys(conn: Connection<L>, due: number, now: number): void {
    const exits = conn.exits!;
    for (let i = 0; i < exits.exits.length; i++) {
      const exit = exits.exits[i]!;
      if ((due & (1 << i)) === 0 || i === exits.active || !exits.answering(i, now) || now < exit.path.nextProbeAt) continue;
      if (!this.host.takeSizeProbe()) return;
      const size = exit.path.probe(now);
      if (size === 0) continue;
      this.host.counters.sizeProbesSent++;
      this.toExit(conn, exit.link, encodeSizeProbe(false, conn.remoteConnId, exit.path.seq, now >>> 0, conn.secure !== null ? size - SEAL_OVERHEAD : size));
    }
  }

  // One frame of a connection to a given exit (sealed on a keyed connection).
  private toExit(conn: Connection<L>, link: L, bytes: Uint8Array): void {
    if (conn.secure !== null) this.host.sealTo(conn, bytes, link);
    else this.host.out(link, bytes);
  }
}
