// Path MTU of one connection's underlay path, found by padded size probes in the manner of
// DPLPMTUD (RFC 8899): confirm a base size, try the largest the outgoing link allows, search
// between what was confirmed and what failed, confirm the result now and then (a failure is a
// black hole: back to the base size and search again), and look for more room every ten minutes.
// A "too big" report (EMSGSIZE from the local link, ICMP "fragmentation needed") lowers the size
// at once. Sizes are UDP payloads (whole MSNL datagrams, sealed or not). The connections of one
// underlay path share one search: the others adopt() its result (path-cache.ts). Pure: time comes in.
//
//   base ──answered──▶ search ──ceiling reached──▶ done ──confirm fails──▶ base
//    │                   ▲  └──MAX_PROBES lost: ceiling = size - 1         │ raise timer
//    └─MAX_PROBES lost─▶ error (the peer does not answer size probes)      └──▶ search

/** Every path is taken to carry this (IPv6's 1280 less 40 + 8); the search starts by confirming it. */
export const BASE_DATAGRAM = 1232;
/** A too-big report below this (576 less 28, RFC 1191's floor) is not believed. */
export const MIN_DATAGRAM = 548;
/** Probes of one size lost in a row before the size counts as failed. */
export const MAX_PROBES = 3;
/** A size probe unanswered for this long counts as lost (ms). */
export const PROBE_TIMEOUT_MS = 500;
/** The current size is confirmed by a probe this often (black-hole detection, ms). */
export const CONFIRM_INTERVAL_MS = 15_000;
/** The search looks for more room this often (RFC 8899's PMTU_RAISE_TIMER, ms). */
export const RAISE_INTERVAL_MS = 600_000;
/** The search stops when what failed and what was confirmed are this close (octets). */
export const SEARCH_GRANULARITY = 16;

export type PathPhase = 'base' | 'search' | 'done' | 'error' | 'pinned';

export class PathMtu {
  /** The largest datagram data goes in now. */
  maxDatagram: number;
  phase: PathPhase;
  /** When probe() next has something to send, on the injected clock, or Infinity. */
  nextProbeAt: number;
  /** Size probes sent, answered, and sizes given up on; too-big reports taken. */
  probesSent = 0;
  probesAnswered = 0;
  tooBigReports = 0;
  /** The largest size a probe confirmed (0: none yet). */
  confirmed = 0;
  /** The largest size not known to fail. */
  private ceiling: number;
  /** The outgoing link's size, the ceiling the raise timer goes back to. */
  private limit: number;
  private probeSize = 0;
  private probeSeq = 0;
  private failures = 0;
  private triedTop = false;
  private raiseAt = Infinity;

  /**
   * `limit`: the largest datagram the outgoing link (or the route's `mtu`) allows; data starts at
   * it. Pinned: no probing, only too-big reports lower it. `firstProbeMs`: delay of the first probe.
   */
  constructor(limit: number, now: number, pinned = false, firstProbeMs = 0) {
    this.limit = this.ceiling = this.maxDatagram = Math.max(MIN_DATAGRAM, Math.floor(limit));
    this.phase = pinned ? 'pinned' : 'base';
    this.nextProbeAt = pinned ? Infinity : now + firstProbeMs;
  }

  /**
   * Numbers this search's probes from `base` on (before its first probe): the paths of one
   * connection's exits answer to one connection id, so each counts in its own range.
   */
  seqFrom(base: number): void {
    if (this.probesSent === 0) this.probeSeq = base >>> 0;
  }

  /** The sequence number of the size probe probe() last returned. */
  get seq(): number {
    return this.probeSeq;
  }

  /** The size in flight, 0 when none. */
  get probing(): number {
    return this.probeSize;
  }

  /**
   * Runs the timer: returns the size of the probe to send now (its sequence number is `seq`), or
   * 0 when there is none. Call when now >= nextProbeAt.
   */
  probe(now: number): number {
    if (now < this.nextProbeAt || this.phase === 'pinned') return 0;
    if (this.probeSize !== 0) {
      // The probe in flight timed out.
      if (++this.failures >= MAX_PROBES) this.failed(this.probeSize, now);
      else return this.send(this.probeSize, now);
    }
    if (this.phase === 'done' && now >= this.raiseAt && this.limit > this.confirmed) {
      this.phase = 'search';
      this.ceiling = this.limit;
      this.triedTop = false;
    }
    const size = this.nextSize();
    if (size === 0) {
      this.settle(now);
      return 0;
    }
    return this.send(size, now);
  }

  /** A size probe reply: true when it answers the probe in flight. */
  answered(seq: number, now: number): boolean {
    if (this.probeSize === 0 || seq !== this.probeSeq) return false;
    const size = this.probeSize;
    this.probeSize = 0;
    this.failures = 0;
    this.probesAnswered++;
    if (size > this.confirmed) this.confirmed = size;
    if (this.phase === 'base' || this.phase === 'error') this.phase = 'search';
    if (this.phase === 'done') {
      this.nextProbeAt = now + CONFIRM_INTERVAL_MS;
      return true;
    }
    if (this.confirmed > this.maxDatagram) this.maxDatagram = this.confirmed;
    this.nextProbeAt = now;
    return true;
  }

  /**
   * Takes the result another connection's search found on the same path (path-cache.ts): the
   * search is over at `size` (never above this path's own limit), with no probe of its own; the
   * sharing looks again when the next confirmation would be due.
   */
  adopt(size: number, now: number): void {
    if (this.phase === 'pinned') return;
    const fits = Math.min(this.limit, Math.max(MIN_DATAGRAM, Math.floor(size)));
    this.probeSize = 0;
    this.failures = 0;
    this.triedTop = false;
    this.confirmed = this.maxDatagram = this.ceiling = fits;
    this.phase = 'done';
    this.nextProbeAt = now + CONFIRM_INTERVAL_MS;
    this.raiseAt = now + RAISE_INTERVAL_MS;
  }

  /**
   * The path refused a datagram as too big; `maxPayload` is the largest that fits by the report
   * (0: it named no size). Lowers the size at once, never below MIN_DATAGRAM.
   */
  tooBig(maxPayload: number, now: number): void {
    this.tooBigReports++;
    const fits = maxPayload <= 0 ? Math.min(BASE_DATAGRAM, this.maxDatagram) : Math.max(MIN_DATAGRAM, Math.floor(maxPayload));
    if (fits >= this.ceiling && this.probeSize <= fits) return;
    if (fits < this.ceiling) this.ceiling = fits;
    if (this.maxDatagram > fits) this.maxDatagram = fits;
    if (this.confirmed > fits) this.confirmed = fits;
    if (this.probeSize > fits) {
      this.probeSize = 0;
      this.failures = 0;
    }
    if (this.phase === 'pinned') return;
    if (this.phase === 'done') {
      this.phase = 'search';
      this.triedTop = false;
    }
    this.nextProbeAt = Math.min(this.nextProbeAt, now);
  }

  // The next size to try, 0 when the search is over.
  private nextSize(): number {
    switch (this.phase) {
      case 'base':
      case 'error':
        return Math.min(BASE_DATAGRAM, this.ceiling);
      case 'search':
        if (this.ceiling - this.confirmed < SEARCH_GRANULARITY) return 0;
        if (!this.triedTop) {
          this.triedTop = true;
          return this.ceiling;
        }
        return this.confirmed + Math.ceil((this.ceiling - this.confirmed) / 2);
      case 'done':
        return this.maxDatagram; // the periodic confirmation
      default:
        return 0;
    }
  }

  // The search is over: data goes in the largest confirmed size.
  private settle(now: number): void {
    this.phase = 'done';
    if (this.confirmed > 0) this.maxDatagram = this.confirmed;
    this.nextProbeAt = now + CONFIRM_INTERVAL_MS;
    this.raiseAt = now + RAISE_INTERVAL_MS;
  }

  // MAX_PROBES probes of `size` were lost.
  private failed(size: number, now: number): void {
    this.probeSize = 0;
    this.failures = 0;
    switch (this.phase) {
      case 'base':
      case 'error':
        // Not even the base size came back: the peer does not answer size probes, or the path is
        // down (the connection's health says which). Data keeps its size; try again later.
        this.phase = 'error';
        this.nextProbeAt = now + CONFIRM_INTERVAL_MS;
        return;
      case 'done':
        // The size in use stopped getting through, with no report: a black hole. Start over.
        this.ceiling = size - 1;
        this.confirmed = 0;
        this.maxDatagram = Math.min(BASE_DATAGRAM, this.ceiling);
        this.phase = 'base';
        this.nextProbeAt = now;
        return;
      default:
        this.ceiling = size - 1;
        if (this.maxDatagram > this.ceiling) this.maxDatagram = Math.max(this.confirmed, Math.min(BASE_DATAGRAM, this.ceiling));
        this.nextProbeAt = now;
    }
  }

  private send(size: number, now: number): number {
    this.probeSize = size;
    this.probeSeq = (this.probeSeq + 1) >>> 0;
    this.probesSent++;
    this.nextProbeAt = now + PROBE_TIMEOUT_MS;
    return size;
  }
}
