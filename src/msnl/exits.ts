// The underlay exits of one connection (a route with several `via HOST:PORT priority N`, msnl(7)
// Exits) and the choice between them. Each exit has its own exit probes, round trip, loss and
// path MTU; the connection sends on one, the active exit. The active exit is probed often and the
// standby exits at a low rate; when the active one stops answering for `activeDownMs`, the
// connection moves to the best standby that answers (lowest priority number, then the order
// given), as the same connection. A preferred exit that has answered without a gap for
// `holdDownMs` takes over again. Pure: time comes in, probes go out through a callback.
//
//   standby ──answers for holdDownMs, better priority──▶ active
//   active ──no answer for activeDownMs──▶ down (the best answering standby becomes active)
//   down ──answers again──▶ standby (the hold-down starts)

import type { PathMtu } from './pmtu.js';

/** At most this many exits per route (vtunl's MAXEXITCOUNT); the exit's index rides in probe seqs. */
export const MAX_EXITS = 8;
const INDEX_BITS = 3;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
/** How many recent exit probes an exit's loss ratio looks at. */
export const EXIT_WINDOW = 16;

export interface ExitTimers {
  /** The active exit is probed this often (ms). */
  readonly activeProbeMs: number;
  /** Each standby exit is probed this often (ms). */
  readonly standbyProbeMs: number;
  /** The active exit is down after this long without an answer (ms). */
  readonly activeDownMs: number;
  /** A standby exit counts as answering for this long after its last answer (ms). */
  readonly standbyDownMs: number;
  /** A preferred exit must answer for this long before the connection moves back to it (ms). */
  readonly holdDownMs: number;
}

export const DEFAULT_EXIT_TIMERS: ExitTimers = Object.freeze({
  activeProbeMs: 250,
  standbyProbeMs: 1000,
  activeDownMs: 1000,
  standbyDownMs: 2500,
  holdDownMs: 5000,
});

/** One exit as a route names it. */
export interface ExitSpec<L> {
  readonly link: L;
  /** Lower is preferred (as `ip route`'s metric). */
  readonly priority: number;
}

export type ExitState = 'active' | 'standby' | 'down' | 'unknown';

/** What `msnl health` and `msnl route show` print of one exit. */
export interface ExitInfo<L> {
  readonly link: L;
  readonly priority: number;
  readonly state: ExitState;
  /** Round trip of the last answered exit probe (ms), or -1. */
  readonly rttMs: number;
  readonly lossRatio: number;
  /** The largest datagram of the exit's path. */
  readonly maxDatagram: number;
}

const SENT = 1;
const ANSWERED = 2;

export class Exit<L> {
  /** Exit probes sent to this exit (its part of the probe sequence numbers). */
  count = 0;
  lastAnsweredAt = -Infinity;
  /** When the current run of answers began (Infinity: not answering). */
  upSince = Infinity;
  rttMs = -1;
  nextProbeAt: number;
  private readonly states = new Uint8Array(EXIT_WINDOW);
  private readonly sentAt = new Float64Array(EXIT_WINDOW);

  constructor(readonly link: L, readonly priority: number, public path: PathMtu, now: number) {
    this.nextProbeAt = now;
  }

  /** Records a probe to this exit; returns its count. */
  sent(now: number): number {
    const count = this.count;
    this.count = (count + 1) % 2 ** (32 - INDEX_BITS);
    this.states[count % EXIT_WINDOW] = SENT;
    this.sentAt[count % EXIT_WINDOW] = now;
    return count;
  }

  /** Records an answer; false when it answers no probe in the window. */
  answered(count: number, now: number, upWindowMs: number): boolean {
    const age = (this.count - 1 - count + 2 ** (32 - INDEX_BITS)) % 2 ** (32 - INDEX_BITS);
    if (age >= EXIT_WINDOW || this.states[count % EXIT_WINDOW] !== SENT) return false;
    this.states[count % EXIT_WINDOW] = ANSWERED;
    this.rttMs = Math.max(0, now - this.sentAt[count % EXIT_WINDOW]!);
    if (now - this.lastAnsweredAt > upWindowMs) this.upSince = now;
    this.lastAnsweredAt = now;
    return true;
  }

  /** Forgets that it answered (it was given up as down). */
  markDown(): void {
    this.lastAnsweredAt = -Infinity;
    this.upSince = Infinity;
  }

  /** Share of unanswered probes among the recent ones, not counting the newest (in flight). */
  lossRatio(): number {
    let sent = 0;
    let lost = 0;
    for (let i = 1; i < EXIT_WINDOW && i < this.count; i++) {
      const state = this.states[(this.count - 1 - i) % EXIT_WINDOW];
      if (state === SENT) lost++;
      if (state !== 0) sent++;
    }
    return sent === 0 ? 0 : lost / sent;
  }
}

export class ExitSet<L> {
  readonly exits: readonly Exit<L>[];
  /** Index of the exit in use. */
  active: number;
  activeSince: number;
  /** When run() next has work (ms on the injected clock). */
  nextAt: number;
  /** Moves between exits so far. */
  moves = 0;

  /**
   * `specs` in the route's order (at most MAX_EXITS are kept); `active` is the index of the exit
   * the call was made on (or came from), taken as answering at `now`; `activePath` is its path.
   * The other exits' paths are searched too, at the standby probe rate (msnl(7) Exits).
   */
  constructor(specs: readonly ExitSpec<L>[], active: number, activePath: PathMtu, pathOf: (link: L) => PathMtu, now: number, readonly timers: ExitTimers = DEFAULT_EXIT_TIMERS) {
    const kept = specs.slice(0, MAX_EXITS);
    this.active = Math.min(Math.max(0, active), kept.length - 1);
    this.exits = kept.map((s, i) => new Exit(s.link, s.priority, i === this.active ? activePath : pathOf(s.link), now));
    // Each standby's size probes count in their own range (the active path's from 0): a reply names its path.
    this.exits.forEach((exit, i) => {
      if (i !== this.active) exit.path.seqFrom((i + 1) * 2 ** 28);
    });
    const current = this.exits[this.active]!;
    current.lastAnsweredAt = now;
    current.upSince = now;
    this.activeSince = now;
    this.nextAt = now;
  }

  get current(): Exit<L> {
    return this.exits[this.active]!;
  }

  /** True when exit `i` answered recently enough to carry traffic. */
  answering(i: number, now: number): boolean {
    const exit = this.exits[i];
    if (exit === undefined) return false;
    return now - exit.lastAnsweredAt <= (i === this.active ? this.timers.activeDownMs : this.timers.standbyDownMs);
  }

  /**
   * Sends the exit probes that are due (`send(link, seq)`) and decides. True when the active exit
   * changed: the caller moves the connection to `current`.
   */
  run(now: number, send: (link: L, seq: number) => void): boolean {
    const { timers } = this;
    for (let i = 0; i < this.exits.length; i++) {
      const exit = this.exits[i]!;
      if (now < exit.nextProbeAt) continue;
      const count = exit.sent(now);
      exit.nextProbeAt = now + (i === this.active ? timers.activeProbeMs : timers.standbyProbeMs);
      send(exit.link, ((count << INDEX_BITS) | i) >>> 0);
    }
    const moved = this.decide(now);
    this.nextAt = Infinity;
    for (const exit of this.exits) this.nextAt = Math.min(this.nextAt, exit.nextProbeAt);
    return moved;
  }

  /** An exit probe's answer; false when it answers no probe in flight (stale or forged). */
  answered(seq: number, now: number): boolean {
    const i = seq & INDEX_MASK;
    const exit = this.exits[i];
    if (exit === undefined) return false;
    return exit.answered(seq >>> INDEX_BITS, now, i === this.active ? this.timers.activeDownMs : this.timers.standbyDownMs);
  }

  /** Index of the exit whose link is `link`, or -1. */
  indexOf(link: L, same: (a: L, b: L) => boolean): number {
    for (let i = 0; i < this.exits.length; i++) if (same(this.exits[i]!.link, link)) return i;
    return -1;
  }

  info(now: number): ExitInfo<L>[] {
    return this.exits.map((exit, i) => ({
      link: exit.link,
      priority: exit.priority,
      state: i === this.active ? 'active' : this.answering(i, now) ? 'standby' : exit.count === 0 || (exit.lastAnsweredAt === -Infinity && exit.count < 2) ? 'unknown' : 'down',
      rttMs: exit.rttMs,
      lossRatio: exit.lossRatio(),
      maxDatagram: exit.path.maxDatagram,
    }));
  }

  // Moves away from a silent active exit, or back to a preferred one after the hold-down.
  private decide(now: number): boolean {
    const { timers } = this;
    const current = this.current;
    if (now - current.lastAnsweredAt > timers.activeDownMs && now - this.activeSince >= timers.activeDownMs) {
      const next = this.best(now, (i) => i !== this.active && this.answering(i, now));
      if (next < 0) return false; // nothing else answers: stay, the connection's health says down
      current.markDown();
      return this.moveTo(next, now);
    }
    const better = this.best(now, (i) => this.exits[i]!.priority < current.priority && this.answering(i, now) && now - this.exits[i]!.upSince >= timers.holdDownMs);
    return better >= 0 && this.moveTo(better, now);
  }

  private best(now: number, eligible: (i: number) => boolean): number {
    let best = -1;
    for (let i = 0; i < this.exits.length; i++) {
      if (!eligible(i)) continue;
      if (best < 0 || this.exits[i]!.priority < this.exits[best]!.priority) best = i;
    }
    return best;
  }

  private moveTo(i: number, now: number): boolean {
    if (i === this.active) return false;
    this.active = i;
    this.activeSince = now;
    this.moves++;
    const exit = this.exits[i]!;
    exit.nextProbeAt = Math.min(exit.nextProbeAt, now + this.timers.activeProbeMs);
    return true;
  }
}

/**
 * The exit set of a new connection on `link`, from its route's exits; null when the route names
 * fewer than two (the connection then keeps one link, as before). A link the route does not name
 * (a caller behind NAT) joins as the most preferred exit.
 */
export function exitSetFor<L>(link: L, path: PathMtu, specs: readonly ExitSpec<L>[] | undefined, same: (a: L, b: L) => boolean, pathOf: (link: L) => PathMtu, now: number, timers?: ExitTimers): ExitSet<L> | null {
  if (specs === undefined || specs.length < 2) return null;
  let list = specs.slice(0, MAX_EXITS);
  let active = list.findIndex((s) => same(s.link, link));
  if (active < 0) {
    const top = Math.min(...list.map((s) => s.priority));
    list = [{ link, priority: top }, ...list.slice(0, MAX_EXITS - 1)];
    active = 0;
  }
  return new ExitSet(list, active, path, pathOf, now, timers);
}

/**
 * The underlay links a call to an address tries, in order (msnl(7) Exits, Call set-up): `first`
 * (the link the call was asked on, the route's most preferred exit), then the route's other exits
 * by priority (the route's order between equals), at most MAX_EXITS. The connect request goes to
 * the first; each retransmission goes to the next, around again after the last, so a call whose
 * preferred exit is dead comes up through a standby one retransmission later. Only `first` when
 * the route names fewer than two exits.
 */
export function callLinks<L>(first: L, specs: readonly ExitSpec<L>[] | undefined, same: (a: L, b: L) => boolean): readonly L[] {
  if (specs === undefined || specs.length < 2) return [first];
  const rest = specs.slice(0, MAX_EXITS).map((s, i) => ({ s, i })).filter(({ s }) => !same(s.link, first));
  rest.sort((a, b) => a.s.priority - b.s.priority || a.i - b.i);
  return [first, ...rest.map(({ s }) => s.link)].slice(0, MAX_EXITS);
}
