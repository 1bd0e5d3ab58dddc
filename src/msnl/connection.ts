// One open MSNL connection: its ids, SAPs, traffic counts, and the in-band health state (probes
// both ways, round trip, loss over the last PROBE_WINDOW probes, idle and dead detection). Pure.

import type { Sap } from './address.js';
import type { SecureConn } from './session.js';
import { MAX_PROBE_INTERVAL_MS, PEER_INTERVAL_TOLERANCE } from './constants.js';
import type { ConnectionInfo, ConnectionRole, Health } from './types.js';
import type { PathMtu } from './pmtu.js';
import type { ExitSet } from './exits.js';

/** How many recent probes the loss ratio looks at. */
export const PROBE_WINDOW = 32;

const PROBE_SENT = 1;
const PROBE_ANSWERED = 2;

/** What the peer is known to understand (msnl(7) Probes): not known yet (our first probe acknowledges), acknowledging probes, plain probes only. */
export const PeerAcks = { UNKNOWN: 0, YES: 1, NO: 2 } as const;
export type PeerAcks = (typeof PeerAcks)[keyof typeof PeerAcks];
/** A responder rests while the peer's acknowledging probes come within this many of the peer's intervals. */
export const REST_TOLERANCE = 1.5;
/** The largest hold time an acknowledging probe carries (NO_ACK, one more, means none). */
const MAX_HOLD_MS = 0xfffffffe;

export class Connection<L> {
  rxPackets = 0;
  txPackets = 0;
  rxBytes = 0;
  txBytes = 0;
  /** Sequence number of the next data packet sent. */
  packetSeq = 0;
  /** Sequence number of the next probe sent. */
  probeSeq = 0;
  nextProbeAt: number;
  lastHeardAt: number;
  lastDataAt: number;
  /** When the peer's probe or data last arrived, or its confirm or request did (rx direction proven), or -Infinity. */
  rxProvenAt = -Infinity;
  /** When one of our probes was last answered, or our confirm was (tx direction proven), or -Infinity. */
  txProvenAt = -Infinity;
  rttMs = -1;
  idleSignalled = false;
  /** The path MTU of the link in use, and that link (a new link starts a new search). */
  path: PathMtu;
  pathLink: L;
  /** Keys and sessions of a keyed connection; null for a plain (auth none) one. */
  secure: SecureConn | null = null;
  /** The exits of a route with several (exits.ts); null: the connection keeps one link. */
  exits: ExitSet<L> | null = null;
  /** Its place in the endpoint's deadline heap (timers.ts), -1 when none. */
  heapIndex = -1;
  /** A responder: when our confirm was last sent (a retransmitted request that arrived before it
   *  crossed it, signalling.ts), -Infinity before. */
  confirmSentAt = -Infinity;
  /** A responder: whether a frame from the originator showed that our confirm arrived. */
  private confirmSeen = false;
  /** Whether the peer speaks acknowledging probes (code 3; msnl(7) Probes). */
  peerAcks: PeerAcks = PeerAcks.UNKNOWN;
  /** The newest of our probes whose reply arrived, and when (what our acknowledging probe acknowledges). */
  private newestAnsweredSeq = 0;
  private newestAnsweredAt = -Infinity;
  /** The peer's probe we answered last, and when: an acknowledging probe naming it proves our tx direction. */
  private lastReplySeq = -1;
  private lastReplyAt = -Infinity;
  /** When an acknowledging probe last acknowledged our latest reply (our tx direction proven by the peer's rate). */
  private ackedAt = -Infinity;
  /** When the peer's last probe arrived, and the gap before it (the peer's probe rate, at most MAX_PROBE_INTERVAL_MS). */
  private lastPeerProbeAt = -Infinity;
  private peerProbeIntervalMs = MAX_PROBE_INTERVAL_MS;
  /** Whether the peer answers asking probes (code 4) with the interval it wants; an originator finds out. */
  peerAsks: PeerAcks = PeerAcks.UNKNOWN;
  /** The sequence number of our first asking probe, -1 before it went. */
  private askSeq = -1;
  /** An originator: the interval the peer asked for in its latest code-4 reply, clamped to MAX_PROBE_INTERVAL_MS (0: none). */
  askedByPeerMs = 0;
  /** A responder: the interval we asked for in our latest code-4 reply (0: none); the peer probes at least that far apart. */
  private askedOfPeerMs = 0;
  /** The interval our last probe was sent with (it stretches with many connections). */
  private probeIntervalMs = 0;
  private readonly probeStates = new Uint8Array(PROBE_WINDOW);
  /** When each probe in the window was sent, on the injected clock (sub-millisecond if it is);
   *  made at the first probe: 256 octets off the heap (an ArrayBuffer each, several microseconds
   *  to make and to sweep) that a call storm's thousands of new connections need seconds later. */
  private probeSentAt: Float64Array | null = null;

  constructor(
    readonly connId: number,
    readonly remoteConnId: number,
    readonly role: ConnectionRole,
    readonly local: Sap,
    readonly remote: Sap,
    readonly localIpa: number,
    readonly remoteIpa: number,
    public link: L,
    /** The transaction id and originator SAP of the call that made this connection. */
    readonly transaction: number,
    readonly createdAt: number,
    path: PathMtu,
  ) {
    this.path = path;
    this.pathLink = link;
    this.nextProbeAt = createdAt;
    this.lastHeardAt = createdAt;
    this.lastDataAt = createdAt;
  }

  /**
   * The originator got the call's confirm (msnl(7) Probes): it answers our request (tx proven)
   * and came from the peer (rx proven), so our first probe goes `firstProbeInMs` later, not at
   * once; the tx window stretches to that interval like after a stretched probe.
   */
  provenByConfirm(now: number, firstProbeInMs: number): void {
    this.txProvenAt = now;
    this.rxProvenAt = now;
    this.nextProbeAt = now + firstProbeInMs;
    this.probeIntervalMs = firstProbeInMs;
  }

  /**
   * The responder accepted the call: the request (retransmitted until the confirm, so at most
   * 1.6 s old) came from the peer, so what we receive is proven; our first probe goes
   * `firstProbeInMs` later (the caller's first frame proves what we send before that).
   */
  provenByRequest(now: number, firstProbeInMs: number): void {
    this.rxProvenAt = now;
    // Provisionally, for one window: the confirm answers a request its caller repeats until a
    // confirm arrives; the caller's first frame proves it (confirmArrived), or the window ends.
    this.txProvenAt = now;
    this.nextProbeAt = now + firstProbeInMs;
    this.probeIntervalMs = firstProbeInMs;
  }

  /**
   * The responder's tx direction before its own probe is answered: the originator names our id,
   * which only our confirm told it, so its first frame (probe or data) proves the confirm arrived.
   */
  private confirmArrived(now: number): void {
    if (this.role === 'responder' && !this.confirmSeen) {
      this.confirmSeen = true;
      this.txProvenAt = now;
    }
  }

  /** Records a probe being sent; returns its sequence number. */
  probeSent(now: number, intervalMs: number): number {
    const seq = this.probeSeq;
    this.probeSeq = (this.probeSeq + 1) >>> 0;
    this.probeStates[seq % PROBE_WINDOW] = PROBE_SENT;
    (this.probeSentAt ??= new Float64Array(PROBE_WINDOW))[seq % PROBE_WINDOW] = now;
    this.nextProbeAt = now + intervalMs;
    this.probeIntervalMs = intervalMs;
    return seq;
  }

  /** Records a probe reply; false when it answers no probe in the window (stale or forged). */
  probeAnswered(seq: number, stamp: number, now: number): boolean {
    const age = (this.probeSeq - 1 - seq) >>> 0;
    if (age >= PROBE_WINDOW || this.probeStates[seq % PROBE_WINDOW] !== PROBE_SENT) return false;
    this.probeStates[seq % PROBE_WINDOW] = PROBE_ANSWERED;
    // Measured from the local send time of that sequence number (finer than the echoed 32-bit
    // millisecond stamp, which stays on the wire for peers and captures).
    this.rttMs = Math.max(0, now - (this.probeSentAt?.[seq % PROBE_WINDOW] ?? now));
    // A reply proves both directions: it answers our probe and it came from the peer.
    this.txProvenAt = now;
    this.rxProvenAt = now;
    this.lastHeardAt = now;
    if (this.newestAnsweredAt === -Infinity || ((seq - this.newestAnsweredSeq) >>> 0) < 0x80000000) {
      this.newestAnsweredSeq = seq;
      this.newestAnsweredAt = now;
    }
    return true;
  }

  /**
   * Whether our next probe is an acknowledging one (code 3): while the peer is known to speak
   * them, and for a caller's first probe, which finds out; after that one went unanswered, plain
   * probes (its slot then does not count as lost: a peer that drops code 3 never lost it). A
   * callee probes plainly until the peer shows it speaks them (its first probe, at once, must be
   * answered by any peer: it is what proves the callee's sending direction).
   */
  nextProbeAcks(): boolean {
    if (this.role === 'responder' && this.peerAcks === PeerAcks.UNKNOWN) return false;
    if (this.peerAcks === PeerAcks.UNKNOWN && this.probeSeq > 0) {
      this.peerAcks = PeerAcks.NO;
      const first = (this.probeSeq - 1) % PROBE_WINDOW;
      if (this.probeStates[first] === PROBE_SENT) this.probeStates[first] = 0;
    }
    return this.peerAcks !== PeerAcks.NO;
  }

  /**
   * The code of our next probe (msnl(7) Probes): 0 plain, 3 acknowledging (nextProbeAcks), or,
   * for an originator whose peer answered an acknowledging probe, 4 asking: the first finds out
   * whether the peer answers them; when its reply has not come by the next probe, code 3 from then
   * on (its slot not counted as lost: a peer that drops code 4 never lost it).
   */
  nextProbeCode(acks: boolean, asks: boolean): 0 | 3 | 4 {
    if (!acks || !this.nextProbeAcks()) return 0;
    if (!asks || this.role !== 'originator' || this.peerAcks !== PeerAcks.YES || this.peerAsks === PeerAcks.NO) return 3;
    if (this.peerAsks === PeerAcks.UNKNOWN) {
      if (this.askSeq >= 0) {
        this.peerAsks = PeerAcks.NO;
        const slot = this.askSeq % PROBE_WINDOW;
        if (((this.probeSeq - 1 - this.askSeq) >>> 0) < PROBE_WINDOW && this.probeStates[slot] === PROBE_SENT) this.probeStates[slot] = 0;
        return 3;
      }
      this.askSeq = this.probeSeq;
    }
    return 4;
  }

  /** The peer's code-4 reply asked for `askMs` (any value: clamped to 0..MAX_PROBE_INTERVAL_MS, so a hint never stops our probes). */
  peerAsked(askMs: number): void {
    this.peerAcks = PeerAcks.YES;
    this.peerAsks = PeerAcks.YES;
    this.askedByPeerMs = Math.min(Math.max(askMs, 0), MAX_PROBE_INTERVAL_MS);
  }

  /** We asked the peer for `askMs` in a code-4 reply (what our windows then expect of its rate). */
  askedOfPeer(askMs: number): void {
    this.askedOfPeerMs = Math.min(askMs, MAX_PROBE_INTERVAL_MS);
  }

  /** Our probe interval: the endpoint's (`intervalMs`), stretched to what the peer asked for. */
  intervalFor(intervalMs: number): number {
    return Math.max(intervalMs, this.askedByPeerMs);
  }

  /** The peer's probe interval as our windows expect it: as measured, or as we asked, the longer. */
  private peerIntervalMs(): number {
    return Math.max(this.peerProbeIntervalMs, this.askedOfPeerMs);
  }

  /** The sequence number our acknowledging probe acknowledges (meaningful when ackHoldMs is not `none`). */
  get ackSeq(): number {
    return this.newestAnsweredSeq;
  }

  /** How long ago (ms) the reply to ackSeq arrived, or `none` (NO_ACK) when no probe of ours was answered yet. */
  ackHoldMs(now: number, none: number): number {
    return this.newestAnsweredAt === -Infinity ? none : Math.min(Math.max(Math.round(now - this.newestAnsweredAt), 0), MAX_HOLD_MS);
  }

  /** We answered the peer's probe `seq` (its reply went out now). */
  replied(seq: number, now: number): void {
    this.lastReplySeq = seq;
    this.lastReplyAt = now;
  }

  /**
   * The peer's acknowledging probe arrived, acknowledging `ackSeq` after `holdMs` (`hasAck` false:
   * it acknowledges nothing yet). Call before replied() for it. When it names our latest reply,
   * our tx direction is proven as of when that reply arrived (now less the hold, never before
   * we sent it), and the round trip is the time since that reply less the hold.
   */
  peerAcked(hasAck: boolean, ackSeq: number, holdMs: number, now: number): void {
    this.peerAcks = PeerAcks.YES;
    if (!hasAck || ackSeq !== this.lastReplySeq || this.lastReplyAt === -Infinity) return;
    this.rttMs = Math.max(0, now - this.lastReplyAt - holdMs);
    this.ackedAt = now;
    this.txProvenAt = Math.max(this.txProvenAt, Math.min(now, Math.max(this.lastReplyAt, now - holdMs)));
  }

  /**
   * Whether a responder may rest instead of sending its due probe (msnl(7) Probes): the peer
   * speaks acknowledging probes and one acknowledged our latest reply within REST_TOLERANCE of
   * the peer's probe interval, so both directions are proven without our probe. An originator
   * always probes, so two resting ends never wait for each other.
   */
  mayRest(now: number): boolean {
    return this.role === 'responder' && this.peerAcks === PeerAcks.YES && now - this.ackedAt <= REST_TOLERANCE * this.peerIntervalMs();
  }

  /** We rested instead of probing: the next look comes `intervalMs` later. */
  rested(now: number, intervalMs: number): void {
    this.nextProbeAt = now + intervalMs;
  }

  /** The peer's probe arrived. */
  peerProbed(now: number): void {
    if (Number.isFinite(this.lastPeerProbeAt)) this.peerProbeIntervalMs = Math.min(Math.max(now - this.lastPeerProbeAt, 0), MAX_PROBE_INTERVAL_MS);
    this.lastPeerProbeAt = now;
    this.confirmArrived(now);
    this.rxProvenAt = now;
    this.lastHeardAt = now;
  }

  /** Data arrived (length octets, one whole packet when `packet`). */
  dataReceived(now: number, length: number, packet: boolean): void {
    this.confirmArrived(now);
    this.rxProvenAt = now;
    this.lastHeardAt = now;
    this.lastDataAt = now;
    this.idleSignalled = false;
    if (packet) {
      this.rxPackets++;
      this.rxBytes += length;
    }
  }

  dataSent(now: number, length: number): void {
    this.lastDataAt = now;
    this.idleSignalled = false;
    this.txPackets++;
    this.txBytes += length;
  }

  /**
   * The tx direction is judged by our own probes (`windowMs`, sized for our usual interval, or
   * PEER_INTERVAL_TOLERANCE of the interval of our last probe when that was stretched); the rx
   * direction by the peer's, whose interval may be anything up to MAX_PROBE_INTERVAL_MS, so its
   * window stretches to PEER_INTERVAL_TOLERANCE of the peer's measured interval (one lost probe
   * plus jitter at the slowest rate msnl(7) allows).
   */
  /** health(now, windowMs).up, with nothing allocated (the daemon's health watch asks every second). */
  isUp(now: number, windowMs: number): boolean {
    return now <= this.upUntil(windowMs);
  }

  /** Until when the connection stays up (isUp) unless proven again: the end of the earlier of its two windows. */
  upUntil(windowMs: number): number {
    return Math.min(this.txProvenAt + this.txWindowMs(windowMs), this.rxProvenAt + this.rxWindowMs(windowMs));
  }

  /**
   * The rx window: the peer's probes' (PEER_INTERVAL_TOLERANCE of its interval, measured or asked
   * for), never less than our own probes' window: the replies to them prove what we receive too,
   * at our rate (stretched up to MAX_PROBE_INTERVAL_MS when the peer asks, msnl(7) Probes).
   */
  private rxWindowMs(windowMs: number): number {
    return Math.max(windowMs, PEER_INTERVAL_TOLERANCE * Math.max(this.peerIntervalMs(), this.probeIntervalMs));
  }

  /**
   * The tx window: our probes' (above), or, for a callee whose peer acknowledges (it rests, and
   * the peer's acknowledgements prove it), one more of the longer of our and the peer's
   * intervals: the peer acknowledges at its own rate, up to one of its intervals after our reply
   * arrived, and that arrival is what the proof dates from.
   */
  private txWindowMs(windowMs: number): number {
    if (this.role !== 'responder' || this.peerAcks !== PeerAcks.YES) return Math.max(windowMs, PEER_INTERVAL_TOLERANCE * this.probeIntervalMs);
    const interval = Math.max(this.probeIntervalMs, this.peerIntervalMs());
    return Math.max(windowMs, (PEER_INTERVAL_TOLERANCE + 1) * interval);
  }

  health(now: number, windowMs: number): Health {
    const txProven = now - this.txProvenAt <= this.txWindowMs(windowMs);
    const rxProven = now - this.rxProvenAt <= this.rxWindowMs(windowMs);
    return { up: txProven && rxProven, txProven, rxProven, rttMs: this.rttMs, lossRatio: this.lossRatio(), lastHeardMs: now - this.lastHeardAt,
      maxDatagram: this.path.maxDatagram, pathPhase: this.path.phase };
  }

  /** Share of unanswered probes among the recent ones, not counting the newest (still in flight). */
  lossRatio(): number {
    const newest = (this.probeSeq - 1) >>> 0;
    let sent = 0;
    let lost = 0;
    for (let i = 1; i < PROBE_WINDOW && i < this.probeSeq; i++) {
      const state = this.probeStates[((newest - i) >>> 0) % PROBE_WINDOW];
      if (state === PROBE_SENT) lost++;
      if (state !== 0) sent++;
    }
    return sent === 0 ? 0 : lost / sent;
  }

  info(): ConnectionInfo<L> {
    return {
      connId: this.connId,
      remoteConnId: this.remoteConnId,
      role: this.role,
      local: this.local,
      remote: this.remote,
      localIpa: this.localIpa,
      remoteIpa: this.remoteIpa,
      link: this.link,
      state: 'open',
      createdAt: this.createdAt,
      rxPackets: this.rxPackets,
      txPackets: this.txPackets,
      rxBytes: this.rxBytes,
      txBytes: this.txBytes,
      authenticated: this.secure !== null,
    };
  }
}
