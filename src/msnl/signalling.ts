// Call set-up and release: connect requests with exponential-backoff retransmission, incoming
// calls held while the manager decides (retransmissions answered with wait, never a second
// connection), idempotent re-confirmation, refusal, redirect, cancellation, and simultaneous open
// (the call originated by the higher SAP wins; the other end accepts it and completes its own
// connect() with that connection). Pure; the endpoint is its host.

import { compareSap, type Sap } from './address.js';
import { MsgType, Reason } from './constants.js';
import type { Connection } from './connection.js';
import { SourceLimiter } from '../base/source-limiter.js';
import { CallTable } from './call-table.js';
import type { ConnectRequest, InCall, OutCall, SignallingHost } from './signalling-types.js';
import type { CallRow, ConnectionInfo, IncomingCall } from './types.js';
import { SignalFrames } from './signal-frames.js';
import type { SignalMessage } from './wire.js';

// Keys: a call is (transaction, originator address, originator port), a SAP pair (remote address,
// remote port, local address, local port), each in a CallTable (numbers, no string per key).

export class Signalling<L> {
  private readonly outByHandle = new Map<number, OutCall<L>>();
  private readonly outByTxn = new Map<number, OutCall<L>>();
  private readonly outByPair = new CallTable<OutCall<L>>();
  private readonly inById = new Map<number, InCall<L>>();
  private readonly inByKey = new CallTable<InCall<L>>();
  /** Responder side: the connection each confirmed call made, for re-confirmation. */
  private readonly confirmed = new CallTable<Connection<L>>();
  /** Keys of requests to ignore until the time stored (simultaneous-open losers, closed calls). */
  private readonly absorbed = new CallTable<number>();
  private readonly refusals = new CallTable<{ readonly reason: number; readonly until: number }>();
  /** Connections we originated, by SAP pair, while the peer's crossing requests may still arrive. */
  private readonly originated = new CallTable<{ readonly conn: Connection<L>; readonly until: number }>();
  /** New incoming calls per underlay source, and overall. */
  private readonly newCalls: SourceLimiter<L>;
  private nextHandle = 1;
  private nextCallId = 1;
  /** The incoming call whose event runs now, before it is in inById/inByKey (onRequest). */
  private deciding: InCall<L> | undefined;
  /** Every signal is written into its one frame and sent at once. */
  private readonly frames = new SignalFrames();

  constructor(private readonly host: SignallingHost<L>) {
    const { config } = host;
    this.newCalls = new SourceLimiter<L>(
      { ratePerSecond: config.callRatePerSource, burst: config.callBurstPerSource },
      { ratePerSecond: config.callRateTotal, burst: config.callBurstTotal },
      config.callSources,
      () => host.clock.now(),
    );
  }

  connect(req: ConnectRequest<L>): number {
    const { host } = this;
    const now = host.clock.now();
    let txn = host.random.u32();
    while (txn === 0 || this.outByTxn.has(txn)) txn = host.random.u32();
    const local = { address: host.localAddress, port: req.localPort >>> 0 };
    const remote = { address: req.remoteAddress >>> 0, port: req.remotePort >>> 0 };
    const call: OutCall<L> = {
      handle: this.nextHandle++, txn, localConnId: host.allocateId(), local, remote, ipa: req.ipa >>> 0, link: req.link,
      links: host.callLinks?.(remote.address, req.link) ?? [req.link], deadline: now + host.config.connectTimeoutMs, secure: host.isKeyed(remote.address),
      nextRetryAt: now + host.config.connectFirstRetryMs, retryDelay: host.config.connectFirstRetryMs, sent: 0, answered: false,
    };
    this.outByHandle.set(call.handle, call);
    host.scheduleAt(Math.min(call.nextRetryAt, call.deadline));
    this.outByTxn.set(txn, call);
    this.outByPair.set(remote.address, remote.port, local.address, local.port, call);
    this.sendRequest(call);
    return call.handle;
  }

  accept(callId: number, ipa: number): ConnectionInfo<L> | undefined {
    const call = this.takeIncoming(callId);
    if (call === undefined) return undefined;
    const conn = this.openResponder(call.msg, call.link, call.local, call.remote, ipa >>> 0, call.secure);
    const info = conn.info();
    this.host.events.connected(undefined, info);
    return info;
  }

  refuse(callId: number, reason: number): boolean {
    const call = this.takeIncoming(callId);
    if (call === undefined) return false;
    const m = call.msg;
    this.refusals.set(m.transaction, m.origAddr, m.origPort, 0, { reason, until: this.host.clock.now() + this.host.config.connectTimeoutMs });
    this.host.sendControl(call.link, this.frames.answer(call.msg, MsgType.DISCONNECT, reason));
    return true;
  }

  redirect(callId: number, to: Sap): boolean {
    const call = this.takeIncoming(callId);
    if (call === undefined) return false;
    const m = call.msg;
    this.host.sendControl(call.link, this.frames.redirect(m, to));
    return true;
  }

  /** Sends the release of an open connection to its peer. */
  sendRelease(conn: Connection<L>, reason: number): void {
    this.host.sendOnConnection(conn, this.frames.release(conn, reason));
  }

  /** The endpoint closed `conn`: forget it, and ignore late copies of its request for a while. */
  connectionClosed(conn: Connection<L>): void {
    if (conn.role !== 'responder') return;
    const { transaction, remote } = conn;
    if (this.confirmed.get(transaction, remote.address, remote.port) === conn) this.confirmed.delete(transaction, remote.address, remote.port);
    this.absorbed.set(transaction, remote.address, remote.port, 0, this.host.clock.now() + this.host.config.connectTimeoutMs);
  }

  /**
   * A signal from the peer at `link`; `authenticated` when it came out of a handshake message (a
   * keyed call only takes authenticated answers, a plain one only plain ones).
   */
  onSignal(msg: SignalMessage, link: L, authenticated = false): void {
    switch (msg.type) {
      case MsgType.CONNECT_REQUEST:
        return this.onRequest(msg, link, authenticated);
      case MsgType.CONNECT_CONFIRM:
        return this.onConfirm(msg, link, authenticated);
      case MsgType.DISCONNECT:
        return this.onDisconnect(msg, authenticated);
      case MsgType.WAIT:
        if (this.matchOut(msg, authenticated) === undefined) this.host.counters.dropUnexpectedSignal++;
        return;
      case MsgType.REDIRECT: {
        const out = this.matchOut(msg, authenticated);
        if (out === undefined) {
          this.host.counters.dropUnexpectedSignal++;
          return;
        }
        this.finishOut(out, true);
        this.host.events.callFailed(out.handle, 'redirected', msg.reason, { address: msg.respAddr, port: msg.respPort });
        return;
      }
    }
  }

  /** Retransmits, times calls out, forgets undecided incoming calls. */
  tick(now: number): void {
    const { config } = this.host;
    // No copy of the maps: a Map iterates safely while its entries are deleted (finishOut,
    // takeIncoming) or added (a redial from callFailed: due later, so skipped), and every
    // endpoint ticks here, most with no call at all (a storm's callers, msnld between calls).
    for (const call of this.outByHandle.values()) {
      if (now >= call.deadline) {
        this.finishOut(call, true);
        // Tell the responder we gave up, so a half-made call does not linger there (a keyed call
        // has no authenticated way to: the responder forgets it after its decide timeout).
        if (!call.secure) this.host.sendControl(call.links[(call.sent - 1) % call.links.length] ?? call.link, this.frames.request(call, MsgType.DISCONNECT, Reason.TIMEOUT));
        if (call.secure && !call.answered) {
          // Not one handshake answer: the callee drops, unanswered, a call whose key it does not
          // accept (and one made with a key other than its own), so say that, not just "timeout".
          this.host.events.authFailed?.(call.remote.address, 'no-answer');
          this.host.events.callFailed(call.handle, 'no-handshake', Reason.NO_HANDSHAKE);
        } else this.host.events.callFailed(call.handle, 'timeout', Reason.TIMEOUT);
      } else if (now >= call.nextRetryAt) {
        call.retryDelay = Math.min(call.retryDelay * 2, config.connectMaxRetryMs);
        call.nextRetryAt = Math.min(now + call.retryDelay, call.deadline);
        this.host.counters.retransmits++;
        this.sendRequest(call);
      }
    }
    for (const call of this.inById.values()) {
      if (now < call.expiresAt) continue;
      this.takeIncoming(call.callId);
      this.host.events.callCancelled?.(call.callId);
    }
    // Each map is in order of expiry (every entry lives connectTimeoutMs from when it was set, and
    // a set moves it to the end): only the expired head is visited, never every entry.
    this.absorbed.expireHead((until) => until <= now);
    this.refusals.expireHead((r) => r.until <= now);
    this.originated.expireHead((o) => o.until <= now);
  }

  nextDeadline(): number {
    let next = Infinity;
    for (const call of this.outByHandle.values()) next = Math.min(next, call.nextRetryAt, call.deadline);
    for (const call of this.inById.values()) next = Math.min(next, call.expiresAt);
    return next;
  }

  calls(): CallRow[] {
    const rows: CallRow[] = [];
    for (const c of this.outByHandle.values()) rows.push({ id: c.handle, state: 'connecting', local: c.local, remote: c.remote, sentRequests: c.sent });
    for (const c of this.inById.values()) rows.push({ id: c.callId, state: 'deciding', local: c.local, remote: c.remote, sentRequests: 0 });
    return rows;
  }

  private onRequest(msg: SignalMessage, link: L, authenticated: boolean): void {
    const { host } = this;
    const now = host.clock.now();
    if (msg.respAddr !== 0 && msg.respAddr !== host.localAddress) {
      host.counters.dropWrongAddress++;
      this.host.sendControl(link, this.frames.answer(msg, MsgType.DISCONNECT, Reason.WRONG_ADDRESS));
      return;
    }
    const { transaction: txn, origAddr, origPort } = msg;
    const done = this.confirmed.get(txn, origAddr, origPort);
    if (done !== undefined) {
      // msnl(7) Call set-up: a plain retransmission that reached us before the confirm it repeats
      // was sent crossed it, and the caller's next one (if that confirm is lost) comes after it: a
      // call storm's queue holds several such copies a call, each a confirm for nobody.
      if (!authenticated && now - host.receivedAgo() < done.confirmSentAt) {
        host.counters.confirmsCrossed++;
        return;
      }
      host.counters.confirmsResent++;
      this.sendConfirm(msg, link, done);
      return;
    }
    if (this.inByKey.has(txn, origAddr, origPort)) {
      host.counters.waitsSent++;
      this.host.sendControl(link, this.frames.answer(msg, MsgType.WAIT, 0));
      return;
    }
    const refusal = this.refusals.get(txn, origAddr, origPort);
    if (refusal !== undefined) {
      this.host.sendControl(link, this.frames.answer(msg, MsgType.DISCONNECT, refusal.reason));
      return;
    }
    if (this.absorbed.has(txn, origAddr, origPort)) {
      host.counters.requestsAbsorbed++;
      return;
    }
    // A request that waited in the receive queue past the caller's limit: the caller has given up
    // (its disconnect follows in the queue), so a connection made for it would be released unused.
    if (host.receivedAgo() > host.config.connectTimeoutMs) {
      host.counters.requestsStale++;
      return;
    }
    const local = { address: host.localAddress, port: msg.respPort };
    const remote = { address: msg.origAddr, port: msg.origPort };
    const weWin = compareSap(local, remote) > 0;
    const out = this.outByPair.get(remote.address, remote.port, local.address, local.port);
    if (out !== undefined) {
      if (weWin) {
        this.absorbed.set(txn, origAddr, origPort, 0, now + host.config.connectTimeoutMs);
        host.counters.requestsAbsorbed++;
        return;
      }
      // Simultaneous open and we lose: take the peer's call as ours.
      this.finishOut(out, true);
      const conn = this.openResponder(msg, link, local, remote, out.ipa, authenticated);
      host.events.connected(out.handle, conn.info());
      return;
    }
    const mine = this.originated.get(remote.address, remote.port, local.address, local.port);
    if (weWin && mine !== undefined && mine.until > now && host.findConnection(mine.conn.connId) === mine.conn) {
      this.absorbed.set(txn, origAddr, origPort, 0, now + host.config.connectTimeoutMs);
      host.counters.requestsAbsorbed++;
      return;
    }
    // A new call: the first point where a request makes state or work for the manager, so the
    // place to bound what one source (or a forged flood) can cost.
    if (!this.newCalls.allow(link)) {
      host.counters.requestsRateLimited++;
      return;
    }
    if (!host.isListening(msg.respPort)) {
      this.refusals.set(txn, origAddr, origPort, 0, { reason: Reason.NO_LISTENER, until: now + host.config.connectTimeoutMs });
      this.host.sendControl(link, this.frames.answer(msg, MsgType.DISCONNECT, Reason.NO_LISTENER));
      return;
    }
    const call: InCall<L> = { callId: this.nextCallId++, msg, link, local, remote, expiresAt: now + host.config.decideTimeoutMs, secure: authenticated };
    const incoming: IncomingCall<L> = { callId: call.callId, caller: remote, called: local, ipa: msg.ipa, link };
    // msnld's manager decides inside the event: the call then never enters the tables of undecided
    // calls (a set and a delete in each of two maps, and a wake-up, per call of a storm).
    this.deciding = call;
    try {
      host.events.incomingCall(incoming);
    } finally {
      if (this.deciding === call) {
        this.deciding = undefined;
        this.inById.set(call.callId, call);
        host.scheduleAt(call.expiresAt);
        this.inByKey.set(txn, origAddr, origPort, 0, call);
      }
    }
  }

  private onConfirm(msg: SignalMessage, link: L, authenticated: boolean): void {
    const { host } = this;
    const out = this.matchOut(msg, authenticated);
    if (out === undefined) {
      const conn = host.findConnection(msg.origConnId);
      if (conn !== undefined && conn.remoteConnId === msg.respConnId) {
        host.counters.dropUnexpectedSignal++; // a duplicate confirm
        return;
      }
      // A confirm for a call we gave up: tell the responder its connection is dead (plain only:
      // a keyed responder's connection dies by its dead timer).
      host.counters.dropUnknownConnection++;
      if (!authenticated) host.sendReset(link, msg.origConnId, Reason.UNKNOWN_CONNECTION);
      return;
    }
    if (out.secure && msg.respAddr !== 0 && msg.respAddr !== out.remote.address) {
      // The responder proved the key of the address we called; it may not answer as another one.
      host.counters.dropWrongAddress++;
      return;
    }
    this.finishOut(out, false);
    const remote = { address: msg.respAddr === 0 ? out.remote.address : msg.respAddr, port: out.remote.port };
    const conn = host.openConnection(out.localConnId, msg.respConnId, 'originator', out.local, remote, out.ipa, msg.ipa, link, out.txn, out.secure);
    this.originated.set(out.remote.address, out.remote.port, out.local.address, out.local.port, { conn, until: host.clock.now() + host.config.connectTimeoutMs });
    host.events.connected(out.handle, conn.info());
  }

  private onDisconnect(msg: SignalMessage, authenticated: boolean): void {
    const { host } = this;
    const out = this.matchOut(msg, authenticated);
    if (out !== undefined && msg.respConnId === 0) {
      this.finishOut(out, true);
      host.events.callFailed(out.handle, 'refused', msg.reason);
      return;
    }
    if (authenticated) {
      host.counters.dropUnexpectedSignal++; // keyed connections are released by sealed frames (the endpoint)
      return;
    }
    const asOrig = host.findConnection(msg.origConnId);
    if (asOrig !== undefined && asOrig.secure !== null) {
      host.counters.dropPlainRefused++;
      return;
    }
    if (asOrig !== undefined && asOrig.role === 'originator' && asOrig.remoteConnId === msg.respConnId) {
      host.closeConnection(asOrig, msg.reason, true);
      return;
    }
    const asResp = host.findConnection(msg.respConnId);
    if (asResp !== undefined && asResp.secure !== null) {
      host.counters.dropPlainRefused++;
      return;
    }
    if (asResp !== undefined && asResp.role === 'responder' && asResp.remoteConnId === msg.origConnId) {
      host.closeConnection(asResp, msg.reason, true);
      return;
    }
    // The originator gave up on a call: forget it, whether undecided or already confirmed.
    const pending = this.inByKey.get(msg.transaction, msg.origAddr, msg.origPort);
    if (pending !== undefined && !pending.secure && pending.msg.origConnId === msg.origConnId) {
      this.takeIncoming(pending.callId);
      host.events.callCancelled?.(pending.callId);
      return;
    }
    const made = this.confirmed.get(msg.transaction, msg.origAddr, msg.origPort);
    if (made !== undefined && made.secure === null && made.remoteConnId === msg.origConnId) {
      host.closeConnection(made, msg.reason, true);
      return;
    }
    host.counters.dropUnexpectedSignal++;
  }

  private matchOut(msg: SignalMessage, authenticated: boolean): OutCall<L> | undefined {
    const out = this.outByTxn.get(msg.transaction);
    if (out === undefined || out.localConnId !== msg.origConnId || out.local.port !== msg.origPort || out.secure !== authenticated) return undefined;
    out.answered = true;
    return out;
  }

  private finishOut(call: OutCall<L>, releaseId: boolean): void {
    this.outByHandle.delete(call.handle);
    this.outByTxn.delete(call.txn);
    const { local, remote } = call;
    if (this.outByPair.get(remote.address, remote.port, local.address, local.port) === call) this.outByPair.delete(remote.address, remote.port, local.address, local.port);
    if (releaseId) this.host.releaseId(call.localConnId);
  }

  private takeIncoming(callId: number): InCall<L> | undefined {
    const deciding = this.deciding;
    if (deciding !== undefined && deciding.callId === callId) {
      this.deciding = undefined;
      return deciding;
    }
    const call = this.inById.get(callId);
    if (call === undefined) return undefined;
    this.inById.delete(callId);
    this.inByKey.delete(call.msg.transaction, call.msg.origAddr, call.msg.origPort);
    return call;
  }

  private openResponder(msg: SignalMessage, link: L, local: Sap, remote: Sap, ipa: number, secure: boolean): Connection<L> {
    const conn = this.host.openConnection(this.host.allocateId(), msg.origConnId, 'responder', local, remote, ipa, msg.ipa, link, msg.transaction, secure);
    this.confirmed.set(msg.transaction, msg.origAddr, msg.origPort, 0, conn);
    this.sendConfirm(msg, link, conn);
    return conn;
  }

  private sendConfirm(msg: SignalMessage, link: L, conn: Connection<L>): void {
    conn.confirmSentAt = this.host.clock.now();
    this.host.sendControl(link, this.frames.confirm(msg, conn));
  }

  private sendRequest(call: OutCall<L>): void {
    const link = call.links[call.sent % call.links.length] ?? call.link;
    call.sent++;
    this.host.counters.requestsSent++;
    this.host.sendControl(link, this.frames.request(call, MsgType.CONNECT_REQUEST, 0));
  }
}
