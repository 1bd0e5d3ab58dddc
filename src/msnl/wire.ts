// The MSNL-over-UDP wire codec (man/msnl.7). Decoders check exact or minimum lengths and field
// values and return a typed error, never throw. The data header has a no-allocation decoder that
// fills a caller-owned object; encoders for data write into caller buffers (headroom).

import {
  COMMON_HEADER_SIZE,
  DATA_HEADER_SIZE,
  ECHO_HEADER_SIZE,
  LAST_SIGNAL_TYPE,
  MAX_PACKET_SIZE,
  MsgType,
  PROBE_SIZE,
  RESET_SIZE,
  SIGNAL_SIZE,
  WIRE_VERSION,
} from './constants.js';

export type DecodeError = 'short' | 'length' | 'version' | 'type' | 'reserved' | 'field';

export interface SignalMessage {
  readonly type: 0 | 1 | 2 | 3 | 4;
  readonly reason: number;
  readonly transaction: number;
  readonly origAddr: number;
  readonly origPort: number;
  readonly respAddr: number;
  readonly respPort: number;
  readonly ipa: number;
  /** The connection id the originator receives on (0 when not yet known). */
  readonly origConnId: number;
  /** The connection id the responder receives on (0 in a request). */
  readonly respConnId: number;
}
export interface ResetMessage { readonly type: 5; readonly reason: number; readonly connId: number }
export interface EchoMessage {
  readonly type: 6 | 7;
  readonly dstAddr: number;
  readonly srcAddr: number;
  readonly ident: number;
  readonly payload: Uint8Array;
}
/** `sized`: a size probe (code 1, padded; msnl(7) Path MTU) or its reply, not a health probe. */
/** `exit`: an exit probe (code 2; msnl(7) Exits) or its reply, answered to the address it came from. */
/** `acking`: an acknowledging probe (code 3, with `ackSeq` and `holdMs`) or its reply (msnl(7) Probes). */
/** `asking`: an asking probe (code 4, acking too, laid out as code 3) or its reply, which carries `askMs` (msnl(7) Probes). */
export interface ProbeMessage {
  readonly type: 8 | 9; readonly connId: number; readonly seq: number; readonly stamp: number; readonly sized?: boolean; readonly exit?: boolean;
  readonly acking?: boolean; readonly ackSeq?: number; readonly holdMs?: number; readonly asking?: boolean; readonly askMs?: number;
}
export interface DataMessage {
  readonly type: 10;
  readonly connId: number;
  readonly packetSeq: number;
  readonly totalLength: number;
  readonly offset: number;
  readonly payload: Uint8Array;
}
export type Message = SignalMessage | ResetMessage | EchoMessage | ProbeMessage | DataMessage;
export type DecodeResult = { readonly ok: true; readonly msg: Message } | { readonly ok: false; readonly error: DecodeError };

/** Mutable data-header fields filled by decodeDataHeader (one object reused per receive loop). */
export interface DataHeader {
  connId: number;
  packetSeq: number;
  totalLength: number;
  offset: number;
  /** Payload length (datagram length minus DATA_HEADER_SIZE). */
  length: number;
}

export function newDataHeader(): DataHeader {
  return { connId: 0, packetSeq: 0, totalLength: 0, offset: 0, length: 0 };
}


function writeCommon(buf: Uint8Array, type: number, code: number): void {
  buf[0] = WIRE_VERSION;
  buf[1] = type;
  buf[2] = (code >>> 8) & 0xff;
  buf[3] = code & 0xff;
}

function fail(error: DecodeError): DecodeResult {
  return { ok: false, error };
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

/** Peeks the message type of a datagram with a valid common header, or -1. */
export function peekType(buf: Uint8Array): number {
  if (buf.length < COMMON_HEADER_SIZE || buf[0] !== WIRE_VERSION) return -1;
  return buf[1]!;
}

/** Encodes a signalling message (types 0..4), 36 octets. */
export function encodeSignal(msg: SignalMessage, out = new Uint8Array(SIGNAL_SIZE)): Uint8Array {
  writeSignal(out, msg.type, msg.reason, msg.transaction, msg.origAddr, msg.origPort, msg.respAddr, msg.respPort, msg.ipa, msg.origConnId, msg.respConnId);
  return out.subarray(0, SIGNAL_SIZE);
}

/**
 * Writes a signalling message's 36 octets at the start of `out` from its fields, with no message
 * object (call set-up answers each request from one reused frame).
 */
export function writeSignal(out: Uint8Array, type: number, reason: number, transaction: number, origAddr: number, origPort: number,
  respAddr: number, respPort: number, ipa: number, origConnId: number, respConnId: number): void {
  writeCommon(out, type, reason);
  put32(out, 4, transaction);
  put32(out, 8, origAddr);
  put32(out, 12, origPort);
  put32(out, 16, respAddr);
  put32(out, 20, respPort);
  put32(out, 24, ipa);
  put32(out, 28, origConnId);
  put32(out, 32, respConnId);
}

/** Encodes the short disconnect (reset), 8 octets. */
export function encodeReset(connId: number, reason: number, out = new Uint8Array(RESET_SIZE)): Uint8Array {
  writeCommon(out, MsgType.RESET, reason);
  put32(out, 4, connId);
  return out.subarray(0, RESET_SIZE);
}

/** Encodes an echo request or reply: 16-octet header then the payload (copied). */
export function encodeEcho(type: 6 | 7, dstAddr: number, srcAddr: number, ident: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ECHO_HEADER_SIZE + payload.length);
  writeCommon(out, type, 0);
  put32(out, 4, dstAddr);
  put32(out, 8, srcAddr);
  put32(out, 12, ident);
  out.set(payload, ECHO_HEADER_SIZE);
  return out;
}

/** Encodes a probe or probe reply, 16 octets. */
export function encodeProbe(type: 8 | 9, connId: number, seq: number, stamp: number, out = new Uint8Array(PROBE_SIZE)): Uint8Array {
  writeProbe(out, type, connId, seq, stamp);
  return out.subarray(0, PROBE_SIZE);
}

/** Writes a probe or probe reply's 16 octets (code 0) at the start of `out`, allocating nothing. */
export function writeProbe(out: Uint8Array, type: 8 | 9, connId: number, seq: number, stamp: number): void {
  writeCommon(out, type, 0);
  put32(out, 4, connId);
  put32(out, 8, seq);
  put32(out, 12, stamp);
}

/** Code of a size probe and its reply (msnl(7) Path MTU). */
export const SIZE_PROBE_CODE = 1;

/**
 * Encodes a size probe of `size` octets (at least PROBE_SIZE): a probe with code 1 whose octets
 * after the first 16 are zero padding, or (`reply`) its 16-octet reply.
 */
export function encodeSizeProbe(reply: boolean, connId: number, seq: number, stamp: number, size = PROBE_SIZE): Uint8Array {
  const out = new Uint8Array(reply ? PROBE_SIZE : Math.max(PROBE_SIZE, size));
  encodeProbe(reply ? MsgType.PROBE_REPLY : MsgType.PROBE, connId, seq, stamp, out);
  out[3] = SIZE_PROBE_CODE;
  return out;
}

/** Code of an acknowledging probe and its reply (msnl(7) Probes). */
export const ACK_PROBE_CODE = 3;
/** An acknowledging probe: a probe's 16 octets, the acknowledged sequence number, the hold time. */
export const ACK_PROBE_SIZE = PROBE_SIZE + 8;
/** The hold time of an acknowledging probe that acknowledges nothing (yet). */
export const NO_ACK = 0xffffffff;

/**
 * Encodes an acknowledging probe (24 octets): `ackSeq` is the newest of the prober's own probes
 * whose reply arrived, `holdMs` how long ago that reply arrived (NO_ACK: none yet; ackSeq 0).
 */
export function encodeAckProbe(connId: number, seq: number, stamp: number, ackSeq: number, holdMs: number, out = new Uint8Array(ACK_PROBE_SIZE)): Uint8Array {
  writeAckProbe(out, connId, seq, stamp, ackSeq, holdMs);
  return out.subarray(0, ACK_PROBE_SIZE);
}

/** Writes an acknowledging probe's 24 octets at the start of `out` (`code` ASK_PROBE_CODE: an asking probe), allocating nothing. */
export function writeAckProbe(out: Uint8Array, connId: number, seq: number, stamp: number, ackSeq: number, holdMs: number, code = ACK_PROBE_CODE): void {
  writeProbe(out, MsgType.PROBE, connId, seq, stamp);
  out[3] = code;
  put32(out, 16, holdMs === NO_ACK ? 0 : ackSeq);
  put32(out, 20, holdMs);
}

/**
 * Code of an asking probe and its reply (msnl(7) Probes): an acknowledging probe (24 octets, laid
 * out as code 3) that asks the receiver for the probe interval it wants; the reply carries it.
 */
export const ASK_PROBE_CODE = 4;
/** An asking probe's reply: a reply's 16 octets and the interval asked for (ms). */
export const ASK_REPLY_SIZE = PROBE_SIZE + 4;

/** Encodes an asking probe (24 octets; fields as encodeAckProbe). */
export function encodeAskProbe(connId: number, seq: number, stamp: number, ackSeq: number, holdMs: number): Uint8Array {
  const out = new Uint8Array(ACK_PROBE_SIZE);
  writeAckProbe(out, connId, seq, stamp, ackSeq, holdMs, ASK_PROBE_CODE);
  return out;
}

/** Writes an asking probe's reply (20 octets) at the start of `out`: the probe's sequence number and stamp, and `askMs`. */
export function writeAskReply(out: Uint8Array, connId: number, seq: number, stamp: number, askMs: number): void {
  writeProbe(out, MsgType.PROBE_REPLY, connId, seq, stamp);
  out[3] = ASK_PROBE_CODE;
  put32(out, 16, askMs);
}

/** Encodes an asking probe's reply (20 octets). */
export function encodeAskReply(connId: number, seq: number, stamp: number, askMs: number): Uint8Array {
  const out = new Uint8Array(ASK_REPLY_SIZE);
  writeAskReply(out, connId, seq, stamp, askMs);
  return out;
}

/** Code of an exit probe and its reply (msnl(7) Exits). */
export const EXIT_PROBE_CODE = 2;

/** Encodes an exit probe or its reply: a 16-octet probe with code 2. */
export function encodeExitProbe(reply: boolean, connId: number, seq: number, stamp: number): Uint8Array {
  const out = encodeProbe(reply ? MsgType.PROBE_REPLY : MsgType.PROBE, connId, seq, stamp);
  out[3] = EXIT_PROBE_CODE;
  return out;
}

/**
 * True when frame buf[offset, offset + length) is an exit probe, a size probe, or a reply to one:
 * frames sent to (or answered from) an exit that is not necessarily the one in use, so they never
 * move a keyed connection's peer (msnl(7) Exits).
 */
export function isPathProbe(buf: Uint8Array, offset: number, length: number): boolean {
  const type = buf[offset + 1];
  const code = buf[offset + 3];
  return length >= PROBE_SIZE && (type === MsgType.PROBE || type === MsgType.PROBE_REPLY) && (code === EXIT_PROBE_CODE || code === SIZE_PROBE_CODE);
}

/**
 * Writes a data header into `buf` at `at` (the headroom in front of the payload). The caller
 * guarantees at + DATA_HEADER_SIZE <= buf.length and valid field ranges.
 */
export function writeDataHeader(buf: Uint8Array, at: number, connId: number, packetSeq: number, totalLength: number, offset: number): void {
  buf[at] = WIRE_VERSION;
  buf[at + 1] = MsgType.DATA;
  buf[at + 2] = 0;
  buf[at + 3] = 0;
  put32(buf, at + 4, connId);
  put32(buf, at + 8, packetSeq);
  put16(buf, at + 12, totalLength);
  put16(buf, at + 14, offset);
}

/**
 * Decodes a data header into `out` without allocating. Returns null when valid, else the error.
 * Checks: version, type, zero code, at least one payload octet, 1 <= total, offset + length <= total.
 */
export function decodeDataHeader(buf: Uint8Array, out: DataHeader, at = 0, size = buf.length - at): DecodeError | null {
  if (size < DATA_HEADER_SIZE + 1 || at < 0 || at + size > buf.length) return 'short';
  if (buf[at] !== WIRE_VERSION) return 'version';
  if (buf[at + 1] !== MsgType.DATA) return 'type';
  if (buf[at + 2] !== 0 || buf[at + 3] !== 0) return 'reserved';
  out.connId = u32(buf, at + 4);
  out.packetSeq = u32(buf, at + 8);
  out.totalLength = u16(buf, at + 12);
  out.offset = u16(buf, at + 14);
  out.length = size - DATA_HEADER_SIZE;
  if (out.connId === 0 || out.totalLength === 0 || out.offset + out.length > out.totalLength) return 'field';
  return null;
}

function decodeSignal(buf: Uint8Array, type: 0 | 1 | 2 | 3 | 4): DecodeResult {
  if (buf.length !== SIGNAL_SIZE) return fail(buf.length < SIGNAL_SIZE ? 'short' : 'length');
  const msg: SignalMessage = {
    type,
    reason: u16(buf, 2),
    transaction: u32(buf, 4),
    origAddr: u32(buf, 8),
    origPort: u32(buf, 12),
    respAddr: u32(buf, 16),
    respPort: u32(buf, 20),
    ipa: u32(buf, 24),
    origConnId: u32(buf, 28),
    respConnId: u32(buf, 32),
  };
  // Every signal names the originator's receive id; a request not yet the responder's, a confirm both.
  if (msg.origConnId === 0) return fail('field');
  if (type === MsgType.CONNECT_REQUEST && (msg.origConnId === 0 || msg.respConnId !== 0)) return fail('field');
  if (type === MsgType.CONNECT_CONFIRM && (msg.origConnId === 0 || msg.respConnId === 0)) return fail('field');
  if (type === MsgType.CONNECT_REQUEST && msg.reason !== 0) return fail('reserved');
  return { ok: true, msg };
}

/** Decodes any MSNL datagram. The payload of echo and data messages is a view into `buf`. */
export function decodeMessage(buf: Uint8Array): DecodeResult {
  if (buf.length < COMMON_HEADER_SIZE) return fail('short');
  if (buf[0] !== WIRE_VERSION) return fail('version');
  const type = buf[1]!;
  const code = u16(buf, 2);
  if (type <= LAST_SIGNAL_TYPE) return decodeSignal(buf, type as 0 | 1 | 2 | 3 | 4);
  switch (type) {
    case MsgType.RESET: {
      if (buf.length !== RESET_SIZE) return fail(buf.length < RESET_SIZE ? 'short' : 'length');
      const connId = u32(buf, 4);
      if (connId === 0) return fail('field');
      return { ok: true, msg: { type: MsgType.RESET, reason: code, connId } };
    }
    case MsgType.ECHO_REQUEST:
    case MsgType.ECHO_REPLY: {
      if (buf.length < ECHO_HEADER_SIZE) return fail('short');
      if (code !== 0) return fail('reserved');
      return {
        ok: true,
        msg: { type, dstAddr: u32(buf, 4), srcAddr: u32(buf, 8), ident: u32(buf, 12), payload: buf.subarray(ECHO_HEADER_SIZE) },
      };
    }
    case MsgType.PROBE:
    case MsgType.PROBE_REPLY: {
      // A size probe (code 1) may carry padding, an acknowledging or asking probe (code 3, 4) is
      // exactly 24, an asking probe's reply exactly 20; every other probe and reply exactly 16.
      const sized = code === SIZE_PROBE_CODE;
      const asking = code === ASK_PROBE_CODE;
      const acking = code === ACK_PROBE_CODE || asking;
      if (buf.length < PROBE_SIZE) return fail('short');
      const exact = acking && type === MsgType.PROBE ? ACK_PROBE_SIZE : asking ? ASK_REPLY_SIZE : PROBE_SIZE;
      if (buf.length !== exact && !(sized && type === MsgType.PROBE)) return fail(buf.length < exact ? 'short' : 'length');
      const exit = code === EXIT_PROBE_CODE;
      if (code !== 0 && !sized && !exit && !acking) return fail('reserved');
      const connId = u32(buf, 4);
      if (connId === 0) return fail('field');
      const fields = { type, connId, seq: u32(buf, 8), stamp: u32(buf, 12) };
      if (asking) return { ok: true, msg: type === MsgType.PROBE ? { ...fields, acking, asking, ackSeq: u32(buf, 16), holdMs: u32(buf, 20) } : { ...fields, acking, asking, askMs: u32(buf, 16) } };
      if (acking) return { ok: true, msg: type === MsgType.PROBE ? { ...fields, acking, ackSeq: u32(buf, 16), holdMs: u32(buf, 20) } : { ...fields, acking } };
      return { ok: true, msg: sized ? { ...fields, sized } : exit ? { ...fields, exit } : fields };
    }
    case MsgType.DATA: {
      const header = newDataHeader();
      const error = decodeDataHeader(buf, header);
      if (error !== null) return fail(error);
      return {
        ok: true,
        msg: {
          type: MsgType.DATA,
          connId: header.connId,
          packetSeq: header.packetSeq,
          totalLength: header.totalLength,
          offset: header.offset,
          payload: buf.subarray(DATA_HEADER_SIZE),
        },
      };
    }
    default:
      return fail('type');
  }
}

/** Largest payload a single datagram of `maxDatagram` octets carries. */
export function segmentPayload(maxDatagram: number): number {
  return Math.min(maxDatagram - DATA_HEADER_SIZE, MAX_PACKET_SIZE);
}
