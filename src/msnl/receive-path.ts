// The receive path of the endpoint: every datagram from the underlay is read here. Data goes to
// its connection (whole, or through reassembly), health, size and exit probes are answered, sealed
// frames go to the secure layer and come back opened, signals go to call set-up. Bad input is
// counted and dropped, never thrown.

import { octetsOf, readU32 } from '../abi/bytes.js';
import type { Clock } from '../base/clock.js';
import { PeerAcks, type Connection } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import { DATA_HEADER_SIZE, MsgType, PROBE_SIZE, Reason, RESET_SIZE } from './constants.js';
import type { Echoes } from './echoes.js';
import type { ExitPaths } from './exit-paths.js';
import type { Reassembler } from './sar.js';
import type { SecureLayer } from './secure.js';
import type { Signalling } from './signalling.js';
import type { EndpointCounters, EndpointEvents } from './types.js';
import { ACK_PROBE_CODE, ACK_PROBE_SIZE, ASK_PROBE_CODE, ASK_REPLY_SIZE, decodeDataHeader, decodeMessage, encodeEcho, encodeSizeProbe, newDataHeader, NO_ACK, type Message, type ProbeMessage } from './wire.js';

/** Message types 11..14 are the secure framing (src/msnl/secure-wire.ts). */
const SECURE_FIRST_TYPE = 11;
const SECURE_LAST_TYPE = 14;

export interface ReceiveHost<L> {
  readonly clock: Clock;
  readonly counters: EndpointCounters;
  readonly events: EndpointEvents<L>;
  readonly sameLink: (a: L, b: L) => boolean;
  /** This host's default MSNL address (it may change). */
  readonly localAddress: number;
  readonly conns: ConnectionTable<L>;
  readonly reassembler: Reassembler;
  readonly echoes: Echoes;
  readonly secure: SecureLayer<L>;
  readonly signalling: Signalling<L>;
  readonly exitPaths: ExitPaths<L>;
  peerKeyOf(address: number): Uint8Array | 'none' | undefined;
  closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void;
  sendReset(link: L, connId: number, reason: number): void;
  /** Sends a plain datagram to `link`. */
  out(link: L, bytes: Uint8Array): void;
  /** Sends one frame on `conn` (sealed when it is keyed). */
  connOut(conn: Connection<L>, bytes: Uint8Array): void;
  sendProbe(conn: Connection<L>, type: 8 | 9, seq: number, stamp: number, code: 0 | 3 | 4): void;
  /** The connection's timers changed outside its turn in tick(). */
  reschedule(conn: Connection<L>): void;
}

export class ReceivePath<L> {
  private readonly header = newDataHeader();
  // The host's parts the packet path reads, held here (one property load, not two, per use).
  private readonly counters: EndpointCounters;
  private readonly conns: ConnectionTable<L>;
  private readonly clock: Clock;
  private readonly events: EndpointEvents<L>;
  private readonly reassembler: Reassembler;
  private readonly exitPaths: ExitPaths<L>;
  private readonly secure: SecureLayer<L>;

  constructor(private readonly host: ReceiveHost<L>) {
    this.counters = host.counters;
    this.conns = host.conns;
    this.clock = host.clock;
    this.events = host.events;
    this.reassembler = host.reassembler;
    this.exitPaths = host.exitPaths;
    this.secure = host.secure;
  }

  /** Handles one received datagram, buf[offset, offset + length); data needs no view of it. */
  frame(buf: Uint8Array, offset: number, length: number, link: L): void {
    this.counters.datagramsIn++;
    this.counters.bytesIn += length;
    const type = length > 1 ? buf[offset + 1]! : -1;
    if (type === MsgType.DATA) {
      this.data(buf, offset, length, link, null);
      return;
    }
    if (type >= SECURE_FIRST_TYPE && type <= SECURE_LAST_TYPE) {
      this.secure.receive(buf, offset, length, link);
      return;
    }
    // A health probe or its reply (the bulk of an idle host's traffic): read where it lies, as
    // decodeMessage would accept it (version 1, code 0 and exactly 16 octets, or code 3 or 4 and
    // 24 for an acknowledging or asking probe, 16 for a code-3 reply, 20 for a code-4 one; a
    // non-zero id).
    if ((type === MsgType.PROBE || type === MsgType.PROBE_REPLY) && buf[offset] === 1 && buf[offset + 2] === 0) {
      const code = buf[offset + 3];
      const acking = code === ACK_PROBE_CODE || code === ASK_PROBE_CODE;
      const connId = length >= PROBE_SIZE ? readU32(buf, offset + 4) : 0;
      const exact = acking && type === MsgType.PROBE ? ACK_PROBE_SIZE : code === ASK_PROBE_CODE ? ASK_REPLY_SIZE : PROBE_SIZE;
      if (connId !== 0 && (code === 0 || acking) && length === exact) {
        const seq = readU32(buf, offset + 8);
        const stamp = readU32(buf, offset + 12);
        if (type === MsgType.PROBE_REPLY) this.onProbeReply(connId, seq, stamp, code, code === ASK_PROBE_CODE ? readU32(buf, offset + 16) : 0, null);
        else if (acking) this.onProbe(connId, seq, stamp, link, length, null, code, readU32(buf, offset + 16), readU32(buf, offset + 20));
        else this.onProbe(connId, seq, stamp, link, length, null, 0, 0, NO_ACK);
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
  inner(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, link: L): void {
    if (length > 1 && buf[offset + 1] === MsgType.DATA) {
      this.data(buf, offset, length, link, conn);
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
      if (names) this.host.closeConnection(conn, msg.reason, true);
      else this.counters.dropUnexpectedSignal++;
      return;
    }
    if ((msg.type === MsgType.PROBE || msg.type === MsgType.PROBE_REPLY) && msg.connId === conn.connId) {
      this.dispatch(msg, link, length, conn);
      return;
    }
    this.counters.dropUnexpectedSignal++;
  }

  /** A data frame: plain (`via` null) or opened from a sealed frame of `via`. */
  private data(buf: Uint8Array, offset: number, length: number, link: L, via: Connection<L> | null): void {
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
    if (conn !== via && (via !== null || conn.secure !== null || !this.exitPaths.fromExit(conn, link))) {
      this.counters.dropPlainRefused++;
      return;
    }
    const payload = length - DATA_HEADER_SIZE;
    if (header.offset === 0 && payload === header.totalLength) {
      // A whole packet in one datagram: handed on where it lies.
      conn.dataReceived(this.clock.now(), payload, true);
      this.counters.packetsIn++;
      this.events.data(conn.connId, buf, offset + DATA_HEADER_SIZE, payload, via !== null);
      return;
    }
    const packet = this.reassembler.accept(conn.connId, header, buf, offset + DATA_HEADER_SIZE, payload);
    // The clock is read for a packet's first segment and its last, not for the 40-odd between
    // (one read each was 7 % of a keyed ms3 receive): the connection is heard as before.
    if (packet !== null || header.offset === 0) conn.dataReceived(this.clock.now(), packet === null ? 0 : packet.length, packet !== null);
    if (packet === null) return; // more segments to come, or a drop counted by the reassembler
    this.counters.packetsIn++;
    this.events.data(conn.connId, packet, 0, packet.length, via !== null);
    this.reassembler.recycle();
  }

  private unknownConnection(connId: number, link: L, inLength: number): void {
    this.counters.dropUnknownConnection++;
    if (this.conns.isReserved(connId)) return; // early traffic for a call whose confirm is still on its way
    if (inLength >= RESET_SIZE) this.host.sendReset(link, connId, Reason.UNKNOWN_CONNECTION);
  }

  /** A decoded frame: plain (`via` null), or a probe or probe reply opened from a sealed frame of `via`. */
  private dispatch(msg: Message, link: L, inLength: number, via: Connection<L> | null): void {
    switch (msg.type) {
      case MsgType.RESET: {
        this.counters.resetsReceived++;
        const conn = this.conns.byRemoteId(msg.connId, (c) => c.secure === null && this.host.sameLink(c.link, link));
        if (conn !== undefined) {
          // A callee's connection reset before it heard anything from its caller: the caller had
          // given up the call when our confirm came (msnl(7) Call set-up), so it is reported as
          // that call's timeout (reason 7), not as a peer that lost the connection.
          const gaveUp = conn.role === 'responder' && conn.lastHeardAt === conn.createdAt;
          this.host.closeConnection(conn, gaveUp ? Reason.TIMEOUT : msg.reason, true);
          return;
        }
        this.counters.dropUnknownConnection++;
        return;
      }
      case MsgType.ECHO_REQUEST:
        if (msg.dstAddr !== this.host.localAddress) {
          this.counters.dropWrongAddress++;
          return;
        }
        this.counters.echoesAnswered++;
        this.host.out(link, encodeEcho(MsgType.ECHO_REPLY, msg.srcAddr, this.host.localAddress, msg.ident, msg.payload));
        return;
      case MsgType.ECHO_REPLY: {
        const rtt = this.host.echoes.answer(msg.ident, msg.srcAddr, this.clock.now());
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
          this.exitPaths.answerProbe(conn, link, msg.seq, msg.stamp, via !== null);
          return;
        }
        if (msg.sized === true) {
          // A size probe: answered unpadded, and no health probe (msnl(7) Path MTU).
          this.host.connOut(conn, encodeSizeProbe(true, conn.remoteConnId, msg.seq, msg.stamp));
          return;
        }
        this.onProbe(msg.connId, msg.seq, msg.stamp, link, inLength, via, probeCode(msg), msg.ackSeq ?? 0, msg.holdMs ?? NO_ACK);
        return;
      }
      case MsgType.PROBE_REPLY: {
        const conn = this.conns.get(msg.connId);
        if (conn !== undefined && conn !== via && conn.secure !== null) {
          this.counters.dropPlainRefused++;
          return;
        }
        if (conn !== undefined && msg.exit === true) {
          this.exitPaths.probeAnswered(conn, msg.seq, this.clock.now());
          return;
        }
        if (conn !== undefined && msg.sized === true) {
          if (conn.path.answered(msg.seq, this.clock.now()) || this.exitPaths.sizeAnswered(conn, msg.seq, this.clock.now())) {
            this.counters.sizeProbesAnswered++;
            this.host.reschedule(conn);
          } else this.counters.dropUnexpectedSignal++;
          return;
        }
        this.onProbeReply(msg.connId, msg.seq, msg.stamp, probeCode(msg), msg.askMs ?? 0, via);
        return;
      }
      case MsgType.DATA:
        return; // handled by receiveData
      default:
        if (!this.plainSignalAllowed(msg)) {
          this.counters.dropPlainRefused++;
          return;
        }
        this.host.signalling.onSignal(msg, link);
    }
  }

  /**
   * A health probe (not a size probe): answered with a reply of its code (code 4's carries the
   * interval we ask for), and the peer's direction counts as proven; an acknowledging or asking
   * probe naming our latest reply proves ours too (msnl(7) Probes).
   */
  private onProbe(connId: number, seq: number, stamp: number, link: L, inLength: number, via: Connection<L> | null,
    code: 0 | 3 | 4, ackSeq: number, holdMs: number): void {
    const conn = this.conns.get(connId);
    if (conn === undefined) {
      this.unknownConnection(connId, link, inLength);
      return;
    }
    if (conn !== via && conn.secure !== null) {
      this.counters.dropPlainRefused++;
      return;
    }
    const now = this.clock.now();
    conn.peerProbed(now);
    if (code !== 0) conn.peerAcked(holdMs !== NO_ACK, ackSeq, holdMs, now);
    this.host.sendProbe(conn, MsgType.PROBE_REPLY, seq, stamp, code);
    conn.replied(seq, now);
  }

  /**
   * A reply to one of our health probes (code 3: the peer speaks acknowledging probes; 4: asking
   * ones too, and `askMs` is the interval it asks us to keep to).
   */
  private onProbeReply(connId: number, seq: number, stamp: number, code: 0 | 3 | 4, askMs: number, via: Connection<L> | null): void {
    const conn = this.conns.get(connId);
    if (conn !== undefined && conn !== via && conn.secure !== null) {
      this.counters.dropPlainRefused++;
      return;
    }
    if (conn === undefined || !conn.probeAnswered(seq, stamp, this.clock.now())) {
      this.counters.dropUnexpectedSignal++;
      return;
    }
    if (code === ASK_PROBE_CODE) conn.peerAsked(askMs);
    else if (code !== 0) conn.peerAcks = PeerAcks.YES;
    this.counters.probesAnswered++;
  }

  /** A plain connect request is taken only from an address whose route says auth none. */
  private plainSignalAllowed(msg: Message): boolean {
    if (msg.type !== MsgType.CONNECT_REQUEST) return true;
    const key = this.host.peerKeyOf(msg.origAddr);
    if (key === 'none') return true;
    this.events.authFailed?.(msg.origAddr, 'plain-refused');
    return false;
  }
}

/** The health-probe code of a decoded probe or reply: 4 asking, 3 acknowledging, 0 plain. */
function probeCode(msg: ProbeMessage): 0 | 3 | 4 {
  return msg.asking === true ? ASK_PROBE_CODE : msg.acking === true ? ACK_PROBE_CODE : 0;
}
