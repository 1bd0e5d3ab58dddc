// The MSNL endpoint: a pure state machine with an injected clock and random source. It knows
// nothing of UDP: peers on the underlay are an opaque `Link` value from the shell (the source of a
// received datagram, or the shell's route lookup for an outgoing call). Datagrams come in through
// receive(), go out through transmit(); timers run in tick(), due at nextDeadline(). Bad input is
// counted and dropped, never thrown. See man/msnl.7 for the wire protocol.

import { copyOctets, octetsOf } from '../abi/bytes.js';
import type { Sap } from './address.js';
import { Connection } from './connection.js';
import { DATA_HEADER_SIZE, MAX_PACKET_SIZE, MsgType, PROBE_SIZE, Reason, RESET_SIZE } from './constants.js';

/** The largest UDP payload over IPv4 (65535 - 20 - 8). */
const MAX_UDP_DATAGRAM = 65507;
/** Message types 11..14 are the secure framing (src/msnl/secure-wire.ts). */
const SECURE_FIRST_TYPE = 11;
const SECURE_LAST_TYPE = 14;
import { cryptoRandom, type RandomSource } from '../base/random.js';
import type { Clock } from '../base/clock.js';
import { ConnectionTable } from './connection-table.js';
import { defaultLinkBytes, type EndpointOptions } from './endpoint-options.js';
import { Echoes } from './echoes.js';
import { connectionDeadline, probeInterval, runConnectionTimers, type LivenessHost } from './liveness.js';
import { TokenBucket } from '../base/token-bucket.js';
import { Reassembler, segmentPacket, type ReassemblyCounters } from './sar.js';
import { Signalling, type ConnectRequest, type SignallingHost } from './signalling.js';
import { DEFAULT_ENDPOINT_CONFIG, newCounters, type CallRow, type ConnectionInfo, type EndpointConfig, type EndpointCounters, type EndpointEvents, type Health } from './types.js';

export type { EndpointOptions } from './endpoint-options.js';
import { decodeDataHeader, decodeMessage, encodeEcho, encodeExitProbe, encodeProbe, encodeReset, encodeSignal, encodeSizeProbe, newDataHeader, writeDataHeader, type Message } from './wire.js';
import { PathMtu } from './pmtu.js';
import { exitSetFor, type ExitInfo } from './exits.js';
import type { KeyPair } from '../crypto/primitives.js';
import type { AeadBatch } from '../crypto/aead.js';
import { SecureLayer, type SecureHost } from './secure.js';
import { SEAL_OVERHEAD } from './secure-wire.js';
import { readU32 } from '../abi/bytes.js';

export class MsnlEndpoint<L> implements SignallingHost<L>, LivenessHost<L> {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: EndpointConfig;
  readonly counters: EndpointCounters = newCounters();
  readonly events: EndpointEvents<L>;
  private address: number;
  private readonly transmit: (link: L, buf: Uint8Array, offset: number, length: number) => void;
  private readonly sameLink: (a: L, b: L) => boolean;
  private readonly conns = new ConnectionTable<L>();
  /** Asks the shell to call tick() at this time (ms on the clock) at the latest. */
  private readonly wake: (at: number) => void;
  /** The earliest time the shell was last asked to tick at. */
  private wakeAt = Infinity;
  private readonly dueScratch: Connection<L>[] = [];
  private readonly listening = new Set<number>();
  private readonly echoes: Echoes;
  private readonly signalling: Signalling<L>;
  private readonly reassembler: Reassembler;
  private readonly header = newDataHeader();
  private readonly savedOctets = new Uint8Array(DATA_HEADER_SIZE);
  private readonly probeFrame = new Uint8Array(PROBE_SIZE);
  private readonly resetBucket: TokenBucket;
  /** Where sendSealed writes each segment's data header (kept: the data path allocates nothing). */
  private readonly sealHead = new Uint8Array(DATA_HEADER_SIZE);
  /** Size probes of all connections (config.sizeProbeRatePerSecond). */
  private readonly sizeProbeBucket: TokenBucket;
  /** Connections whose size probe waits for the budget, in order of arrival. */
  private readonly sizeProbeQueue = new Set<Connection<L>>();
  private readonly secure: SecureLayer<L>;
  private readonly peerKeyOf: (address: number) => Uint8Array | 'none' | undefined;
  private readonly pathLimitOf: EndpointOptions<L>['pathLimitOf'];
  private readonly exitsOf: EndpointOptions<L>['exitsOf'];

  constructor(options: EndpointOptions<L>) {
    this.address = options.localAddress >>> 0;
    this.clock = options.clock;
    this.random = options.random ?? cryptoRandom();
    this.transmit = options.transmit;
    this.events = options.events;
    this.config = { ...DEFAULT_ENDPOINT_CONFIG, ...options.config };
    this.sameLink = options.sameLink ?? ((a, b) => a === b);
    this.signalling = new Signalling(this);
    this.reassembler = new Reassembler(this.clock, this.config.reassembly);
    this.resetBucket = new TokenBucket(this.config.resetRatePerSecond, this.config.resetBurst, () => this.clock.now());
    this.sizeProbeBucket = new TokenBucket(this.config.sizeProbeRatePerSecond, this.config.sizeProbeBurst, () => this.clock.now());
    this.peerKeyOf = options.peerKeyOf ?? (() => 'none');
    this.pathLimitOf = options.pathLimitOf;
    this.exitsOf = options.exitsOf;
    this.echoes = new Echoes(this.config.echoTimeoutMs);
    this.wake = options.wake ?? (() => undefined);
    const wallClock = options.wallClock ?? Date.now;
    const linkBytes = options.linkBytes ?? defaultLinkBytes;
    const host: SecureHost<L> = {
      clock: this.clock, random: this.random, config: this.config, counters: this.counters,
      ...(options.aead === undefined ? {} : { aead: options.aead }),
      ...(options.scheduleSeals === undefined ? {} : { scheduleSeals: options.scheduleSeals }),
      peerKeyOf: (address) => this.peerKeyOf(address),
      sameLink: this.sameLink,
      linkBytes,
      wallClockMs: wallClock,
      transmit: (link, buf, offset, length) => this.outFrame(link, buf, offset, length),
      findConnection: (id) => this.conns.get(id),
      signal: (msg, link) => this.signalling.onSignal(msg, link, true),
      inner: (conn, buf, offset, length, link) => this.receiveInner(conn, buf, offset, length, link),
      authFailed: (address, reason) => this.events.authFailed?.(address, reason),
    };
    this.secure = new SecureLayer(host);
    this.secure.setIdentity(options.identity ?? null);
  }

  /** Sets or clears this host's key pair (the daemon's reconcile). */
  setIdentity(identity: KeyPair | null): void {
    this.secure.setIdentity(identity);
  }

  /** This host's public key, or null without a key pair. */
  get publicKey(): Uint8Array | null {
    return this.secure.publicKey;
  }

  /** Handshake attempts, answer contexts, sessions, sources and peers held (bounded; for tests). */
  secureStateSize(): number {
    return this.secure.stateSize();
  }

  get localAddress(): number {
    return this.address;
  }

  /** Changes this host's default MSNL address (MMDOWN_HOSTSET); open connections keep theirs. */
  setLocalAddress(address: number): void {
    this.address = address >>> 0;
  }

  get reassemblyCounters(): Readonly<ReassemblyCounters> {
    return this.reassembler.counters;
  }

  /** Octets held by incomplete reassemblies. */
  get reassemblyBytes(): number {
    return this.reassembler.bytesHeld;
  }

  listen(port: number): void {
    this.listening.add(port >>> 0);
  }

  unlisten(port: number): void {
    this.listening.delete(port >>> 0);
  }

  isListening(port: number): boolean {
    return this.listening.has(port >>> 0);
  }

  /** Starts a call; the answer comes as connected(handle, …) or callFailed(handle, …). */
  connect(req: ConnectRequest<L>): number {
    return this.signalling.connect(req);
  }

  /** Accepts an incoming call; undefined when it is no longer pending. */
  accept(callId: number, ipa = 0): ConnectionInfo<L> | undefined {
    return this.signalling.accept(callId, ipa);
  }

  refuse(callId: number, reason: number = Reason.REFUSED): boolean {
    return this.signalling.refuse(callId, reason);
  }

  redirect(callId: number, to: Sap): boolean {
    return this.signalling.redirect(callId, to);
  }

  /** Releases a connection; the peer learns at once. False when there is no such connection. */
  disconnect(connId: number, reason: number = Reason.NORMAL): boolean {
    const conn = this.conns.get(connId);
    if (conn === undefined) return false;
    this.signalling.sendRelease(conn, reason);
    this.closeConnection(conn, reason, false);
    return true;
  }

  /**
   * Sends `length` octets of `buf` from `offset` on a connection. When the packet fits one
   * datagram and there are DATA_HEADER_SIZE octets of headroom before `offset`, the header is
   * written there and the datagram goes out without a copy; otherwise it is copied once.
   */
  send(connId: number, buf: Uint8Array, offset: number, length: number): boolean {
    const conn = this.conns.get(connId);
    if (conn === undefined) {
      this.counters.dropSendNoConnection++;
      return false;
    }
    if (length < 1 || length > MAX_PACKET_SIZE || offset < 0 || offset + length > buf.length) {
      this.counters.dropSendBadLength++;
      return false;
    }
    const seq = conn.packetSeq;
    conn.packetSeq = (seq + 1) >>> 0;
    conn.dataSent(this.clock.now(), length);
    this.counters.packetsOut++;
    if (conn.secure !== null) return this.sendSealed(conn, buf, offset, length, seq);
    const maxDatagram = conn.path.maxDatagram;
    if (length + DATA_HEADER_SIZE <= maxDatagram) {
      if (offset >= DATA_HEADER_SIZE) {
        writeDataHeader(buf, offset - DATA_HEADER_SIZE, conn.remoteConnId, seq, length, 0);
        this.outFrame(conn.link, buf, offset - DATA_HEADER_SIZE, DATA_HEADER_SIZE + length);
      } else {
        const frame = new Uint8Array(DATA_HEADER_SIZE + length);
        writeDataHeader(frame, 0, conn.remoteConnId, seq, length, 0);
        copyOctets(buf, offset, frame, DATA_HEADER_SIZE, length);
        this.out(conn.link, frame);
      }
      return true;
    }
    if (offset >= DATA_HEADER_SIZE) {
      // In place: each segment's header goes into the 16 octets in front of its chunk. Those
      // octets are the tail of the previous chunk, already handed to transmit (which consumes a
      // datagram before it returns), so they are saved and put back: no allocation, no copy here.
      const chunk = maxDatagram - DATA_HEADER_SIZE;
      const saved = this.savedOctets;
      for (let at = 0; at < length; at += chunk) {
        const n = Math.min(chunk, length - at);
        const h = offset + at - DATA_HEADER_SIZE;
        if (at > 0) copyOctets(buf, h, saved, 0, DATA_HEADER_SIZE);
        writeDataHeader(buf, h, conn.remoteConnId, seq, length, at);
        this.outFrame(conn.link, buf, h, DATA_HEADER_SIZE + n);
        if (at > 0) copyOctets(saved, 0, buf, h, DATA_HEADER_SIZE);
      }
      return true;
    }
    const frames = segmentPacket(buf.subarray(offset, offset + length), conn.remoteConnId, seq, maxDatagram);
    for (let i = 0; i < frames.length; i++) this.out(conn.link, frames[i]!);
    return true;
  }

  /** A keyed connection's packet: each segment becomes one sealed datagram (header and chunk copied once, into it). */
  private sendSealed(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, seq: number): boolean {
    const chunk = conn.path.maxDatagram - SEAL_OVERHEAD - DATA_HEADER_SIZE;
    const head = this.sealHead;
    let ok = true;
    for (let at = 0; at < length; at += chunk) {
      const n = Math.min(chunk, length - at);
      writeDataHeader(head, 0, conn.remoteConnId, seq, length, at);
      ok = this.secure.sealAndSend(conn, buf, offset + at, n, head) && ok;
    }
    return ok;
  }

  /** Sends one MSNL frame on a connection: sealed when it is keyed, as it is otherwise. */
  private connOut(conn: Connection<L>, bytes: Uint8Array): void {
    if (conn.secure !== null) this.secure.sealAndSend(conn, bytes, 0, bytes.length);
    else this.out(conn.link, bytes);
  }

  /** Sends an echo request to a host's MSNL address; returns its identifier. */
  echo(remoteAddress: number, link: L, payload: Uint8Array = new Uint8Array(0)): number {
    const sentAt = this.clock.now();
    const ident = this.echoes.start(remoteAddress, sentAt);
    this.scheduleAt(sentAt + this.config.echoTimeoutMs);
    this.out(link, encodeEcho(MsgType.ECHO_REQUEST, remoteAddress >>> 0, this.address, ident, payload));
    return ident;
  }

  /** Handles one received datagram. Never throws on any input. */
  receive(bytes: Uint8Array, link: L): void {
    this.receiveFrame(bytes, 0, bytes.length, link);
  }

  /** Handles one received datagram, buf[offset, offset + length); data needs no view of it. */
  receiveFrame(buf: Uint8Array, offset: number, length: number, link: L): void {
    this.counters.datagramsIn++;
    this.counters.bytesIn += length;
    const type = length > 1 ? buf[offset + 1]! : -1;
    if (type === MsgType.DATA) {
      this.receiveData(buf, offset, length, link, null);
      return;
    }
    if (type >= SECURE_FIRST_TYPE && type <= SECURE_LAST_TYPE) {
      this.secure.receive(buf, offset, length, link);
      return;
    }
    // A health probe or its reply (the bulk of an idle host's traffic): read where it lies, as
    // decodeMessage would accept it (version 1, exactly 16 octets, code 0, a non-zero id).
    if ((type === MsgType.PROBE || type === MsgType.PROBE_REPLY) && length === PROBE_SIZE && buf[offset] === 1 && buf[offset + 2] === 0 && buf[offset + 3] === 0) {
      const connId = readU32(buf, offset + 4);
      if (connId !== 0) {
        if (type === MsgType.PROBE) this.onProbe(connId, readU32(buf, offset + 8), readU32(buf, offset + 12), link, length, null);
        else this.onProbeReply(connId, readU32(buf, offset + 8), readU32(buf, offset + 12), null);
        return;
      }
    }
    const decoded = decodeMessage(octetsOf(buf, offset, length));
    if (!decoded.ok) {
      this.counters.dropMalformed++;
      return;
    }
    this.dispatch(decoded.msg, link, length, null);
  }

  /** An opened sealed frame of `conn`: only frames naming that connection are taken. */
  private receiveInner(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, link: L): void {
    if (length > 1 && buf[offset + 1] === MsgType.DATA) {
      this.receiveData(buf, offset, length, link, conn);
      return;
    }
    const decoded = decodeMessage(octetsOf(buf, offset, length));
    if (!decoded.ok) {
      this.counters.dropMalformed++;
      return;
    }
    const msg = decoded.msg;
    if (msg.type === MsgType.DISCONNECT) {
      const names = conn.role === 'originator'
        ? msg.origConnId === conn.connId && msg.respConnId === conn.remoteConnId
        : msg.respConnId === conn.connId && msg.origConnId === conn.remoteConnId;
      if (names) this.closeConnection(conn, msg.reason, true);
      else this.counters.dropUnexpectedSignal++;
      return;
    }
    if ((msg.type === MsgType.PROBE || msg.type === MsgType.PROBE_REPLY) && msg.connId === conn.connId) {
      this.dispatch(msg, link, length, conn);
      return;
    }
    this.counters.dropUnexpectedSignal++;
  }

  /** Runs every timer that is due: only the connections whose deadline has come are visited. */
  tick(): void {
    const now = this.clock.now();
    this.wakeAt = Infinity;
    this.signalling.tick(now);
    this.reassembler.expire();
    const due = this.dueScratch;
    this.drainSizeProbes(now, due);
    const interval = probeInterval(this.config, this.conns.size);
    for (let conn = this.conns.deadlines.popDue(now); conn !== undefined; conn = this.conns.deadlines.popDue(now)) {
      if (!runConnectionTimers(this, conn, now, interval)) continue;
      if (conn.exits !== null && now >= conn.exits.nextAt) this.runExits(conn, now);
      // The path MTU search of the connection's exit (pmtu.ts): a new path after roaming, size probes.
      if (conn.pathLink !== conn.link && !this.sameLink(conn.pathLink, conn.link)) this.newPath(conn, conn.link, now, conn.remote.address);
      if (now >= conn.path.nextProbeAt) {
        if (this.sizeProbeQueue.size === 0 && this.sizeProbeBucket.take()) this.sizeProbe(conn, now);
        else this.queueSizeProbe(conn);
      }
      due.push(conn);
    }
    this.echoes.expire(now);
    this.secure.tick(now, due, (conn) => encodeSignal({
      type: MsgType.CONNECT_CONFIRM, reason: 0, transaction: conn.transaction,
      origAddr: conn.local.address, origPort: conn.local.port, respAddr: conn.remote.address, respPort: conn.remote.port,
      ipa: conn.localIpa, origConnId: conn.connId, respConnId: conn.remoteConnId,
    }));
    for (const conn of due) if (this.conns.get(conn.connId) === conn) this.conns.deadlines.set(conn, connectionDeadline(conn, this.config, this.secure.nextDeadline(conn)));
    due.length = 0;
    this.wakeAt = this.nextDeadline();
    if (this.wakeAt !== Infinity) this.wake(this.wakeAt);
  }

  /** When tick() next has work (ms on the injected clock), or Infinity. O(1) in connections. */
  nextDeadline(): number {
    const queued = this.sizeProbeQueue.size === 0 ? Infinity : this.sizeProbeBucket.nextTokenAt();
    return Math.min(this.signalling.nextDeadline(), this.reassembler.nextDeadline(), this.conns.deadlines.peekAt(), this.echoes.nextDeadline(), queued);
  }

  // A size probe is due over the budget (config.sizeProbeRatePerSecond): the connection waits in
  // line, its path timer parked, and is not visited again until its turn (drainSizeProbes).
  private queueSizeProbe(conn: Connection<L>): void {
    conn.path.nextProbeAt = Infinity;
    this.sizeProbeQueue.add(conn);
  }

  // Sends the waiting size probes the budget allows, oldest first; their connections go into `due`
  // to have their deadlines set again.
  private drainSizeProbes(now: number, due: Connection<L>[]): void {
    for (const conn of this.sizeProbeQueue) {
      if (this.conns.get(conn.connId) !== conn) {
        this.sizeProbeQueue.delete(conn);
        continue;
      }
      if (!this.sizeProbeBucket.take()) return;
      this.sizeProbeQueue.delete(conn);
      conn.path.nextProbeAt = now;
      this.sizeProbe(conn, now);
      if (this.conns.deadlines.at(conn) !== undefined) this.conns.deadlines.delete(conn);
      due.push(conn);
    }
  }

  /** Something is due at `at`: the shell is asked to tick by then (SignallingHost). */
  scheduleAt(at: number): void {
    if (at >= this.wakeAt) return;
    this.wakeAt = at;
    this.wake(at);
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  health(connId: number): Health | undefined {
    return this.conns.get(connId)?.health(this.clock.now(), this.config.healthWindowMs);
  }

  /** The exits of a connection whose route has several, or undefined (msnl(7) Exits). */
  exits(connId: number): ExitInfo<L>[] | undefined {
    return this.conns.get(connId)?.exits?.info(this.clock.now());
  }

  /** Whether the connection is up (health(connId)?.up === true), allocating nothing. */
  isUp(connId: number): boolean {
    return this.conns.get(connId)?.isUp(this.clock.now(), this.config.healthWindowMs) === true;
  }

  connection(connId: number): ConnectionInfo<L> | undefined {
    return this.conns.get(connId)?.info();
  }

  connections(): ConnectionInfo<L>[] {
    return [...this.conns.values()].map((c) => c.info());
  }

  calls(): CallRow[] {
    return this.signalling.calls();
  }

  // --- SignallingHost ---

  allocateId(): number {
    return this.conns.allocate(() => this.random.u32());
  }

  releaseId(id: number): void {
    this.conns.release(id);
  }

  openConnection(id: number, remoteId: number, role: 'originator' | 'responder', local: Sap, remote: Sap, localIpa: number, remoteIpa: number, link: L, transaction: number, secure: boolean): Connection<L> {
    const now = this.clock.now();
    const conn = new Connection(id, remoteId, role, local, remote, localIpa, remoteIpa, link, transaction, now, this.pathFor(link, now, remote.address));
    conn.exits = exitSetFor(link, conn.path, this.exitsOf?.(remote.address), this.sameLink, (l) => this.pathFor(l, now, remote.address), now, this.config.exitTimers);
    if (secure) {
      if (role === 'originator') this.secure.attach(conn);
      const key = this.peerKeyOf(remote.address);
      // A responder's keys come with its sealed confirm; until then nothing can be sent in the clear.
      if (conn.secure === null) conn.secure = this.secure.newSecureConn(key instanceof Uint8Array ? key : new Uint8Array(32));
    }
    // Its first probe goes at once (msnl(7)).
    this.conns.add(conn, conn.createdAt);
    this.scheduleAt(conn.createdAt);
    return conn;
  }

  closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void {
    if (!this.conns.delete(conn)) return;
    this.sizeProbeQueue.delete(conn);
    this.reassembler.dropConnection(conn.connId);
    this.signalling.connectionClosed(conn);
    this.secure.connectionClosed(conn);
    this.events.disconnected(conn.connId, reason, byPeer);
  }

  findConnection(id: number): Connection<L> | undefined {
    return this.conns.get(id);
  }

  /**
   * Sends a signal that is not on an open connection. To or from a keyed address it goes only as
   * a handshake message (a request as an initiation, an answer as the response to one); otherwise
   * it is dropped, never sent in the clear.
   */
  sendControl(link: L, bytes: Uint8Array): void {
    const type = bytes[1]!;
    const origAddr = readU32(bytes, 8);
    const respAddr = readU32(bytes, 16);
    const peer = type === MsgType.CONNECT_REQUEST || (origAddr === this.address && type === MsgType.DISCONNECT && readU32(bytes, 32) === 0) ? respAddr : origAddr;
    const key = this.peerKeyOf(peer);
    if (!(key instanceof Uint8Array)) {
      this.out(link, bytes);
      return;
    }
    if (type === MsgType.CONNECT_REQUEST) this.secure.sendInit(link, bytes, key);
    else if (!this.secure.sendAnswer(bytes)) this.counters.dropPlainRefused++;
  }

  sendOnConnection(conn: Connection<L>, bytes: Uint8Array): void {
    this.connOut(conn, bytes);
  }

  releaseDead(conn: Connection<L>): void {
    this.signalling.sendRelease(conn, Reason.DEAD);
  }

  isKeyed(address: number): boolean {
    return this.peerKeyOf(address) instanceof Uint8Array;
  }

  /** Answers traffic on an unknown connection with the 8-octet reset, rate-limited. */
  sendReset(link: L, connId: number, reason: number): void {
    if (!this.resetBucket.take()) {
      this.counters.resetsRateLimited++;
      return;
    }
    this.counters.resetsSent++;
    this.out(link, encodeReset(connId, reason));
  }

  // --- receive paths ---

  /** A data frame: plain (`via` null) or opened from a sealed frame of `via`. */
  private receiveData(buf: Uint8Array, offset: number, length: number, link: L, via: Connection<L> | null): void {
    const header = this.header;
    if (decodeDataHeader(buf, header, offset, length) !== null) {
      this.counters.dropMalformed++;
      return;
    }
    const conn = this.conns.get(header.connId);
    if (conn === undefined) {
      if (via === null) this.unknownConnection(header.connId, link, length);
      else this.counters.dropUnknownConnection++;
      return;
    }
    if (conn !== via && (via !== null || conn.secure !== null || !this.fromExit(conn, link))) {
      this.counters.dropPlainRefused++;
      return;
    }
    const now = this.clock.now();
    const payload = length - DATA_HEADER_SIZE;
    if (header.offset === 0 && payload === header.totalLength) {
      // A whole packet in one datagram: handed on where it lies.
      conn.dataReceived(now, payload, true);
      this.counters.packetsIn++;
      this.events.data(conn.connId, buf, offset + DATA_HEADER_SIZE, payload, via !== null);
      return;
    }
    const packet = this.reassembler.accept(conn.connId, header, buf, offset + DATA_HEADER_SIZE, payload);
    conn.dataReceived(now, packet === null ? 0 : packet.length, packet !== null);
    if (packet === null) return; // more segments to come, or a drop counted by the reassembler
    this.counters.packetsIn++;
    this.events.data(conn.connId, packet, 0, packet.length, via !== null);
    this.reassembler.recycle();
  }

  private unknownConnection(connId: number, link: L, inLength: number): void {
    this.counters.dropUnknownConnection++;
    if (this.conns.isReserved(connId)) return; // early traffic for a call whose confirm is still on its way
    if (inLength >= RESET_SIZE) this.sendReset(link, connId, Reason.UNKNOWN_CONNECTION);
  }

  /** A decoded frame: plain (`via` null), or a probe or probe reply opened from a sealed frame of `via`. */
  private dispatch(msg: Message, link: L, inLength: number, via: Connection<L> | null): void {
    switch (msg.type) {
      case MsgType.RESET: {
        this.counters.resetsReceived++;
        const conn = this.conns.byRemoteId(msg.connId, (c) => c.secure === null && this.sameLink(c.link, link));
        if (conn !== undefined) {
          // A callee's connection reset before it heard anything from its caller: the caller had
          // given up the call when our confirm came (msnl(7) Call set-up), so it is reported as
          // that call's timeout (reason 7), not as a peer that lost the connection.
          const gaveUp = conn.role === 'responder' && conn.lastHeardAt === conn.createdAt;
          this.closeConnection(conn, gaveUp ? Reason.TIMEOUT : msg.reason, true);
          return;
        }
        this.counters.dropUnknownConnection++;
        return;
      }
      case MsgType.ECHO_REQUEST:
        if (msg.dstAddr !== this.address) {
          this.counters.dropWrongAddress++;
          return;
        }
        this.counters.echoesAnswered++;
        this.out(link, encodeEcho(MsgType.ECHO_REPLY, msg.srcAddr, this.address, msg.ident, msg.payload));
        return;
      case MsgType.ECHO_REPLY: {
        const rtt = this.echoes.answer(msg.ident, msg.srcAddr, this.clock.now());
        if (rtt === undefined) {
          this.counters.dropUnexpectedSignal++;
          return;
        }
        this.events.echoReply(msg.ident, msg.srcAddr, msg.payload, rtt);
        return;
      }
      case MsgType.PROBE: {
        const conn = this.conns.get(msg.connId);
        if (conn === undefined) {
          this.unknownConnection(msg.connId, link, inLength);
          return;
        }
        if (conn !== via && conn.secure !== null) {
          this.counters.dropPlainRefused++;
          return;
        }
        if (msg.exit === true) {
          // An exit probe: answered to the address it came from, which may be another exit's.
          // Plain, it is answered only to the connection's peer or an exit of its route (no reflection).
          if (via === null && (conn.exits === null ? !this.sameLink(conn.link, link) : !this.fromExit(conn, link))) this.counters.dropPlainRefused++;
          else this.toExit(conn, link, encodeExitProbe(true, conn.remoteConnId, msg.seq, msg.stamp));
          return;
        }
        if (msg.sized === true) {
          // A size probe: answered unpadded, and no health probe (msnl(7) Path MTU).
          this.connOut(conn, encodeSizeProbe(true, conn.remoteConnId, msg.seq, msg.stamp));
          return;
        }
        this.onProbe(msg.connId, msg.seq, msg.stamp, link, inLength, via);
        return;
      }
      case MsgType.PROBE_REPLY: {
        const conn = this.conns.get(msg.connId);
        if (conn !== undefined && conn !== via && conn.secure !== null) {
          this.counters.dropPlainRefused++;
          return;
        }
        if (conn !== undefined && msg.exit === true) {
          if (conn.exits?.answered(msg.seq, this.clock.now()) === true) {
            this.counters.exitProbesAnswered++;
            this.reschedule(conn);
          } else this.counters.dropUnexpectedSignal++;
          return;
        }
        if (conn !== undefined && msg.sized === true) {
          if (conn.path.answered(msg.seq, this.clock.now())) {
            this.counters.sizeProbesAnswered++;
            this.reschedule(conn);
          } else this.counters.dropUnexpectedSignal++;
          return;
        }
        this.onProbeReply(msg.connId, msg.seq, msg.stamp, via);
        return;
      }
      case MsgType.DATA:
        return; // handled by receiveData
      default:
        if (!this.plainSignalAllowed(msg)) {
          this.counters.dropPlainRefused++;
          return;
        }
        this.signalling.onSignal(msg, link);
    }
  }

  /** A health probe (not a size probe): answered, and the peer's direction counts as proven. */
  private onProbe(connId: number, seq: number, stamp: number, link: L, inLength: number, via: Connection<L> | null): void {
    const conn = this.conns.get(connId);
    if (conn === undefined) {
      this.unknownConnection(connId, link, inLength);
      return;
    }
    if (conn !== via && conn.secure !== null) {
      this.counters.dropPlainRefused++;
      return;
    }
    conn.peerProbed(this.clock.now());
    this.sendProbe(conn, MsgType.PROBE_REPLY, seq, stamp);
  }

  /** A reply to one of our health probes. */
  private onProbeReply(connId: number, seq: number, stamp: number, via: Connection<L> | null): void {
    const conn = this.conns.get(connId);
    if (conn !== undefined && conn !== via && conn.secure !== null) {
      this.counters.dropPlainRefused++;
      return;
    }
    if (conn === undefined || !conn.probeAnswered(seq, stamp, this.clock.now())) {
      this.counters.dropUnexpectedSignal++;
      return;
    }
    this.counters.probesAnswered++;
  }

  /** Sends a health probe or reply on `conn` from one reused frame (transmit and sealing copy it). */
  sendProbe(conn: Connection<L>, type: 8 | 9, seq: number, stamp: number): void {
    this.connOut(conn, encodeProbe(type, conn.remoteConnId, seq, stamp, this.probeFrame));
  }

  /** A plain connect request is taken only from an address whose route says auth none. */
  private plainSignalAllowed(msg: Message): boolean {
    if (msg.type !== MsgType.CONNECT_REQUEST) return true;
    const key = this.peerKeyOf(msg.origAddr);
    if (key === 'none') return true;
    this.events.authFailed?.(msg.origAddr, 'plain-refused');
    return false;
  }

  /**
   * The underlay refused a datagram to `link` as too big for its path; `maxPayload` is the largest
   * that fits by the report (0: none named). Every connection on that link lowers its size at once.
   */
  pathTooBig(link: L, maxPayload: number): void {
    this.counters.pathTooBig++;
    const now = this.clock.now();
    for (const conn of this.conns.values()) {
      if (conn.exits !== null) {
        // A standby exit keeps its own path (the active one's is conn.path, below).
        for (const exit of conn.exits.exits) if (exit.path !== conn.path && this.sameLink(exit.link, link)) exit.path.tooBig(maxPayload, now);
      }
      if (conn.link !== link && !this.sameLink(conn.link, link)) continue;
      conn.path.tooBig(maxPayload, now);
      this.reschedule(conn);
    }
  }

  /** The smallest largest-datagram of the open connections' paths (config.maxDatagram with none):
   *  what TCP segments are cut to (the daemon's tunnels ask every 250 ms). */
  smallestPathDatagram(): number {
    let smallest = this.config.maxDatagram;
    for (const conn of this.conns.values()) if (conn.path.maxDatagram < smallest) smallest = conn.path.maxDatagram;
    return smallest;
  }

  /** A connection's timers changed outside tick(): its place in the deadline heap follows. */
  private reschedule(conn: Connection<L>): void {
    if (this.conns.get(conn.connId) !== conn) return;
    const at = connectionDeadline(conn, this.config, this.secure.nextDeadline(conn));
    this.conns.deadlines.set(conn, at);
    this.scheduleAt(at);
  }

  // A new path MTU state for `link`, starting from what the underlay says of its route.
  private pathFor(link: L, now: number, address: number): PathMtu {
    const limit = this.pathLimitOf?.(link, address);
    const max = Math.min(limit?.maxDatagram ?? this.config.maxDatagram, MAX_UDP_DATAGRAM);
    return new PathMtu(max, now, limit?.pinned === true || !this.config.pathProbing, this.config.firstSizeProbeMs);
  }

  private newPath(conn: Connection<L>, link: L, now: number, address: number): void {
    conn.path = this.pathFor(link, now, address);
    conn.pathLink = link;
  }

  // Sends the size probe the connection's path search asks for, if any: padded so the datagram
  // (sealed or not) is exactly the size probed.
  private sizeProbe(conn: Connection<L>, now: number): void {
    const size = conn.path.probe(now);
    if (size === 0) return;
    const inner = conn.secure !== null ? size - SEAL_OVERHEAD : size;
    this.counters.sizeProbesSent++;
    this.connOut(conn, encodeSizeProbe(false, conn.remoteConnId, conn.path.seq, now >>> 0, inner));
  }

  // --- exits (exits.ts, msnl(7) Exits) ---

  // Sends a connection's due exit probes and, when its exit set says so, moves it: only the
  // underlay destination changes (the connection, its ids and keys stay), and its path is that exit's.
  private runExits(conn: Connection<L>, now: number): void {
    const exits = conn.exits!;
    const from = exits.active;
    const moved = exits.run(now, (link, seq) => {
      this.counters.exitProbesSent++;
      this.toExit(conn, link, encodeExitProbe(false, conn.remoteConnId, seq, now >>> 0));
    });
    if (!moved) return;
    const exit = exits.current;
    conn.link = exit.link;
    conn.path = exit.path;
    conn.pathLink = exit.link;
    this.counters.exitMoves++;
    this.events.exitMoved?.(conn.connId, exit.link, exits.exits[from]!.priority <= exit.priority ? 'down' : 'preferred');
  }

  // One frame of a connection to a given exit (sealed on a keyed connection).
  private toExit(conn: Connection<L>, link: L, bytes: Uint8Array): void {
    if (conn.secure !== null) this.secure.sealAndSend(conn, bytes, 0, bytes.length, null, link);
    else this.out(link, bytes);
  }

  // A plain frame of `conn` from `link`: a connection with exits takes it from those only (one
  // without keeps the historic rule: the connection id decides).
  private fromExit(conn: Connection<L>, link: L): boolean {
    return conn.exits === null || this.sameLink(conn.link, link) || conn.exits.indexOf(link, this.sameLink) >= 0;
  }

  private out(link: L, bytes: Uint8Array): void {
    this.outFrame(link, bytes, 0, bytes.length);
  }

  private outFrame(link: L, buf: Uint8Array, offset: number, length: number): void {
    this.counters.datagramsOut++;
    this.counters.bytesOut += length;
    this.transmit(link, buf, offset, length);
  }
}
