// Secure MSNL: the Noise IK handshake carried by the connect request and its answer, the sealing
// and opening of every frame of a keyed connection, rekeying, cookies under load. The endpoint
// owns one SecureLayer and stays the only owner of connections; this layer owns the session
// indexes and the sealing and opening of frames, its Handshakes (secure-handshake.ts) the
// handshake attempts and answer contexts. Pure (keys, clock and randomness injected or from
// node:crypto); failures are counted drops, never answers. man/msnl.7 SECURE MSNL is the spec.

import type { Clock } from '../base/clock.js';
import type { RandomSource } from '../base/random.js';
import { nodeCryptoAead, type AeadBatch } from '../crypto/aead.js';
import { TAG_SIZE, type KeyPair } from '../crypto/primitives.js';
import type { Connection } from './connection.js';
import { Handshakes } from './secure-handshake.js';
import { FrameSealer } from './secure-sealer.js';
import { SealQueue } from './secure-batch.js';
import { SegmentSealer } from './secure-segments.js';
import { OpenQueue } from './secure-open.js';
import type { SecureConn, Session } from './session.js';
import { readSealedHeader, SEALED_HEADER_SIZE, SecureType, type SealedHeader } from './secure-wire.js';
import type { AuthFailure, EndpointConfig, EndpointCounters } from './types.js';
import { isPathProbe, type SignalMessage } from './wire.js';

export { PROLOGUE } from './secure-keys.js';

export interface SecureHost<L> {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: EndpointConfig;
  readonly counters: EndpointCounters;
  /** Seals and opens sealed frames (default: node:crypto, the reference; msnld: the addon's). */
  readonly aead?: AeadBatch;
  /**
   * When set, sealed frames of a burst are sealed by one AEAD call (secure-batch.ts), and those
   * received in a burst opened by one (secure-open.ts): this runs each flush after the current
   * callback (msnld: queueMicrotask). Unset: each frame is sealed and transmitted, or opened and
   * handled, at once (the tests step the endpoints synchronously).
   */
  readonly scheduleSeals?: (flush: () => void) => void;
  /**
   * Runs work that no call waits for once the current turn of the event loop is done (msnld:
   * setImmediate, after the microtask that sends the turn's datagrams): the next handshake's
   * ephemeral key pair is made there. Unset: it is made by tick(), or when a handshake needs it.
   */
  readonly scheduleIdle?: (work: () => void) => void;
  /** Asks for a tick() by `at` (the endpoint's scheduleAt): the ephemerals made ahead are renewed there (HandshakeKeys.renewAt). */
  readonly scheduleAt?: (at: number) => void;
  /** The configured key of an MSNL address: a key, 'none' (plain), or undefined (no route). */
  peerKeyOf(address: number): Uint8Array | 'none' | undefined;
  sameLink(a: L, b: L): boolean;
  linkBytes(link: L): Uint8Array;
  wallClockMs(): number;
  transmit(link: L, buf: Uint8Array, offset: number, length: number): void;
  /** Sends a run of datagrams written in place by `fill` (UnderlaySocket.sendRun); null: one by one instead. */
  readonly transmitRun?: (link: L, count: number, stride: number, last: number, fill: (buf: Uint8Array, at: number) => boolean) => boolean | null;
  findConnection(id: number): Connection<L> | undefined;
  /** Hands an authenticated signal to the signalling layer. */
  signal(msg: SignalMessage, link: L): void;
  /** Hands an opened inner frame of `conn` to the endpoint. */
  inner(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, link: L): void;
  /** The array a burst of opened frames lies in while they are handed to inner(), then null (OpenQueueHost.joining). */
  readonly joinSegments?: (source: Uint8Array | null) => void;
  authFailed(address: number, reason: AuthFailure, link: L): void;
}

/** A session index's entry: the session and the connection it keys. */
interface SessionEntry<L> {
  readonly session: Session;
  readonly conn: Connection<L>;
}

export class SecureLayer<L> {
  private readonly sessions = new Map<number, SessionEntry<L>>();
  private readonly handshakes: Handshakes<L>;
  private readonly sealedHeader: SealedHeader = { receiver: 0, counter: 0 };
  private readonly sealer: FrameSealer;
  /** Packets of several segments sealed by one call (the addon's; null: segment by segment). */
  private readonly segments: SegmentSealer | null;
  /** Sealed frames waiting to be sealed together (null: each is sealed at once). */
  private readonly sealQueue: SealQueue<L> | null;
  /** Received sealed frames waiting to be opened together (null: each is opened at once). */
  private readonly openQueue: OpenQueue<SessionEntry<L>, L> | null;
  /** The clock, read once per burst of received and of sent sealed frames: key ages (seconds)
   *  need no finer time, and a read per frame was half as costly as the AEAD on small frames. */
  private rxNow = 0;
  /** The buffer of the datagram being received when it stays unchanged until openQueued() (endpoint.receiveHeld). */
  held: Uint8Array | null = null;
  private txNow = 0;
  constructor(private readonly host: SecureHost<L>) {
    this.sealer = new FrameSealer(host.aead);
    this.handshakes = new Handshakes<L>(host, {
      sealer: this.sealer,
      addSession: (session, conn) => void this.sessions.set(session.localIndex, { session, conn }),
      forget: (sessions) => this.forget(sessions),
      roam: (conn, link) => this.roam(conn, link),
      hasIndex: (index) => this.sessions.has(index),
    });
    this.segments = host.aead?.sealSegments === undefined ? null : new SegmentSealer(host.aead);
    const schedule = host.scheduleSeals;
    this.sealQueue = schedule === undefined ? null : new SealQueue<L>({
      aead: host.aead ?? nodeCryptoAead,
      send: (link, buf, offset, length) => host.transmit(link, buf, offset, length),
      refused: () => host.counters.dropSendNoSession++,
      schedule,
    });
    this.openQueue = schedule === undefined ? null : new OpenQueue<SessionEntry<L>, L>({
      aead: host.aead ?? nodeCryptoAead,
      opened: (entry, link, counter, buf, offset, length, ok) => this.opened(entry, link, counter, buf, offset, length, ok),
      ...(host.joinSegments === undefined ? {} : { joining: host.joinSegments }),
      schedule,
    });
  }

  /** Which AEAD implementation seals and opens frames ('native' or 'node:crypto'). */
  get aeadName(): string {
    return this.sealer.name;
  }

  get publicKey(): Uint8Array | null {
    return this.handshakes.keys.identity?.publicKey ?? null;
  }

  /** Sets (or clears) this host's key pair; answer contexts made under the old one are forgotten. */
  setIdentity(identity: KeyPair | null): void {
    this.handshakes.setIdentity(identity);
  }

  /** The configured peers' keys: their handshake state is made ready after the turn (HandshakeKeys.preparePeers). */
  preparePeers(keys: readonly Uint8Array[]): void {
    this.handshakes.keys.preparePeers(keys);
  }

  /** When tick() next renews ephemerals made ahead (HandshakeKeys.renewAt), or Infinity. */
  renewAt(): number {
    return this.handshakes.keys.renewAt();
  }

  /** How many handshake and session entries are held (the fuzz tests watch it stay bounded). */
  stateSize(): number {
    return this.sessions.size + this.handshakes.size;
  }

  /** Sends a connect request (or, with `rekeyOf`, a rekey) to the holder of `peerKey`. False when it cannot. */
  sendInit(link: L, signal: Uint8Array, peerKey: Uint8Array, rekeyOf: Connection<L> | null = null): boolean {
    return this.handshakes.sendInit(link, signal, peerKey, rekeyOf);
  }

  /** Sends an answer signal as the response to the initiation it answers (Handshakes.sendAnswer). */
  sendAnswer(signal: Uint8Array): boolean {
    return this.handshakes.sendAnswer(signal);
  }

  /** The state of a keyed connection before it has keys (a responder's, until its confirm is sealed). */
  newSecureConn(publicKey: Uint8Array): SecureConn {
    return this.handshakes.newSecureConn(publicKey);
  }

  /** The session keys of the response being handled, for the connection its confirm opens. */
  attach(conn: Connection<L>): void {
    this.handshakes.attach(conn);
  }

  // --- receiving -------------------------------------------------------------------------

  /** Handles a datagram of types 11..14. */
  receive(buf: Uint8Array, offset: number, length: number, link: L): void {
    const type = buf[offset + 1];
    if (type === SecureType.SEALED) {
      this.receiveSealed(buf, offset, length, link);
      return;
    }
    const msg = buf.subarray(offset, offset + length);
    if (type === SecureType.HANDSHAKE_INIT) this.handshakes.receiveInit(msg, link);
    else if (type === SecureType.HANDSHAKE_RESPONSE) this.handshakes.receiveResponse(msg, link);
    else if (type === SecureType.COOKIE_REPLY) this.handshakes.receiveCookie(msg);
    else this.host.counters.dropMalformed++;
  }

  private receiveSealed(buf: Uint8Array, offset: number, length: number, link: L): void {
    const { host } = this;
    const h = this.sealedHeader;
    if (!readSealedHeader(buf, offset, length, h)) {
      host.counters.dropMalformed++;
      return;
    }
    const entry = this.sessions.get(h.receiver);
    if (entry === undefined) {
      host.counters.dropUnknownSession++;
      return;
    }
    const { session } = entry;
    const q = this.openQueue;
    const now = q === null || q.pending === 0 ? (this.rxNow = host.clock.now()) : this.rxNow;
    if (!session.window.check(h.counter) || now - session.createdAt >= host.config.rejectAfterMs) {
      host.counters.dropReplay++;
      return;
    }
    // The window is checked again, and moved, once the frame has authenticated.
    if (q !== null && (buf === this.held ? q.addInPlace(session.receiveKey, h.counter, entry, link, buf, offset, length) : q.add(session.receiveKey, h.counter, entry, link, buf, offset, length))) return;
    const rx = this.sealer.open(session.receiveKey, h.counter, buf, offset, length);
    try {
      this.opened(entry, link, h.counter, rx ?? buf, rx === null ? offset : 0, length, rx !== null);
    } finally {
      if (rx !== null) this.sealer.opened();
    }
  }

  /** Opens the received sealed frames still queued (the buffers they lie in are about to change). */
  openQueued(): void {
    this.openQueue?.flush();
  }

  /** A sealed frame of `entry` opened (at once, or with its burst): buf[offset, offset + length) is the datagram. */
  private opened(entry: SessionEntry<L>, link: L, counter: number, buf: Uint8Array, offset: number, length: number, ok: boolean): void {
    const { host } = this;
    const { session, conn } = entry;
    // Opened with its burst: an earlier frame of the burst may have closed the connection.
    if (this.sessions.get(session.localIndex) !== entry) {
      host.counters.dropUnknownSession++;
      return;
    }
    const newest = counter >= session.window.highest;
    if (!ok || !session.window.accept(counter)) {
      host.counters.dropAuth++;
      return;
    }
    host.counters.sealedIn++;
    session.lastReceivedAt = this.rxNow;
    if (conn.secure !== null && conn.secure.current !== session && conn.secure.previous !== session) this.forget(conn.secure.promote(session));
    const inner = length - SEALED_HEADER_SIZE - TAG_SIZE;
    // A late, reordered frame does not move the peer back, nor does an exit or size probe (msnl(7) Exits).
    if (newest && !isPathProbe(buf, offset + SEALED_HEADER_SIZE, inner)) this.roam(conn, link);
    host.inner(conn, buf, offset + SEALED_HEADER_SIZE, inner, link);
  }

  // --- sealing ---------------------------------------------------------------------------

  /**
   * Seals `head` (when given: a data header) then buf[offset, offset + length), one MSNL frame,
   * and sends it to the connection's peer (or to `to`, one of its exits); the octets are copied
   * once, into the sealed datagram.
   */
  sealAndSend(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, head: Uint8Array | null = null, to: L = conn.link): boolean {
    const session = conn.secure?.sendSession() ?? null;
    const { host } = this;
    const q = this.sealQueue;
    const now = q === null || q.pending === 0 ? (this.txNow = host.clock.now()) : this.txNow;
    if (session === null || now - session.createdAt >= host.config.rejectAfterMs || session.sendCounter >= host.config.rejectAfterMessages) {
      host.counters.dropSendNoSession++;
      return false;
    }
    const counter = session.sendCounter++;
    if (q?.add(session.sendKey, session.remoteIndex, counter, to, buf, offset, length, head) === true) {
      host.counters.sealedOut++;
      return true;
    }
    const out = this.sealer.seal(session.sendKey, session.remoteIndex, counter, buf, offset, length, head);
    if (out === null) {
      host.counters.dropSendNoSession++;
      return false;
    }
    try {
      host.counters.sealedOut++;
      host.transmit(to, out, 0, SEALED_HEADER_SIZE + (head === null ? 0 : head.length) + length + TAG_SIZE);
      return true;
    } finally {
      this.sealer.sealed();
    }
  }

  /**
   * Sends the packet buf[offset, offset + length) as segments of `chunk` octets, each with the data
   * header `dataHead` (offset field set per segment), sealed by one call (SegmentSealer), after
   * whatever frames are queued before it. Null when that path cannot take it (no such AEAD, no
   * usable session, counters near their limit, a flush under way): the caller then seals segment
   * by segment, which also counts what is dropped.
   */
  sealPacket(conn: Connection<L>, dataHead: Uint8Array, buf: Uint8Array, offset: number, length: number, chunk: number): boolean | null {
    const seg = this.segments;
    const q = this.sealQueue;
    if (seg === null || !seg.ready || q?.flushing === true) return null;
    const session = conn.secure?.sendSession() ?? null;
    const { host } = this;
    const count = Math.ceil(length / chunk);
    const now = (this.txNow = host.clock.now());
    if (session === null || now - session.createdAt >= host.config.rejectAfterMs || session.sendCounter + count > host.config.rejectAfterMessages) return null;
    if (q !== null && q.pending > 0) q.flush(); // in the order they were sent
    const counter = session.sendCounter;
    session.sendCounter += count;
    const link = conn.link;
    seg.prepare(session.sendKey, session.remoteIndex, counter, dataHead, buf, offset, length, chunk);
    // Straight into the socket's send slab when it lends it; a run it dropped is counted there.
    const run = host.transmitRun?.(link, count, seg.stride, seg.last, seg.fill) ?? null;
    if (run === null && seg.sealOwn()) {
      seg.hold(true);
      try {
        for (let i = 0, at = seg.first; i < count; i++, at += seg.stride) host.transmit(link, seg.out, at, i < count - 1 ? seg.stride : seg.last);
      } finally {
        seg.hold(false);
      }
    }
    if (seg.filled && !seg.sealed) {
      host.counters.dropSendNoSession += count;
      return false;
    }
    if (run === false) return false; // the socket had no room: counted as its queue drops
    host.counters.sealedOut += count;
    return true;
  }

  // --- timers ----------------------------------------------------------------------------

  /** Rekeys connections this side originated, expires old keys and stale handshake state. */
  tick(now: number, conns: Iterable<Connection<L>>, rekeySignal: (conn: Connection<L>) => Uint8Array): void {
    const { config } = this.host;
    for (const conn of conns) {
      const sc = conn.secure;
      if (sc === null) continue;
      this.forget(sc.expire(now, config.rejectAfterMs));
      if (conn.role !== 'originator') continue;
      // Keys that expired unused (a suspended host, a long outage) are renewed too.
      const cur = sc.current;
      const due = cur === null || now - cur.createdAt >= config.rekeyAfterMs || cur.sendCounter >= config.rekeyAfterMessages;
      if (due && now - sc.rekeySentAt >= config.rekeyRetryMs) {
        sc.rekeySentAt = now;
        this.sendInit(conn.link, rekeySignal(conn), sc.peer.publicKey, conn);
      }
    }
    this.handshakes.expire(now);
    this.handshakes.keys.makeSpare();
  }

  /** When tick() next has work for `conn`. */
  nextDeadline(conn: Connection<L>): number {
    const sc = conn.secure;
    if (sc === null) return Infinity;
    const { config } = this.host;
    let next = Infinity;
    for (const s of sc.all()) next = Math.min(next, s.createdAt + config.rejectAfterMs);
    if (conn.role === 'originator') next = Math.min(next, Math.max((sc.current?.createdAt ?? -Infinity) + config.rekeyAfterMs, sc.rekeySentAt + config.rekeyRetryMs));
    return next;
  }

  connectionClosed(conn: Connection<L>): void {
    if (conn.secure !== null) this.forget(conn.secure.all());
    this.handshakes.connectionClosed(conn);
  }

  // --- helpers ---------------------------------------------------------------------------

  private roam(conn: Connection<L>, link: L): void {
    // A connection with several exits moves by its own exit probes, not by where frames come from.
    if (conn.exits !== null || this.host.sameLink(conn.link, link)) return;
    conn.link = link;
    this.host.counters.roams++;
  }

  private forget(sessions: readonly Session[]): void {
    for (const s of sessions) this.sessions.delete(s.localIndex);
  }


}
