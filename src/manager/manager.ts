// The user-space manager of seed 000. It hears the tunnel code only through manager messages and
// drives the MSNL endpoint's signalling:
// - MMUP_BIND/LISTEN: remembers which interface (sock) serves which tunnelling port with which IP;
// - MMUP_CONNECT: translates the AF_INET peer to an MSNL address through the mapping table and to an
//   underlay link through the MSNL routes, then calls the peer's tunnelling port of the same MTU;
// - an incoming call is accepted only on a bound port and only when the caller's MSNL address is the
//   one its ms_ipa maps to; then MMDOWN_NEWCONN gives the tunnel the AF_INET peer address;
// - one full-duplex connection per (interface, remote MSNL host); idle, ASSOCBAD and removed
//   mappings tear connections down.

import { decodeMm, encodeMm, mmTypeOf, type MmMessage } from '../abi/mm.js';
import { MmErrno, MmReason, MmType } from '../abi/constants.js';
import { sockaddrIn } from '../abi/sockaddr.js';
import { interfaceByPort } from '../abi/interfaces.js';
import { formatDottedQuad } from '../abi/inet.js';
import { Reason, reasonName } from '../msnl/constants.js';
import type { CallFailure, ConnectionInfo, IncomingCall } from '../msnl/types.js';
import { mmReason, releaseReason, wireReason } from './reasons.js';
import { Histogram } from '../base/histogram.js';
import { LineSummary } from '../base/line-summary.js';

import { CALL_SETUP_BUCKETS_MS, MAX_FAILED_CALLS, type Binding, type CallRecord, type HeldConnection, type ManagedConnection, type ManagerEvent, type ManagerOptions, type OutgoingCall } from './manager-types.js';

export { CALL_SETUP_BUCKETS_MS, MAX_FAILED_CALLS } from './manager-types.js';
export type { CallRecord, ManagedConnection, ManagerEvent, ManagerOptions } from './manager-types.js';

export class Manager<L> {
  private readonly bindings = new Map<number, Binding>();
  private readonly sockByPort = new Map<number, number>();
  private readonly conns = new Map<number, HeldConnection<L>>();
  /** Bumped whenever a connection is added or forgotten: a reader of connections() that saw this
   *  value has seen every connection there is (the health watch walks them all only then). */
  connectionsGeneration = 0;
  private readonly connByKey = new Map<number, number>();
  private readonly calls = new Map<number, OutgoingCall>();
  private readonly callByHandle = new Map<number, OutgoingCall>();
  /** The last failed call per (sock, host), until a connection to that host opens. */
  private readonly failed = new Map<number, CallRecord>();
  private readonly now: () => number;
  private readonly scratch = Buffer.alloc(64);
  /** scratch[0, n) by length n: a message's view made once per length, not once per message. */
  private readonly scratchViews: Uint8Array[] = [];
  private readonly downTexts = new Map<number, { readonly how: string; readonly kind: string; readonly event: string }>();
  badMessages = 0;
  refusedCalls = 0;
  /** Milliseconds from starting a call to its connection opening (the handshake included), for msnld --metrics. */
  readonly callSetupMs = new Histogram(CALL_SETUP_BUCKETS_MS);

  /** The per-connection lines, summarised in a storm. */
  private readonly lines: LineSummary;

  constructor(private readonly options: ManagerOptions<L>) {
    this.now = options.now ?? Date.now;
    this.lines = new LineSummary({ write: (line) => options.log.info(line), now: this.now, perSecond: options.connectionLinesPerSecond ?? 0 });
  }

  /** (sock, host) as one number, no string per call: sock ids are small, addresses 32 bits. */
  private static key(sock: number, remoteMsnl: number): number {
    return sock * 0x1_0000_0000 + remoteMsnl;
  }

  connections(): ReadonlyMap<number, ManagedConnection> {
    return this.conns;
  }

  /** Calls in progress, then the last failed call to each host that has had no connection since. */
  *callRecords(): IterableIterator<CallRecord> {
    for (const call of this.calls.values()) {
      yield { sock: call.sock, remoteMsnl: call.remoteMsnl, peerIp: call.refs[0]?.peerIp ?? 0, port: call.port, state: 'calling', since: call.since, reason: undefined };
    }
    yield* this.failed.values();
  }

  /** Handles one encoded MMUP message from a tunnel. Malformed messages are counted, never thrown. */
  onUp(message: Uint8Array): void {
    // A tunnel's accept of a NEWCONN (one per incoming call) asks nothing: its type and length are
    // all there is to check, so it is not decoded into an object.
    if (mmTypeOf(message) === MmType.MMUP_ACCEPT) return;
    const msg = decodeMm(message);
    if (!('type' in msg) || typeof msg.type !== 'string') {
      this.badMessages++;
      this.options.log.error(`failed to decode manager message: ${msg.message}`);
      return;
    }
    this.handleUp(msg);
  }

  private handleUp(msg: MmMessage): void {
    switch (msg.type) {
      case 'MMUP_BIND':
        return this.bind(msg.sock, msg.addr.addr, msg.addr.port, msg.addr.ipa);
      case 'MMUP_LISTEN': {
        const binding = this.bindings.get(msg.sock);
        if (binding === undefined) return this.error(msg.sock, 0, 'MMUP_LISTEN', MmErrno.EBADF);
        this.options.endpoint.listen(binding.port);
        return;
      }
      case 'MMUP_CONNECT':
        return this.connect(msg.sock, msg.ref, msg.peer.addr, msg.peer.msnlPort);
      case 'MMUP_ACCEPT':
        return;
      case 'MMUP_DISCONNECT':
        this.release(msg.conn, msg.reason, false);
        return;
      case 'MMUP_DETACH':
        return this.detach(msg.sock);
      case 'MMUP_ASSOCBAD':
        // Data on an association the tunnel does not know: quench the source, unless the manager
        // itself set the connection up (the tunnel is about to hear of it).
        if (!this.conns.has(msg.conn)) this.options.endpoint.disconnect(msg.conn, wireReason(MmReason.NO_SERVICE));
        return;
      default:
        this.badMessages++;
    }
  }

  private bind(sock: number, address: number, port: number, ipa: number): void {
    const spec = interfaceByPort(port);
    if (spec === undefined) return this.error(sock, 0, 'MMUP_BIND', MmErrno.EINVAL);
    if (address !== 0 && address !== this.options.endpoint.localAddress) return this.error(sock, 0, 'MMUP_BIND', MmErrno.EADDRNOTAVAIL);
    const holder = this.sockByPort.get(port);
    if (holder !== undefined && holder !== sock) return this.error(sock, 0, 'MMUP_BIND', MmErrno.EADDRINUSE);
    if (this.bindings.has(sock)) this.detach(sock, false);
    this.bindings.set(sock, { sock, port, ipa });
    this.sockByPort.set(port, sock);
    this.options.log.info(`${spec.name}: bound ${formatDottedQuad(ipa)} on MSNL port 0x${port.toString(16).padStart(4, '0')}`);
    this.options.onEvent?.({ kind: 'bound', sock });
  }

  private detach(sock: number, final = true): void {
    const binding = this.bindings.get(sock);
    if (binding !== undefined) {
      this.options.endpoint.unlisten(binding.port);
      this.bindings.delete(sock);
      this.sockByPort.delete(binding.port);
      for (const c of [...this.conns.values()]) if (c.sock === sock) this.release(c.conn, MmReason.NORMAL, false);
      for (const [key, call] of [...this.calls]) {
        if (call.sock !== sock) continue;
        this.calls.delete(key);
        if (call.handle !== undefined) this.callByHandle.delete(call.handle);
      }
      for (const [key, record] of [...this.failed]) if (record.sock === sock) this.failed.delete(key);
      this.options.log.info(`${interfaceByPort(binding.port)?.name ?? sock}: unbound`);
      this.options.onEvent?.({ kind: 'unbound', sock });
    }
    if (final) this.send(sock, { type: 'MMDOWN_FINAL', sock });
  }

  private connect(sock: number, ref: number, peerIp: number, port: number): void {
    const binding = this.bindings.get(sock);
    const refuse = (reason: number, why: string): void => {
      this.refusedCalls++;
      this.options.log.verbose(`refused connect to ${formatDottedQuad(peerIp)}: ${why}`);
      this.options.onEvent?.({ kind: 'connect_refused', sock, peerIp, reason: why });
      this.send(sock, { type: 'MMDOWN_REFUSED', sock, ref, reason, peer: sockaddrIn(peerIp, port) });
    };
    if (binding === undefined || binding.port !== port) return refuse(MmReason.NO_SERVICE, 'the interface is not bound to that port');
    const remote = this.options.msnlAddressOf(peerIp);
    if (remote === undefined) return refuse(MmReason.NO_MAPPING, 'no mapping entry covers it');
    const key = Manager.key(sock, remote);
    const existing = this.connByKey.get(key);
    if (existing !== undefined) {
      this.send(sock, { type: 'MMDOWN_CONNECTED', sock, ref, conn: existing, peer: sockaddrIn(peerIp, port) });
      return;
    }
    const waiting = this.calls.get(key);
    if (waiting !== undefined) {
      waiting.refs.push({ ref, peerIp });
      return;
    }
    const link = this.options.linkOf(remote);
    if (link === undefined) return refuse(MmReason.NO_ROUTE, `no MSNL route to ${formatDottedQuad(remote)}`);
    const call: OutgoingCall = { sock, remoteMsnl: remote, port, since: this.now(), refs: [{ ref, peerIp }], handle: undefined };
    this.calls.set(key, call);
    this.options.log.verbose(`calling ${formatDottedQuad(remote)} port 0x${port.toString(16)} for ${formatDottedQuad(peerIp)}`);
    const handle = this.options.endpoint.connect({ remoteAddress: remote, remotePort: port, localPort: port, ipa: binding.ipa, link });
    if (this.calls.get(key) === call) {
      call.handle = handle;
      this.callByHandle.set(handle, call);
    }
  }

  /** A refused caller, for the log (made only when a line is written). */
  private static who(call: IncomingCall<unknown>): string {
    return `${formatDottedQuad(call.caller.address)} (ms_ipa ${formatDottedQuad(call.ipa)})`;
  }

  /** Endpoint event: an incoming call to decide. */
  onIncomingCall(call: IncomingCall<L>): void {
    const { endpoint } = this.options;
    const sock = this.sockByPort.get(call.called.port);
    if (sock === undefined) {
      this.refusedCalls++;
      this.lines.line('calls refused: port not bound', () => `refused call from ${Manager.who(call)}: port 0x${call.called.port.toString(16)} is not bound`);
      this.options.onEvent?.({ kind: 'call_refused', remoteMsnl: call.caller.address, reason: `port 0x${call.called.port.toString(16)} is not bound` });
      endpoint.refuse(call.callId, wireReason(MmReason.NO_SERVICE));
      return;
    }
    const mapped = this.options.msnlAddressOf(call.ipa);
    if (mapped !== call.caller.address) {
      this.refusedCalls++;
      const maps = mapped === undefined ? 'no MSNL address' : formatDottedQuad(mapped);
      this.lines.line('calls refused: ms_ipa mapped elsewhere', () => `refused call from ${Manager.who(call)}: ms_ipa maps to ${maps}`);
      this.options.onEvent?.({ kind: 'call_refused', sock, remoteMsnl: call.caller.address, reason: `ms_ipa ${formatDottedQuad(call.ipa)} maps to ${maps}` });
      endpoint.refuse(call.callId, wireReason(MmReason.IPA_MISMATCH));
      return;
    }
    if (this.wouldHijack(sock, call)) {
      this.refusedCalls++;
      this.lines.line('calls refused: open via another underlay endpoint', () => `refused call from ${Manager.who(call)}: a connection to that host is open via another underlay endpoint`);
      this.options.onEvent?.({ kind: 'call_refused', sock, remoteMsnl: call.caller.address, reason: 'a connection to that host is open via another underlay endpoint' });
      endpoint.refuse(call.callId, wireReason(MmReason.REFUSED_BY_PEER));
      return;
    }
    // msnl(7): a confirm carries the callee's address on the tunnel interface as its ms_ipa.
    endpoint.accept(call.callId, this.bindings.get(sock)?.ipa ?? 0);
  }

  /**
   * A call that would replace an open connection to the same host (a restarted peer calls again)
   * must come from that connection's underlay endpoint or from the host's route (any of its
   * exits: a call comes through a standby exit when the preferred one is dead); anything else
   * could be anyone on the underlay claiming the host's MSNL address, and must not disturb it.
   */
  private wouldHijack(sock: number, call: IncomingCall<L>): boolean {
    const open = this.connByKey.get(Manager.key(sock, call.caller.address));
    if (open === undefined) return false;
    const same = this.options.sameLink ?? ((a: L, b: L) => a === b);
    const current = this.conns.get(open)?.link;
    const route = this.options.linkOf(call.caller.address);
    return !(current !== undefined && same(current, call.link)) && !(route !== undefined && same(route, call.link)) && this.options.isRouteExit?.(call.caller.address, call.link) !== true;
  }

  /** Endpoint event: a connection opened (handle set for our calls, undefined for accepted ones). */
  onConnected(handle: number | undefined, info: ConnectionInfo<L>): void {
    const call = handle === undefined ? undefined : this.callByHandle.get(handle);
    if (call !== undefined && handle !== undefined) {
      this.callByHandle.delete(handle);
      this.calls.delete(Manager.key(call.sock, call.remoteMsnl));
      this.callSetupMs.observe(this.now() - call.since);
      const first = call.refs[0];
      this.register({ conn: info.connId, sock: call.sock, remoteMsnl: call.remoteMsnl, peerIp: first?.peerIp ?? info.remoteIpa, initiator: true, link: info.link });
      for (const { ref, peerIp } of call.refs) {
        this.send(call.sock, { type: 'MMDOWN_CONNECTED', sock: call.sock, ref, conn: info.connId, peer: sockaddrIn(peerIp, info.local.port) });
      }
      return;
    }
    const sock = this.sockByPort.get(info.local.port);
    if (sock === undefined) {
      this.options.endpoint.disconnect(info.connId, wireReason(MmReason.NO_SERVICE));
      return;
    }
    this.register({ conn: info.connId, sock, remoteMsnl: info.remote.address, peerIp: info.remoteIpa, initiator: false, link: info.link });
    this.send(sock, { type: 'MMDOWN_NEWCONN', sock, conn: info.connId, peer: sockaddrIn(info.remoteIpa, info.local.port) });
  }

  private register(c: HeldConnection<L>): void {
    const key = Manager.key(c.sock, c.remoteMsnl);
    const old = this.connByKey.get(key);
    if (old !== undefined && old !== c.conn) {
      // The peer called again (it restarted, or lost the old connection): the new one replaces it.
      this.release(old, MmReason.DUPLICATE, true);
    }
    this.conns.set(c.conn, c);
    this.connectionsGeneration++;
    this.connByKey.set(key, c.conn);
    this.failed.delete(key);
    this.lines.line('connections up', () => `connection ${c.conn} up: ${formatDottedQuad(c.peerIp)} via MSNL ${formatDottedQuad(c.remoteMsnl)}`);
    if (this.options.eventsWanted?.() !== false) this.options.onEvent?.({ kind: 'up', sock: c.sock, conn: c.conn, peerIp: c.peerIp, remoteMsnl: c.remoteMsnl });
  }

  /** Endpoint event: a call of ours failed. */
  onCallFailed(handle: number, reason: CallFailure, code: number): void {
    const call = this.callByHandle.get(handle);
    if (call === undefined) return;
    this.callByHandle.delete(handle);
    const key = Manager.key(call.sock, call.remoteMsnl);
    this.calls.delete(key);
    const mm = reason === 'timeout' ? MmReason.TIMEOUT : mmReason(code);
    const wire = reason === 'timeout' ? Reason.TIMEOUT : code;
    this.rememberFailure(key, { sock: call.sock, remoteMsnl: call.remoteMsnl, peerIp: call.refs[0]?.peerIp ?? 0, port: call.port, state: 'failed', since: this.now(), reason: wire });
    this.lines.line(`calls failed: ${reason} (reason ${code}: ${reasonName(code)})`, () => `failed to call ${formatDottedQuad(call.remoteMsnl)}: ${reason} (reason ${code}: ${reasonName(code)})`);
    this.options.onEvent?.({ kind: 'call_failed', sock: call.sock, remoteMsnl: call.remoteMsnl, reason: `${reason} (${reasonName(code)})` });
    for (const { ref, peerIp } of call.refs) {
      const port = this.bindings.get(call.sock)?.port ?? 0;
      this.send(call.sock, { type: 'MMDOWN_REFUSED', sock: call.sock, ref, reason: mm, peer: sockaddrIn(peerIp, port) });
    }
  }

  private rememberFailure(key: number, record: CallRecord): void {
    this.failed.delete(key);
    this.failed.set(key, record);
    while (this.failed.size > MAX_FAILED_CALLS) {
      const oldest = this.failed.keys().next();
      if (oldest.done === true) break;
      this.failed.delete(oldest.value);
    }
  }

  /** Endpoint event: a connection ended. */
  onDisconnected(connId: number, reason: number, byPeer: boolean): void {
    const c = this.forget(connId);
    if (c === undefined) return;
    const text = this.downText(reason, byPeer);
    this.lines.line(text.kind, () => `connection ${connId} ${text.how}`);
    if (this.options.eventsWanted?.() !== false) this.options.onEvent?.({ kind: 'down', sock: c.sock, conn: connId, peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, reason: text.event });
    this.send(c.sock, { type: 'MMDOWN_DISCONNECT', conn: connId, reason: releaseReason(reason, byPeer) });
  }

  /** The texts of a release for the log and monitor, made once per (reason, by whom), not per
   *  connection: a hang-up storm releases thousands for the same reason. */
  private downText(reason: number, byPeer: boolean): { readonly how: string; readonly kind: string; readonly event: string } {
    const key = reason * 2 + (byPeer ? 1 : 0);
    let text = this.downTexts.get(key);
    if (text === undefined) {
      const who = byPeer ? 'released by peer' : 'released';
      const how = `down: ${who} (reason ${reason}: ${reasonName(reason)})`;
      text = { how, kind: `connections ${how}`, event: `${who}: ${reasonName(reason)}` };
      if (this.downTexts.size < 64) this.downTexts.set(key, text); // reasons are 16-bit: bounded
    }
    return text;
  }

  /** Endpoint event: no data for the idle period; the tunnel decides (it answers MMUP_DISCONNECT). */
  onIdle(connId: number): void {
    const c = this.conns.get(connId);
    if (c !== undefined) this.send(c.sock, { type: 'MMDOWN_ASSOCIDLE', conn: connId });
  }

  /** Tears down connections whose IP peer no longer maps to their MSNL host (mapping removed). */
  mappingsChanged(): void {
    // A failed call is news only while its peer still maps to the host that was called.
    for (const [key, record] of [...this.failed]) {
      if (this.options.msnlAddressOf(record.peerIp) !== record.remoteMsnl) this.failed.delete(key);
    }
    for (const c of [...this.conns.values()]) {
      if (this.options.msnlAddressOf(c.peerIp) !== c.remoteMsnl) {
        this.lines.line('connections whose mapping was removed', () => `connection ${c.conn}: mapping for ${formatDottedQuad(c.peerIp)} removed`);
        this.release(c.conn, MmReason.MAPPING_REMOVED, true);
      }
    }
  }

  /** Logs the summary of the connection lines counted so far, if any (at stop: its timer would not run). */
  summariseLog(): void {
    this.lines.summarise();
  }

  /** Releases every connection (shutdown), so peers learn at once. */
  releaseAll(reason: number): void {
    for (const connId of [...this.conns.keys()]) this.release(connId, reason, true);
  }

  /** Disconnects at the endpoint; tells the tunnel when `tellTunnel`. */
  release(connId: number, reason: number, tellTunnel: boolean): void {
    const c = this.forget(connId);
    this.options.endpoint.disconnect(connId, wireReason(reason));
    if (c !== undefined && tellTunnel) this.send(c.sock, { type: 'MMDOWN_DISCONNECT', conn: connId, reason });
  }

  private forget(connId: number): ManagedConnection | undefined {
    const c = this.conns.get(connId);
    if (c === undefined) return undefined;
    this.conns.delete(connId);
    this.connectionsGeneration++;
    const key = Manager.key(c.sock, c.remoteMsnl);
    if (this.connByKey.get(key) === connId) this.connByKey.delete(key);
    return c;
  }

  /** Sends MMDOWN_HOSTSET to every bound interface after the default MSNL address changed. */
  hostSet(address: number): void {
    for (const sock of this.bindings.keys()) this.send(sock, { type: 'MMDOWN_HOSTSET', address });
  }

  private error(sock: number, ref: number, request: 'MMUP_BIND' | 'MMUP_LISTEN', errno: number): void {
    this.options.log.error(`failed to ${request === 'MMUP_BIND' ? 'bind' : 'listen on'} socket ${sock}: errno ${errno}`);
    this.send(sock, { type: 'MMDOWN_ERROR', sock, ref, request: request === 'MMUP_BIND' ? 0x0101 : 0x0102, errno });
  }

  private send(sock: number, msg: MmMessage): void {
    const n = encodeMm(msg, this.scratch, 0);
    this.options.down(sock, (this.scratchViews[n] ??= this.scratch.subarray(0, n)));
  }
}
