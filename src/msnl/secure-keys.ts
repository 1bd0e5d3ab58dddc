// The key material of secure MSNL's handshakes: this host's key pair with its cookie checker and
// Noise start state, each peer's handshake state (start state, cookies, replay guard) and
// DH(host key, peer key), the spare ephemeral key pair of the next handshake message, the start
// of the next initiation to and the ephemeral of the next response to each configured peer, and
// the handshake timestamps. What can be made ahead is made ahead, after the turn (scheduleIdle),
// so a call set-up does not wait for it, and is used within EPHEMERAL_MAX_AGE_MS of being made or
// not at all. Pure (clock and scheduling injected). See secure-handshake.ts.

import type { Clock } from '../base/clock.js';
import { CookieChecker, CookieGenerator } from '../crypto/cookie.js';
import { initialState, startMessage1, type Message1Start, type SymmetricState } from '../crypto/noise.js';
import { dh, equal, generateKeyPair, type KeyPair } from '../crypto/primitives.js';
import type { PeerKey } from './session.js';
import { encodeTimestamp } from './secure-wire.js';

/** Mixed into every handshake as the Noise prologue: names this protocol and its version. */
export const PROLOGUE = new TextEncoder().encode('MSNL secure v1');

export interface PeerState extends PeerKey {
  readonly start: SymmetricState;
  readonly cookies: CookieGenerator;
  lastTimestamp: Uint8Array | null;
}

/** An ephemeral key pair for one response, and DH(it, the initiator's key) when made ahead. */
export interface ReplyEphemeral {
  readonly ephemeral: KeyPair;
  readonly shared: Uint8Array | null;
}

export interface KeysHost {
  readonly clock: Clock;
  wallClockMs(): number;
  /** Runs work no call waits for after the current turn (SecureHost.scheduleIdle). */
  readonly scheduleIdle?: (work: () => void) => void;
  /** Makes the ephemeral key pairs (default generateKeyPair; tests see which one a message carries). */
  readonly newKeyPair?: () => KeyPair;
  /**
   * Asks for a timer run (the endpoint's tick(), which calls dropStale) by `at` (host.clock): when
   * something made ahead must be made again (renewAt()), so an idle host with no other timer
   * renews it off the call path instead of a call finding it too old.
   */
  readonly scheduleAt?: (at: number) => void;
  /** Counts ephemerals made ahead and dropped unused (too old, or a key change). */
  readonly counters?: { ephemeralsDropped: number };
}

/**
 * The longest an ephemeral key pair made ahead waits for its handshake message: an older one is
 * dropped (its private key zeroed) and never used, so a key a message carries was made at most this
 * long before, however long the host sat idle. 120 s: the lifetime of a session's keys (rekeyAfterMs;
 * WireGuard's REKEY_AFTER_TIME), so an ephemeral private key is not held longer unused than the
 * keys it makes are used. Making the 256 configured peers' ones again costs 43-52 ms of CPU each
 * period, in slices after the turn (0.04 % of a core).
 */
export const EPHEMERAL_MAX_AGE_MS = 120_000;

/**
 * A timer run renews (drops and has made again) what was made ahead this long before or more:
 * 10 s before the takers would refuse it, so a call does not find it too old, and 10 s of them
 * at once (what was made within 10 s of the oldest one), so an idle host's timer runs about once
 * an EPHEMERAL_RENEW_MS (renewAt()), not once for each thing made ahead.
 */
export const EPHEMERAL_RENEW_MS = EPHEMERAL_MAX_AGE_MS - 10_000;
const RENEW_GROUP_MS = 10_000;

/** Something made ahead, with when it was made (host.clock). */
interface MadeAhead<T> {
  readonly value: T;
  readonly madeAt: number;
}

/** Most peers (and static DH values) held; past it the table starts again. */
export const MAX_TABLE = 4096;
/** How many configured peers preparePeers() makes ready ahead, and how many after each turn. */
const PREPARE_MAX = 256;
const PREPARE_SLICE = 8;
export const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Zeroes a response ephemeral dropped unused: its private key and DH(it, the peer's key). */
function wipeReply(reply: ReplyEphemeral): void {
  reply.ephemeral.privateKey.fill(0);
  reply.shared?.fill(0);
}

export class HandshakeKeys {
  identity: KeyPair | null = null;
  checker: CookieChecker | null = null;
  /** The Noise state both sides start from for handshakes to this host (its key as `<- s`). */
  start: SymmetricState | null = null;
  private readonly peers = new Map<string, PeerState>();
  /** The last handshake timestamp: whole milliseconds, and a count of stamps within that millisecond. */
  private lastStampMs = 0;
  private stampsInMs = 0;
  /** DH(host key, peer's static key) of configured peers by key (hex): fixed for a pair of keys, so
   *  each handshake does one X25519 less (WireGuard keeps it per peer too). */
  private readonly staticShared = new Map<string, Uint8Array>();
  /** The DH(host key, initiator's key) sharedOf just computed, until the key is checked (kept()). */
  private sharedJustMade: Uint8Array | null = null;
  /** The next handshake's ephemeral key pair, made ahead (after the turn, or by tick()) so a call set-up need not wait for it. */
  private spare: MadeAhead<KeyPair> | null = null;
  /** A refill of `spare` is scheduled (host.scheduleIdle). */
  private refilling = false;
  /** The configured peers' keys (the first PREPARE_MAX), made ready after the turn by preparePeers(); how many are. */
  private configured: readonly Uint8Array[] = [];
  private configuredIds = new Set<string>();
  private prepared = 0;
  private preparing = false;
  /**
   * The start of the next initiation to each configured peer (e, es, s, ss: all but the payload),
   * made after the turn by preparePeers() and again after each use; each is taken once
   * (message1Start), so its ephemeral key goes into one message only. Thrown away when the host
   * key or the configured peers change.
   */
  private readonly ready = new Map<string, MadeAhead<Message1Start>>();
  /** Likewise the ephemeral key pair of the next response to each configured peer, with DH(it, the peer's key). */
  private readonly replies = new Map<string, MadeAhead<ReplyEphemeral>>();
  /** No more recent than the oldest of spare, ready and replies was made (Infinity when none is held). */
  private oldestMadeAt = Infinity;

  private readonly newKeyPair: () => KeyPair;

  constructor(private readonly host: KeysHost) {
    this.newKeyPair = host.newKeyPair ?? generateKeyPair;
  }

  /** Sets (or clears) this host's key pair; false when it is the one already set. */
  setIdentity(identity: KeyPair | null): boolean {
    if (identity !== null && this.identity !== null && equal(identity.privateKey, this.identity.privateKey)) return false;
    this.identity = identity;
    this.staticShared.clear();
    this.spare = identity === null ? null : this.madeNow(this.newKeyPair());
    this.checker = identity === null ? null : new CookieChecker(identity.publicKey, () => this.host.clock.now());
    this.start = identity === null ? null : initialState(PROLOGUE, identity.publicKey);
    this.ready.clear();
    this.replies.clear();
    this.prepared = 0;
    this.schedulePrepare();
    return true;
  }

  /**
   * The keys of the configured peers (msnld: its routes'): with host.scheduleIdle, each one's
   * handshake state, DH(host key, its key), the start of an initiation to it (with es) and the
   * ephemeral of a response to it (with se) are made after the turn, a few at a time, so each side
   * of a call with it does two X25519 on the call's path instead of three or four. Without, all is
   * made at first contact, as for any peer.
   */
  preparePeers(keys: readonly Uint8Array[]): void {
    this.configured = keys.slice(0, PREPARE_MAX);
    this.configuredIds = new Set(this.configured.map(hexOf));
    this.ready.clear();
    this.replies.clear();
    this.prepared = 0;
    this.schedulePrepare();
  }

  private schedulePrepare(): void {
    if (this.preparing || this.host.scheduleIdle === undefined || this.identity === null || this.prepared >= this.configured.length) return;
    this.preparing = true;
    this.host.scheduleIdle(this.prepareSlice);
  }

  private readonly prepareSlice = (): void => {
    this.preparing = false;
    const end = Math.min(this.configured.length, this.prepared + PREPARE_SLICE);
    for (; this.prepared < end && this.identity !== null; this.prepared++) this.prepare(this.peer(this.configured[this.prepared]!));
    this.schedulePrepare();
  };

  /**
   * Makes DH(host key, the peer's key) and, where there is none, the start of an initiation to it
   * and the ephemeral of a response to it with DH(that, its key).
   */
  private prepare(peer: PeerState): void {
    const shared = this.sharedWith(peer);
    if (shared === null || this.identity === null) return;
    if (!this.ready.has(peer.id)) {
      const begun = startMessage1(peer.start, this.identity, peer.publicKey, this.newKeyPair(), shared);
      if (begun !== null) this.ready.set(peer.id, this.madeNow(begun));
    }
    if (!this.replies.has(peer.id)) {
      const ephemeral = this.newKeyPair();
      const withPeer = dh(ephemeral.privateKey, peer.publicKey);
      if (withPeer !== null) this.replies.set(peer.id, this.madeNow({ ephemeral, shared: withPeer }));
    }
  }

  /** Makes again, after the turn, what was just taken for `peer`, if it is still configured. */
  private remake(peer: PeerState): void {
    this.host.scheduleIdle?.(() => {
      if (this.configuredIds.has(peer.id)) this.prepare(peer);
    });
  }

  /**
   * The ephemeral of a response to `peer` (whose key the initiation proved): the one made ahead
   * with DH(it, the peer's key), taken (another is made after the turn), or the spare without.
   * One made ahead too long ago is dropped instead (EPHEMERAL_MAX_AGE_MS).
   */
  replyEphemeral(peer: PeerState): ReplyEphemeral {
    const made = this.replies.get(peer.id);
    if (made !== undefined) {
      this.replies.delete(peer.id);
      this.remake(peer);
      if (this.fresh(made, this.host.clock.now())) return made.value;
      wipeReply(made.value);
      this.dropped();
    }
    return { ephemeral: this.ephemeral(), shared: null };
  }

  /**
   * The start of an initiation to `peer`: the one made ahead, taken (another is made after the
   * turn if the peer is still configured), or one made now (as when the one made ahead is too
   * old, EPHEMERAL_MAX_AGE_MS). Null without a host key or when the peer's key is not a valid point.
   */
  message1Start(peer: PeerState): Message1Start | null {
    const made = this.ready.get(peer.id);
    if (made !== undefined) {
      this.ready.delete(peer.id);
      this.remake(peer);
      if (made.value.staticKey === this.identity && this.fresh(made, this.host.clock.now())) return made.value;
      made.value.ephemeral.privateKey.fill(0);
      this.dropped();
    }
    if (this.identity === null) return null;
    return startMessage1(peer.start, this.identity, peer.publicKey, this.ephemeral(), this.sharedWith(peer));
  }

  /** Peers, static DH values, initiation starts and response ephemerals held. */
  get size(): number {
    return this.peers.size + this.staticShared.size + this.ready.size + this.replies.size;
  }

  /** A fresh ephemeral key pair for one handshake message: the spare made ahead (unless too old), or a new one. */
  ephemeral(): KeyPair {
    const spare = this.spare;
    this.spare = null;
    const usable = spare !== null && this.fresh(spare, this.host.clock.now());
    if (spare !== null && !usable) {
      spare.value.privateKey.fill(0);
      this.dropped();
    }
    const made = usable ? spare.value : this.newKeyPair();
    if (this.host.scheduleIdle !== undefined && !this.refilling) {
      this.refilling = true;
      this.host.scheduleIdle(this.refill);
    }
    return made;
  }

  /** Makes the next spare ephemeral key pair if there is none (tick(), and after the turn). */
  makeSpare(): void {
    if (this.spare === null && this.identity !== null) this.spare = this.madeNow(this.newKeyPair());
  }

  /**
   * From renewAt() on: drops what was made ahead EPHEMERAL_RENEW_MS before `now`, or within
   * RENEW_GROUP_MS after that (its private keys zeroed), and has it made again after the turn (the
   * spare at the next makeSpare()), so a call after a quiet spell still finds fresh ones; asks
   * for the next timer run at the new renewAt() (host.scheduleAt). The takers check the age too
   * (EPHEMERAL_MAX_AGE_MS): this only keeps them ready.
   */
  dropStale(now: number): void {
    if (now < this.renewAt()) return; // nothing is old enough yet (most ticks)
    // What was made within RENEW_GROUP_MS of the oldest is renewed with it (one timer run).
    const renew = (made: MadeAhead<unknown>): boolean => now - made.madeAt >= EPHEMERAL_RENEW_MS - RENEW_GROUP_MS;
    this.oldestMadeAt = Infinity;
    if (this.spare !== null && renew(this.spare)) {
      this.spare.value.privateKey.fill(0);
      this.spare = null;
      this.dropped();
    }
    if (this.spare !== null) this.oldestMadeAt = this.spare.madeAt;
    let dropped = false;
    for (const [id, made] of this.ready) {
      if (!renew(made)) {
        this.oldestMadeAt = Math.min(this.oldestMadeAt, made.madeAt);
        continue;
      }
      made.value.ephemeral.privateKey.fill(0);
      this.ready.delete(id);
      this.dropped();
      dropped = true;
    }
    for (const [id, made] of this.replies) {
      if (!renew(made)) {
        this.oldestMadeAt = Math.min(this.oldestMadeAt, made.madeAt);
        continue;
      }
      wipeReply(made.value);
      this.replies.delete(id);
      this.dropped();
      dropped = true;
    }
    if (this.oldestMadeAt !== Infinity) this.host.scheduleAt?.(this.renewAt());
    if (!dropped) return;
    this.prepared = 0; // the prepare pass walks the configured peers again and makes what is missing
    this.schedulePrepare();
  }

  private madeNow<T>(value: T): MadeAhead<T> {
    const madeAt = this.host.clock.now();
    if (madeAt < this.oldestMadeAt) {
      this.oldestMadeAt = madeAt;
      this.host.scheduleAt?.(this.renewAt());
    }
    return { value, madeAt };
  }

  /** When dropStale() next has something to renew (host.clock), or Infinity when nothing made ahead is held. */
  renewAt(): number {
    return this.oldestMadeAt + EPHEMERAL_RENEW_MS;
  }

  private dropped(): void {
    if (this.host.counters !== undefined) this.host.counters.ephemeralsDropped++;
  }

  private fresh(made: MadeAhead<unknown>, now: number): boolean {
    return now - made.madeAt < EPHEMERAL_MAX_AGE_MS;
  }

  /** The refill scheduled by ephemeral(): off the path of the call that took the last spare. */
  private readonly refill = (): void => {
    this.refilling = false;
    this.makeSpare();
  };

  /** DH(host key, the peer's key), made once per peer and host key; null when it fails. */
  sharedWith(peer: PeerState): Uint8Array | null {
    let shared = this.staticShared.get(peer.id) ?? null;
    if (shared === null && this.identity !== null) {
      shared = dh(this.identity.privateKey, peer.publicKey);
      if (shared !== null) this.keepShared(peer.id, shared);
    }
    return shared;
  }

  /** readMessage1's source of DH(host key, rs): the kept value of a configured peer, else computed
   *  here and kept aside until the caller has checked rs against the route's key (kept()). */
  readonly sharedOf = (rs: Uint8Array): Uint8Array | null => {
    this.sharedJustMade = null;
    const kept = this.staticShared.get(hexOf(rs));
    if (kept !== undefined || this.identity === null) return kept ?? null;
    this.sharedJustMade = dh(this.identity.privateKey, rs);
    return this.sharedJustMade;
  };

  /** The initiator's key `peer` is the configured one: the DH sharedOf made for it is kept. */
  kept(peer: PeerState): void {
    if (this.sharedJustMade !== null) this.keepShared(peer.id, this.sharedJustMade);
    this.sharedJustMade = null;
  }

  private keepShared(id: string, shared: Uint8Array): void {
    if (this.staticShared.size >= MAX_TABLE) this.staticShared.clear();
    this.staticShared.set(id, shared);
  }

  peer(publicKey: Uint8Array): PeerState {
    const id = hexOf(publicKey);
    let peer = this.peers.get(id);
    if (peer === undefined) {
      if (this.peers.size >= MAX_TABLE) this.peers.clear();
      const now = (): number => this.host.clock.now();
      peer = { publicKey: new Uint8Array(publicKey), id, start: initialState(PROLOGUE, publicKey), cookies: new CookieGenerator(publicKey, now), lastTimestamp: null };
      this.peers.set(id, peer);
    }
    return peer;
  }

  /** A strictly increasing TAI64N stamp from the wall clock. */
  timestamp(): Uint8Array {
    // Nanoseconds since 1970 are past 2^53, where a double cannot add 1: counted in integers apart,
    // so two initiations within one millisecond (calls on two interfaces, a call and a rekey)
    // still get increasing stamps instead of the second being dropped by the peer as a replay.
    const ms = Math.floor(this.host.wallClockMs());
    if (ms > this.lastStampMs) {
      this.lastStampMs = ms;
      this.stampsInMs = 0;
    } else if (++this.stampsInMs >= 1_000_000) {
      this.lastStampMs++;
      this.stampsInMs = 0;
    }
    return encodeTimestamp(Math.floor(this.lastStampMs / 1000), (this.lastStampMs % 1000) * 1_000_000 + this.stampsInMs);
  }
}
