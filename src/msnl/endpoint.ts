// The MSNL endpoint: a pure state machine with an injected clock and random source. It knows
// nothing of UDP: peers on the underlay are an opaque `Link` value from the shell (the source of a
// received datagram, or the shell's route lookup for an outgoing call). Datagrams come in through
// receive(), go out through transmit(); timers run in tick(), due at nextDeadline(). Bad input is
// counted and dropped, never thrown. See man/msnl.7 for the wire protocol. This file holds the
// operations and the timers; the parts and their wiring are in endpoint-parts.ts.

import { readU32 } from '../abi/bytes.js';
import type { KeyPair } from '../crypto/primitives.js';
import type { Sap } from './address.js';
import { Connection } from './connection.js';
import { MAX_PACKET_SIZE, MsgType, Reason } from './constants.js';
import { EndpointParts } from './endpoint-parts.js';
import { callLinks, exitSetFor, type ExitInfo } from './exits.js';
import { connectionDeadline, firstProbeAt, probeInterval, responderFirstProbeAt, runConnectionTimers, type LivenessHost } from './liveness.js';
import type { ReassemblyCounters } from './sar.js';
import type { ConnectRequest, SignallingHost } from './signalling-types.js';
import type { CallRow, ConnectionInfo, Health } from './types.js';
import { ASK_PROBE_CODE, encodeEcho, encodeSignal } from './wire.js';

export type { EndpointOptions } from './endpoint-options.js';

export class MsnlEndpoint<L> extends EndpointParts<L> implements SignallingHost<L>, LivenessHost<L> {
  /** The earliest time the shell was last asked to tick at. */
  private wakeAt = Infinity;
  private readonly dueScratch: Connection<L>[] = [];
  private readonly listening = new Set<number>();

  protected signallingHost(): SignallingHost<L> {
    return this;
  }

  /** Sets or clears this host's key pair (the daemon's reconcile). */
  setIdentity(identity: KeyPair | null): void {
    this.secure.setIdentity(identity);
  }

  /** The configured peers' keys (routes): their handshake state is made ready ahead (SecureLayer.preparePeers). */
  preparePeers(keys: readonly Uint8Array[]): void {
    this.secure.preparePeers(keys);
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
    return this.dataSend.send(conn, buf, offset, length, seq);
  }

  /** Sends one MSNL frame on a connection: sealed when it is keyed, as it is otherwise. */
  protected connOut(conn: Connection<L>, bytes: Uint8Array): void {
    if (conn.secure !== null) this.secure.sealAndSend(conn, bytes, 0, bytes.length);
    else this.frames.out(conn.link, bytes);
  }

  /** Sends an echo request to a host's MSNL address; returns its identifier. */
  echo(remoteAddress: number, link: L, payload: Uint8Array = new Uint8Array(0)): number {
    const sentAt = this.clock.now();
    const ident = this.echoes.start(remoteAddress, sentAt);
    this.scheduleAt(sentAt + this.config.echoTimeoutMs);
    this.frames.out(link, encodeEcho(MsgType.ECHO_REQUEST, remoteAddress >>> 0, this.address, ident, payload));
    return ident;
  }

  /** Handles one received datagram. Never throws on any input. */
  receive(bytes: Uint8Array, link: L): void {
    this.receiveFrame(bytes, 0, bytes.length, link);
  }

  /** Handles one received datagram, buf[offset, offset + length); data needs no view of it. */
  receiveFrame(buf: Uint8Array, offset: number, length: number, link: L): void {
    this.receivePath.frame(buf, offset, length, link);
  }

  /**
   * receiveFrame for a datagram whose buffer stays as it is until receivedBurst(): a sealed frame
   * is then opened where it lies, in that buffer, instead of in a copy (msnld's UDP receive slab),
   * and segments are joined into their packet by one copy per packet (Reassembler.deferCopies).
   */
  receiveHeld(buf: Uint8Array, offset: number, length: number, link: L): void {
    this.reassembler.deferCopies(buf);
    this.secure.held = buf;
    try {
      this.receivePath.frame(buf, offset, length, link);
    } finally {
      this.secure.held = null;
    }
  }

  /** The buffers receiveHeld was given are about to change: sealed frames still queued in them are opened now. */
  receivedBurst(): void {
    this.secure.openQueued();
    this.reassembler.deferCopies(null);
  }

  /** Runs every timer that is due: only the connections whose deadline has come are visited. */
  tick(): void {
    const now = this.clock.now();
    this.wakeAt = Infinity;
    this.signalling.tick(now);
    this.reassembler.expire();
    const due = this.dueScratch;
    this.paths.drain(now, due);
    const interval = probeInterval(this.config, this.conns.size);
    for (let conn = this.conns.deadlines.popDue(now); conn !== undefined; conn = this.conns.deadlines.popDue(now)) {
      if (!runConnectionTimers(this, conn, now, interval)) continue;
      if (conn.exits !== null && now >= conn.exits.nextAt) this.exitPaths.run(conn, now);
      // The path MTU search of the connection's exit (pmtu.ts): a new path after roaming, size probes.
      if (conn.pathLink !== conn.link && !this.sameLink(conn.pathLink, conn.link)) {
        conn.path = this.paths.pathFor(conn.link, now, conn.remote.address);
        conn.pathLink = conn.link;
      }
      if (now >= conn.path.nextProbeAt) this.paths.due(conn, now);
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
    return Math.min(this.signalling.nextDeadline(), this.reassembler.nextDeadline(), this.conns.deadlines.peekAt(), this.echoes.nextDeadline(), this.paths.nextAt(), this.secure.renewAt());
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

  /** Until when the connection stays up unless proven again (ms on the clock; -Infinity when there is no such connection). */
  upUntil(connId: number): number {
    return this.conns.get(connId)?.upUntil(this.config.healthWindowMs) ?? -Infinity;
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
    const conn = new Connection(id, remoteId, role, local, remote, localIpa, remoteIpa, link, transaction, now, this.paths.pathFor(link, now, remote.address));
    conn.exits = exitSetFor(link, conn.path, this.exitsOf?.(remote.address), this.sameLink, (l) => this.paths.pathFor(l, now, remote.address), now, this.config.exitTimers);
    if (secure) {
      if (role === 'originator') this.secure.attach(conn);
      const key = this.peerKeyOf(remote.address);
      // A responder's keys come with its sealed confirm; until then nothing can be sent in the clear.
      if (conn.secure === null) conn.secure = this.secure.newSecureConn(key instanceof Uint8Array ? key : new Uint8Array(32));
    }
    // msnl(7) Probes: the call proved what it could. An originator's confirm proved both
    // directions, so its first probe waits up to one interval; a responder's request proved what
    // it receives, and what it sends provisionally until the originator's first frame (within
    // that interval) proves it, so its own first probe waits half an interval more.
    const interval = probeInterval(this.config, this.conns.size + 1);
    if (role === 'originator') conn.provenByConfirm(now, firstProbeAt(id, now, interval) - now);
    else conn.provenByRequest(now, responderFirstProbeAt(id, now, interval) - now);
    const at = connectionDeadline(conn, this.config, this.secure.nextDeadline(conn));
    this.conns.add(conn, at);
    this.scheduleAt(at);
    return conn;
  }

  closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void {
    if (!this.conns.delete(conn)) return;
    this.paths.forget(conn);
    this.reassembler.dropConnection(conn.connId);
    this.signalling.connectionClosed(conn);
    this.secure.connectionClosed(conn);
    this.events.disconnected(conn.connId, reason, byPeer);
  }

  /** SignallingHost: how long ago the datagram being handled arrived (NaN: unknown). */
  receivedAgo(): number {
    return this.ago();
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
      this.frames.out(link, bytes);
      return;
    }
    // The handshake keeps nothing of `bytes` (signalling's reused frame) past the call, but copy
    // anyway: this path is rare and costly already, and a kept view would change under it.
    if (type === MsgType.CONNECT_REQUEST) this.secure.sendInit(link, bytes.slice(), key);
    else if (!this.secure.sendAnswer(bytes.slice())) this.counters.dropPlainRefused++;
  }

  sendOnConnection(conn: Connection<L>, bytes: Uint8Array): void {
    this.connOut(conn, bytes);
  }

  releaseDead(conn: Connection<L>): void {
    this.signalling.sendRelease(conn, Reason.DEAD);
  }

  callLinks(address: number, link: L): readonly L[] {
    return callLinks(link, this.exitsOf?.(address), this.sameLink);
  }

  isKeyed(address: number): boolean {
    return this.peerKeyOf(address) instanceof Uint8Array;
  }

  /** Answers traffic on an unknown connection with the 8-octet reset, rate-limited. */
  sendReset(link: L, connId: number, reason: number): void {
    this.frames.sendReset(link, connId, reason);
  }

  /** Sends a health probe or reply on `conn` (FrameOut.probe); an asking probe's reply asks for
   *  the interval of our own probes, stretched with our connection count (msnl(7) Probes). */
  sendProbe(conn: Connection<L>, type: 8 | 9, seq: number, stamp: number, code: 0 | 3 | 4): void {
    let askMs = 0;
    if (code === ASK_PROBE_CODE && type === MsgType.PROBE_REPLY) {
      askMs = probeInterval(this.config, this.conns.size);
      conn.askedOfPeer(askMs);
    }
    this.connOut(conn, this.frames.probe(conn, type, seq, stamp, code, askMs));
  }

  /**
   * The underlay refused a datagram to `link` as too big for its path; `maxPayload` is the largest
   * that fits by the report (0: none named). Every connection on that link lowers its size at once.
   */
  pathTooBig(link: L, maxPayload: number): void {
    this.counters.pathTooBig++;
    const now = this.clock.now();
    this.paths.tooBig(link, maxPayload);
    for (const conn of this.conns.values()) {
      this.exitPaths.tooBig(conn, link, maxPayload, now);
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
  protected reschedule(conn: Connection<L>): void {
    if (this.conns.get(conn.connId) !== conn) return;
    const at = connectionDeadline(conn, this.config, this.secure.nextDeadline(conn));
    this.conns.deadlines.set(conn, at);
    this.scheduleAt(at);
  }
}
