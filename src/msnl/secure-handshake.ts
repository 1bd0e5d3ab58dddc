// Secure MSNL's handshakes: the Noise IK initiation carried by the connect request, the response
// carrying its answer (confirm, wait, disconnect, redirect), rekeys, cookie replies under load,
// and the handshake attempts and answer contexts they need. The transport keys a handshake makes
// go to secure.ts (sessions, sealing); the key material is secure-keys.ts's. Failures are counted
// drops, never answers. man/msnl.7 SECURE MSNL is the spec.

import { readU32 } from '../abi/bytes.js';
import { CookieGenerator } from '../crypto/cookie.js';
import { finishMessage1, initialState, readMessage1, readMessage2, writeMessage1, writeMessage2, type InitiatorState, type ResponderState } from '../crypto/noise.js';
import { equal, generateKeyPair, TAG_SIZE, type KeyPair } from '../crypto/primitives.js';
import type { Connection } from './connection.js';
import { MsgType, SIGNAL_SIZE } from './constants.js';
import { HandshakeGate } from './handshake-gate.js';
import { HandshakeKeys, hexOf, MAX_TABLE, PROLOGUE, type PeerState } from './secure-keys.js';
import type { FrameSealer } from './secure-sealer.js';
import { SecureConn, Session } from './session.js';
import { decodeCookieReply, decodeInit, decodeResponse, encodeCookieReply, encodeInit, encodeResponse, SEALED_HEADER_SIZE, TIMESTAMP_SIZE } from './secure-wire.js';
import type { SecureHost } from './secure.js';
import { decodeMessage, type SignalMessage } from './wire.js';

/** What the handshakes need of the transport side (secure.ts): its sessions, and its sealer for the warm-up. */
export interface HandshakeTransport<L> {
  readonly sealer: FrameSealer;
  addSession(session: Session, conn: Connection<L>): void;
  forget(sessions: readonly Session[]): void;
  roam(conn: Connection<L>, link: L): void;
  hasIndex(index: number): boolean;
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

const callKey = (addr: number, port: number, txn: number): string => `${addr}:${port}:${txn}`;

export class Handshakes<L> {
  readonly keys: HandshakeKeys;
  private readonly attempts = new Map<number, Attempt<L>>();
  private readonly answers = new Map<string, Answer<L>>();
  private arrived: Arrived | null = null;
  private readonly gate: HandshakeGate;

  constructor(private readonly host: SecureHost<L>, private readonly transport: HandshakeTransport<L>) {
    this.gate = new HandshakeGate(host.config);
    this.keys = new HandshakeKeys(host);
  }

  /** Sets (or clears) this host's key pair; answer contexts made under the old one are forgotten. */
  setIdentity(identity: KeyPair | null): void {
    if (!this.keys.setIdentity(identity)) return;
    this.answers.clear();
    if (identity !== null) this.warmUp(identity);
  }

  /** Attempts, answer contexts, sources, peers and static DH values held. */
  get size(): number {
    return this.attempts.size + this.answers.size + this.gate.size + this.keys.size;
  }

  /** Forgets attempts and answer contexts past their time, and ephemerals made ahead too long ago. */
  expire(now: number): void {
    for (const [index, a] of this.attempts) if (a.expiresAt <= now) this.attempts.delete(index);
    for (const [key, a] of this.answers) if (a.expiresAt <= now) this.answers.delete(key);
    this.keys.dropStale(now);
  }

  /** Forgets the rekey attempts of a closed connection. */
  connectionClosed(conn: Connection<L>): void {
    for (const [index, a] of this.attempts) if (a.rekeyOf === conn) this.attempts.delete(index);
  }

  /** Sends a connect request (or, with `rekeyOf`, a rekey) to the holder of `peerKey`. False when it cannot. */
  sendInit(link: L, signal: Uint8Array, peerKey: Uint8Array, rekeyOf: Connection<L> | null = null): boolean {
    const { host } = this;
    if (this.keys.identity === null) {
      host.counters.dropNoHostKey++;
      host.authFailed(readU32(signal, 16), 'no-host-key', link);
      return false;
    }
    const peer = this.keys.peer(peerKey);
    const index = this.newIndex();
    const payload = new Uint8Array(SIGNAL_SIZE + TIMESTAMP_SIZE);
    payload.set(signal.subarray(0, SIGNAL_SIZE));
    payload.set(this.keys.timestamp(), SIGNAL_SIZE);
    const begun = this.keys.message1Start(peer);
    if (begun === null) {
      host.counters.dropAuth++;
      return false;
    }
    const written = finishMessage1(begun, payload);
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
    const isConfirm = signal[1] === MsgType.CONNECT_CONFIRM;
    const conn = isConfirm ? this.host.findConnection(readU32(signal, 32)) : undefined;
    return this.respond(answer, signal.subarray(0, SIGNAL_SIZE), conn);
  }

  /**
   * Writes the response to `answer`'s initiation, carrying `payload`, and sends it; with `conn`,
   * the session it makes is added to that connection, pending until the initiator uses it. False
   * when it cannot be written.
   */
  private respond(answer: Answer<L>, payload: Uint8Array, conn: Connection<L> | undefined): boolean {
    const { host } = this;
    const index = this.newIndex();
    const reply = this.keys.replyEphemeral(answer.peer);
    const written = writeMessage2(answer.state, reply.ephemeral, payload, reply.shared);
    if (written === null) return false;
    if (conn !== undefined) {
      conn.secure ??= new SecureConn(answer.peer);
      const session = new Session(index, answer.peerIndex, written.keys.send, written.keys.receive, host.clock.now());
      this.transport.addSession(session, conn);
      this.transport.forget(conn.secure.addPending(session));
    }
    const msg = encodeResponse(index, answer.peerIndex, written.message);
    answer.peer.cookies.addMacs(msg);
    host.counters.handshakesAnswered++;
    host.transmit(answer.link, msg, 0, msg.length);
    return true;
  }

  /** The state of a keyed connection before it has keys (a responder's, until its confirm is sealed). */
  newSecureConn(publicKey: Uint8Array): SecureConn {
    return new SecureConn(this.keys.peer(publicKey));
  }

  /** The session keys of the response being handled, for the connection its confirm opens. */
  attach(conn: Connection<L>): void {
    const arrived = this.arrived;
    if (arrived === null) return;
    this.arrived = null;
    conn.secure = new SecureConn(arrived.peer);
    conn.secure.install(arrived.session);
    this.transport.addSession(arrived.session, conn);
  }

  receiveInit(msg: Uint8Array, link: L): void {
    const { host } = this;
    const view = decodeInit(msg);
    if (view === null) {
      host.counters.dropMalformed++;
      return;
    }
    if (this.keys.checker === null || this.keys.start === null || this.keys.identity === null) {
      host.counters.dropNoHostKey++;
      return;
    }
    if (!this.keys.checker.checkMac1(msg)) {
      host.counters.dropAuth++;
      return;
    }
    const now = host.clock.now();
    const source = host.linkBytes(link);
    if (this.gate.underLoad(now) && !this.keys.checker.checkMac2(msg, source)) {
      const { nonce, sealed } = this.keys.checker.makeReply(msg, source);
      const reply = encodeCookieReply(view.sender, nonce, sealed);
      host.counters.cookieRepliesSent++;
      host.transmit(link, reply, 0, reply.length);
      return;
    }
    if (!this.gate.allow(hexOf(source), now)) {
      host.counters.dropHandshakeRateLimited++;
      return;
    }
    const read = readMessage1(this.keys.start, this.keys.identity, view.noise, this.keys.sharedOf);
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
    const peer = this.keys.peer(configured);
    this.keys.kept(peer);
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
    // The initiation proved the peer: the connection follows it to where it came from.
    if (this.respond(answer, payload, conn)) this.transport.roam(conn, answer.link);
  }

  receiveResponse(msg: Uint8Array, link: L): void {
    const { host } = this;
    const view = decodeResponse(msg);
    if (view === null) {
      host.counters.dropMalformed++;
      return;
    }
    const attempt = this.attempts.get(view.receiver);
    if (attempt === undefined || this.keys.checker === null || !this.keys.checker.checkMac1(msg)) {
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
      this.transport.forget(conn.secure.install(session));
      this.transport.addSession(session, conn);
      conn.secure.rekeyIndex = 0;
      conn.secure.rekeys++;
      host.counters.rekeys++;
      this.transport.roam(conn, link);
      return;
    }
    if (signal.type === MsgType.CONNECT_CONFIRM) {
      for (const [index, a] of this.attempts) if (a.txn === attempt.txn && a.rekeyOf === null) this.attempts.delete(index);
      this.arrived = { session, peer: attempt.peer };
    }
    host.signal(signal, link);
    this.arrived = null; // not taken: a duplicate confirm, or the call is gone
  }

  receiveCookie(msg: Uint8Array): void {
    const view = decodeCookieReply(msg);
    const attempt = view === null ? undefined : this.attempts.get(view.receiver);
    if (view === null || attempt === undefined || !attempt.peer.cookies.consumeReply(view.nonce, view.sealed)) {
      this.host.counters.dropAuth++;
      return;
    }
    this.host.counters.cookiesReceived++;
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
    if (view === null || this.keys.checker?.checkMac1(msg) !== true) return;
    const read = readMessage1(start, identity, view.noise);
    const second = read === null ? null : writeMessage2(read.state, generateKeyPair(), new Uint8Array(SIGNAL_SIZE));
    const done = second === null ? null : readMessage2(first.state, second.message);
    if (done === null) return;
    const frame = new Uint8Array(SIGNAL_SIZE);
    const out = this.transport.sealer.seal(done.keys.send, 1, 0, frame, 0, frame.length);
    if (out === null) return;
    const sealed = out.slice(0, SEALED_HEADER_SIZE + frame.length + TAG_SIZE);
    this.transport.sealer.sealed();
    if (this.transport.sealer.open(done.keys.send, 0, sealed, 0, sealed.length) !== null) this.transport.sealer.opened();
  }

  private newIndex(): number {
    let index = this.host.random.u32();
    while (index === 0 || this.transport.hasIndex(index) || this.attempts.has(index)) index = this.host.random.u32();
    return index;
  }

  private boundTable<K, V>(table: Map<K, V>): void {
    if (table.size < MAX_TABLE) return;
    const oldest = table.keys().next();
    if (oldest.done !== true) table.delete(oldest.value);
  }}
