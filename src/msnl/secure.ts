// Secure MSNL: the Noise IK handshake carried by the connect request and its answer, the sealing
// and opening of every frame of a keyed connection, rekeying, cookies under load. The endpoint
// owns one SecureLayer and stays the only owner of connections; this layer owns handshake
// attempts, answer contexts and session indexes. Pure (keys, clock and randomness injected or from
// node:crypto); failures are counted drops, never answers. man/msnl.7 SECURE MSNL is the spec.

import { readU32 } from '../abi/bytes.js';
import type { Clock } from '../base/clock.js';
import type { RandomSource } from '../base/random.js';
import { CookieChecker, CookieGenerator } from '../crypto/cookie.js';
import { initialState, readMessage1, readMessage2, writeMessage1, writeMessage2, type InitiatorState, type ResponderState, type SymmetricState } from '../crypto/noise.js';
import { nodeCryptoAead, type AeadBatch } from '../crypto/aead.js';
import { dh, equal, generateKeyPair, TAG_SIZE, type KeyPair } from '../crypto/primitives.js';
import type { Connection } from './connection.js';
import { MsgType, SIGNAL_SIZE } from './constants.js';
import { HandshakeGate } from './handshake-gate.js';
import { FrameSealer } from './secure-sealer.js';
import { SealQueue } from './secure-batch.js';
import { SegmentSealer } from './secure-segments.js';
import { OpenQueue } from './secure-open.js';
import { SecureConn, Session, type PeerKey } from './session.js';
import { decodeCookieReply, decodeInit, decodeResponse, encodeCookieReply, encodeInit, encodeResponse, encodeTimestamp, readSealedHeader, SEALED_HEADER_SIZE, SecureType, TIMESTAMP_SIZE, type SealedHeader } from './secure-wire.js';
import type { AuthFailure, EndpointConfig, EndpointCounters } from './types.js';
import { decodeMessage, isPathProbe, type SignalMessage } from './wire.js';

/** Mixed into every handshake as the Noise prologue: names this protocol and its version. */
export const PROLOGUE = new TextEncoder().encode('MSNL secure v1');


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
  authFailed(address: number, reason: AuthFailure, link: L): void;
}

/** A session index's entry: the session and the connection it keys. */
interface SessionEntry<L> {
  readonly session: Session;
  readonly conn: Connection<L>;
}

interface PeerState extends PeerKey {
  readonly start: SymmetricState;
  readonly cookies: CookieGenerator;
  lastTimestamp: Uint8Array | null;
}

interface Attempt<L> {
  readonly state: InitiatorState;
  readonly peer: PeerState;
  readonly txn: number;
  readonly rekeyOf: Connection<L> | null;
  readonly expiresAt: number;
}

interface Answer<L> {
  readonly state: ResponderState;
  readonly peer: PeerState;
  readonly peerIndex: number;
  readonly link: L;
  readonly expiresAt: number;
}

/** Keys of transport sessions made by a response the initiator just read (taken by attach()). */
interface Arrived {
  readonly session: Session;
  readonly peer: PeerState;
}

const MAX_TABLE = 4096;
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const callKey = (addr: number, port: number, txn: number): string => `${addr}:${port}:${txn}`;

export class SecureLayer<L> {
  private identity: KeyPair | null = null;
  private checker: CookieChecker | null = null;
  private start: SymmetricState | null = null;
  private readonly peers = new Map<string, PeerState>();
  private readonly attempts = new Map<number, Attempt<L>>();
  private readonly answers = new Map<string, Answer<L>>();
  private readonly sessions = new Map<number, SessionEntry<L>>();
  private arrived: Arrived | null = null;
  private readonly gate: HandshakeGate;
  /** The last handshake timestamp: whole milliseconds, and a count of stamps within that millisecond. */
  private lastStampMs = 0;
  private stampsInMs = 0;
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
  /** DH(host key, peer's static key) of configured peers by key (hex): fixed for a pair of keys, so
   *  each handshake does one X25519 less (WireGuard keeps it per peer too). */
  private readonly staticShared = new Map<string, Uint8Array>();
  /** The DH(host key, initiator's key) receiveInit's readMessage1 just computed, until the key is checked. */
  private sharedJustMade: Uint8Array | null = null;
  /** The next handshake's ephemeral key pair, made ahead by tick() so a call set-up need not wait for it. */
  private spare: KeyPair | null = null;

  constructor(private readonly host: SecureHost<L>) {
    this.gate = new HandshakeGate(host.config);
    this.sealer = new FrameSealer(host.aead);
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
      schedule,
    });
  }

  /** Which AEAD implementation seals and opens frames ('native' or 'node:crypto'). */
  get aeadName(): string {
    return this.sealer.name;
  }

  get publicKey(): Uint8Array | null {
    return this.identity?.publicKey ?? null;
  }

  /** Sets (or clears) this host's key pair; answer contexts made under the old one are forgotten. */
  setIdentity(identity: KeyPair | null): void {
    if (identity !== null && this.identity !== null && equal(identity.privateKey, this.identity.privateKey)) return;
    this.identity = identity;
    this.answers.clear();
    this.staticShared.clear();
    this.spare = identity === null ? null : generateKeyPair();
    this.checker = identity === null ? null : new CookieChecker(identity.publicKey, () => this.host.clock.now());
    this.start = identity === null ? null : initialState(PROLOGUE, identity.publicKey);
    if (identity !== null) this.warmUp(identity);
  }

  /** How many handshake and session entries are held (the fuzz tests watch it stay bounded). */
  stateSize(): number {
    return this.attempts.size + this.answers.size + this.sessions.size + this.gate.size + this.peers.size + this.staticShared.size;
  }

  // --- sending handshakes -----------------------------------------------------------------

  /** Sends a connect request (or, with `rekeyOf`, a rekey) to the holder of `peerKey`. False when it cannot. */
  sendInit(link: L, signal: Uint8Array, peerKey: Uint8Array, rekeyOf: Connection<L> | null = null): boolean {
    const { host } = this;
    if (this.identity === null) {
      host.counters.dropNoHostKey++;
      host.authFailed(readU32(signal, 16), 'no-host-key', link);
      return false;
    }
    const peer = this.peer(peerKey);
    const index = this.newIndex();
    const payload = new Uint8Array(SIGNAL_SIZE + TIMESTAMP_SIZE);
    payload.set(signal.subarray(0, SIGNAL_SIZE));
    payload.set(this.timestamp(), SIGNAL_SIZE);
    const written = writeMessage1(peer.start, this.identity, peerKey, this.ephemeral(), payload, this.sharedWith(peer));
    if (written === null) {
      host.counters.dropAuth++;
      return false;
    }
    const msg = encodeInit(index, written.message);
    peer.cookies.addMacs(msg);
    this.boundTable(this.attempts);
    this.attempts.set(index, { state: written.state, peer, txn: readU32(signal, 4), rekeyOf, expiresAt: host.clock.now() + host.config.connectTimeoutMs + 1000 });
    if (rekeyOf?.secure) rekeyOf.secure.rekeyIndex = index;
    host.counters.handshakesSent++;
    host.transmit(link, msg, 0, msg.length);
    return true;
  }

  /**
   * Sends an answer signal (confirm, wait, disconnect, redirect) as the response to the initiation
   * it answers. False when no authenticated initiation is waiting for it (the caller then must not
   * send it in the clear to a keyed peer).
   */
  sendAnswer(signal: Uint8Array): boolean {
    const key = callKey(readU32(signal, 8), readU32(signal, 12), readU32(signal, 4));
    const answer = this.answers.get(key);
    if (answer === undefined) return false;
    const { host } = this;
    const isConfirm = signal[1] === MsgType.CONNECT_CONFIRM;
    const conn = isConfirm ? host.findConnection(readU32(signal, 32)) : undefined;
    const index = this.newIndex();
    const written = writeMessage2(answer.state, this.ephemeral(), signal.subarray(0, SIGNAL_SIZE));
    if (written === null) return false;
    if (conn !== undefined) {
      conn.secure ??= new SecureConn(answer.peer);
      const session = new Session(index, answer.peerIndex, written.keys.send, written.keys.receive, host.clock.now());
      this.sessions.set(index, { session, conn });
      this.forget(conn.secure.addPending(session));
    }
    const msg = encodeResponse(index, answer.peerIndex, written.message);
    answer.peer.cookies.addMacs(msg);
    host.counters.handshakesAnswered++;
    host.transmit(answer.link, msg, 0, msg.length);
    return true;
  }

  /** The state of a keyed connection before it has keys (a responder's, until its confirm is sealed). */
  newSecureConn(publicKey: Uint8Array): SecureConn {
    return new SecureConn(this.peer(publicKey));
  }

  /** The session keys of the response being handled, for the connection its confirm opens. */
  attach(conn: Connection<L>): void {
    const arrived = this.arrived;
    if (arrived === null) return;
    this.arrived = null;
    conn.secure = new SecureConn(arrived.peer);
    conn.secure.install(arrived.session);
    this.sessions.set(arrived.session.localIndex, { session: arrived.session, conn });
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
    if (type === SecureType.HANDSHAKE_INIT) this.receiveInit(msg, link);
    else if (type === SecureType.HANDSHAKE_RESPONSE) this.receiveResponse(msg, link);
    else if (type === SecureType.COOKIE_REPLY) this.receiveCookie(msg);
    else this.host.counters.dropMalformed++;
  }

  private receiveInit(msg: Uint8Array, link: L): void {
    const { host } = this;
    const view = decodeInit(msg);
    if (view === null) {
      host.counters.dropMalformed++;
      return;
    }
    if (this.checker === null || this.start === null || this.identity === null) {
      host.counters.dropNoHostKey++;
      return;
    }
    if (!this.checker.checkMac1(msg)) {
      host.counters.dropAuth++;
      return;
    }
    const now = host.clock.now();
    const source = host.linkBytes(link);
    if (this.gate.underLoad(now) && !this.checker.checkMac2(msg, source)) {
      const { nonce, sealed } = this.checker.makeReply(msg, source);
      const reply = encodeCookieReply(view.sender, nonce, sealed);
      host.counters.cookieRepliesSent++;
      host.transmit(link, reply, 0, reply.length);
      return;
    }
    if (!this.gate.allow(hexOf(source), now)) {
      host.counters.dropHandshakeRateLimited++;
      return;
    }
    this.sharedJustMade = null;
    const read = readMessage1(this.start, this.identity, view.noise, this.sharedOf);
    if (read === null || read.payload.length !== SIGNAL_SIZE + TIMESTAMP_SIZE) {
      host.counters.dropAuth++;
      return;
    }
    const decoded = decodeMessage(read.payload.subarray(0, SIGNAL_SIZE));
    const rekey = decoded.ok && decoded.msg.type === MsgType.CONNECT_CONFIRM;
    if (!decoded.ok || (decoded.msg.type !== MsgType.CONNECT_REQUEST && !rekey)) {
      host.counters.dropMalformed++;
      return;
    }
    const signal = decoded.msg as SignalMessage;
    const configured = host.peerKeyOf(signal.origAddr);
    if (configured === undefined || configured === 'none' || !equal(configured, read.state.remoteStatic)) {
      host.counters.dropWrongKey++;
      host.authFailed(signal.origAddr, configured instanceof Uint8Array ? 'wrong-key' : 'no-key', link);
      return;
    }
    const peer = this.peer(configured);
    if (this.sharedJustMade !== null) this.keepShared(peer.id, this.sharedJustMade);
    const stamp = read.payload.subarray(SIGNAL_SIZE);
    if (peer.lastTimestamp !== null && Buffer.compare(stamp, peer.lastTimestamp) <= 0) {
      host.counters.dropReplay++;
      return;
    }
    peer.lastTimestamp = new Uint8Array(stamp);
    const answer: Answer<L> = { state: read.state, peer, peerIndex: view.sender, link, expiresAt: now + host.config.decideTimeoutMs + host.config.connectTimeoutMs };
    if (rekey) {
      this.answerRekey(signal, answer, read.payload.subarray(0, SIGNAL_SIZE));
      return;
    }
    const key = callKey(signal.origAddr, signal.origPort, signal.transaction);
    this.answers.delete(key); // re-inserted last, so the oldest entry is the one bounded out
    this.boundTable(this.answers);
    this.answers.set(key, answer);
    host.signal(signal, link);
  }

  /** A rekey: the initiation names one of our open connections with this peer; answer with new keys. */
  private answerRekey(signal: SignalMessage, answer: Answer<L>, payload: Uint8Array): void {
    const { host } = this;
    const conn = host.findConnection(signal.respConnId);
    if (conn === undefined || conn.secure === null || conn.secure.peer.id !== answer.peer.id || conn.remoteConnId !== signal.origConnId || conn.role !== 'responder') {
      host.counters.dropUnexpectedSignal++;
      return;
    }
    const index = this.newIndex();
    const written = writeMessage2(answer.state, this.ephemeral(), payload);
    if (written === null) return;
    const session = new Session(index, answer.peerIndex, written.keys.send, written.keys.receive, host.clock.now());
    this.sessions.set(index, { session, conn });
    this.forget(conn.secure.addPending(session));
    this.roam(conn, answer.link);
    const msg = encodeResponse(index, answer.peerIndex, written.message);
    answer.peer.cookies.addMacs(msg);
    host.counters.handshakesAnswered++;
    host.transmit(answer.link, msg, 0, msg.length);
  }

  private receiveResponse(msg: Uint8Array, link: L): void {
    const { host } = this;
    const view = decodeResponse(msg);
    if (view === null) {
      host.counters.dropMalformed++;
      return;
    }
    const attempt = this.attempts.get(view.receiver);
    if (attempt === undefined || this.checker === null || !this.checker.checkMac1(msg)) {
      host.counters.dropAuth++;
      return;
    }
    const read = readMessage2(attempt.state, view.noise);
    const decoded = read === null || read.payload.length !== SIGNAL_SIZE ? null : decodeMessage(read.payload);
    if (read === null || decoded === null || !decoded.ok || decoded.msg.type > MsgType.REDIRECT || (decoded.msg as SignalMessage).transaction !== attempt.txn) {
      host.counters.dropAuth++;
      return;
    }
    const signal = decoded.msg as SignalMessage;
    const session = new Session(view.receiver, view.sender, read.keys.send, read.keys.receive, host.clock.now());
    if (attempt.rekeyOf !== null) {
      const conn = attempt.rekeyOf;
      this.attempts.delete(view.receiver);
      if (conn.secure === null || host.findConnection(conn.connId) !== conn || signal.type !== MsgType.CONNECT_CONFIRM) return;
      this.forget(conn.secure.install(session));
      this.sessions.set(session.localIndex, { session, conn });
      conn.secure.rekeyIndex = 0;
      conn.secure.rekeys++;
      host.counters.rekeys++;
      this.roam(conn, link);
      return;
    }
    if (signal.type === MsgType.CONNECT_CONFIRM) {
      for (const [index, a] of this.attempts) if (a.txn === attempt.txn && a.rekeyOf === null) this.attempts.delete(index);
      this.arrived = { session, peer: attempt.peer };
    }
    host.signal(signal, link);
    this.arrived = null; // not taken: a duplicate confirm, or the call is gone
  }

  private receiveCookie(msg: Uint8Array): void {
    const view = decodeCookieReply(msg);
    const attempt = view === null ? undefined : this.attempts.get(view.receiver);
    if (view === null || attempt === undefined || !attempt.peer.cookies.consumeReply(view.nonce, view.sealed)) {
      this.host.counters.dropAuth++;
      return;
    }
    this.host.counters.cookiesReceived++;
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
    for (const [index, a] of this.attempts) if (a.expiresAt <= now) this.attempts.delete(index);
    for (const [key, a] of this.answers) if (a.expiresAt <= now) this.answers.delete(key);
    if (this.spare === null && this.identity !== null) this.spare = generateKeyPair();
  }

  /**
   * One handshake with itself and one sealed frame, thrown away: the first call set-up after a
   * start or a new key then runs compiled code on key objects OpenSSL already holds (a cold first
   * handshake cost 9 ms of CPU against 2 ms warm). Touches no table of this layer.
   */
  private warmUp(identity: KeyPair): void {
    const now = (): number => this.host.clock.now();
    const start = initialState(PROLOGUE, identity.publicKey);
    const first = writeMessage1(start, identity, identity.publicKey, generateKeyPair(), new Uint8Array(SIGNAL_SIZE + TIMESTAMP_SIZE));
    if (first === null) return;
    const msg = encodeInit(1, first.message);
    new CookieGenerator(identity.publicKey, now).addMacs(msg);
    const view = decodeInit(msg);
    if (view === null || this.checker?.checkMac1(msg) !== true) return;
    const read = readMessage1(start, identity, view.noise);
    const second = read === null ? null : writeMessage2(read.state, generateKeyPair(), new Uint8Array(SIGNAL_SIZE));
    const done = second === null ? null : readMessage2(first.state, second.message);
    if (done === null) return;
    const frame = new Uint8Array(SIGNAL_SIZE);
    const out = this.sealer.seal(done.keys.send, 1, 0, frame, 0, frame.length);
    if (out === null) return;
    const sealed = out.slice(0, SEALED_HEADER_SIZE + frame.length + TAG_SIZE);
    this.sealer.sealed();
    if (this.sealer.open(done.keys.send, 0, sealed, 0, sealed.length) !== null) this.sealer.opened();
  }

  /** A fresh ephemeral key pair for one handshake message: the spare made ahead, or a new one. */
  private ephemeral(): KeyPair {
    const made = this.spare ?? generateKeyPair();
    this.spare = null;
    return made;
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
    for (const [index, a] of this.attempts) if (a.rekeyOf === conn) this.attempts.delete(index);
  }

  // --- helpers ---------------------------------------------------------------------------

  /** DH(host key, the peer's key), made once per peer and host key; null when it fails. */
  private sharedWith(peer: PeerState): Uint8Array | null {
    let shared = this.staticShared.get(peer.id) ?? null;
    if (shared === null && this.identity !== null) {
      shared = dh(this.identity.privateKey, peer.publicKey);
      if (shared !== null) this.keepShared(peer.id, shared);
    }
    return shared;
  }

  /** readMessage1's source of DH(host key, rs): the kept value of a configured peer, else computed
   *  here and kept aside until receiveInit has checked rs against the route's key. */
  private readonly sharedOf = (rs: Uint8Array): Uint8Array | null => {
    const kept = this.staticShared.get(hexOf(rs));
    if (kept !== undefined || this.identity === null) return kept ?? null;
    this.sharedJustMade = dh(this.identity.privateKey, rs);
    return this.sharedJustMade;
  };

  private keepShared(id: string, shared: Uint8Array): void {
    if (this.staticShared.size >= MAX_TABLE) this.staticShared.clear();
    this.staticShared.set(id, shared);
  }

  private roam(conn: Connection<L>, link: L): void {
    // A connection with several exits moves by its own exit probes, not by where frames come from.
    if (conn.exits !== null || this.host.sameLink(conn.link, link)) return;
    conn.link = link;
    this.host.counters.roams++;
  }

  private forget(sessions: readonly Session[]): void {
    for (const s of sessions) this.sessions.delete(s.localIndex);
  }

  private peer(publicKey: Uint8Array): PeerState {
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

  private newIndex(): number {
    let index = this.host.random.u32();
    while (index === 0 || this.sessions.has(index) || this.attempts.has(index)) index = this.host.random.u32();
    return index;
  }

  /** A strictly increasing TAI64N stamp from the wall clock. */
  private timestamp(): Uint8Array {
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

  private boundTable<K, V>(table: Map<K, V>): void {
    if (table.size < MAX_TABLE) return;
    const oldest = table.keys().next();
    if (oldest.done !== true) table.delete(oldest.value);
  }
}
