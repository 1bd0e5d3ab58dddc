// Manager messages: the only interface between the tunnel half (ms0..ms3) and the manager half, so
// the two could run in separate processes. Each message is a fixed layout, network order:
//   0 u16 type, 2 u16 total length (header included), then u32 fields from offset 4.
// Layouts (offset: field) are listed per type below and byte by byte in ms(4).

import { MM_HEADER_SIZE, MM_LENGTH, MM_LENGTH_OFFSET, MM_REASON_MAX, MM_TYPE_OFFSET, MmType, type MmTypeName } from './constants.js';
import { checkU32, isU32, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { DecodeError } from './decode-error.js';
import {
  encodeSockaddrIn,
  encodeSockaddrMsnl,
  readSockaddrIn,
  readSockaddrMsnl,
  type SockaddrIn,
  type SockaddrMsnl,
} from './sockaddr.js';

/** 4 sock, 8 sockaddr_msnl (address 0 = default, port = tunnelling port, ms_ipa = interface IP). */
export interface MmUpBind { readonly type: 'MMUP_BIND'; readonly sock: number; readonly addr: SockaddrMsnl }
/** 4 sock, 8 backlog. */
export interface MmUpListen { readonly type: 'MMUP_LISTEN'; readonly sock: number; readonly backlog: number }
/** 4 sock, 8 ref (chosen by the tunnel, echoed in the reply), 12 sockaddr_in (peer IP, MTU port). */
export interface MmUpConnect { readonly type: 'MMUP_CONNECT'; readonly sock: number; readonly ref: number; readonly peer: SockaddrIn }
/** 4 sock, 8 conn: the tunnel takes the connection announced by MMDOWN_NEWCONN. */
export interface MmUpAccept { readonly type: 'MMUP_ACCEPT'; readonly sock: number; readonly conn: number }
/** 4 conn, 8 reason. */
export interface MmUpDisconnect { readonly type: 'MMUP_DISCONNECT'; readonly conn: number; readonly reason: number }
/** 4 sock: unbind (address removed or interface down). */
export interface MmUpDetach { readonly type: 'MMUP_DETACH'; readonly sock: number }
/** 4 conn, 8 sockaddr_msnl: a packet on conn had a source IP (`ipa`) the peer may not use. */
export interface MmUpAssocBad { readonly type: 'MMUP_ASSOCBAD'; readonly conn: number; readonly source: SockaddrMsnl }
/** 4 sock, 8 conn, 12 sockaddr_in: a validated incoming connection and the AF_INET address of its IP peer. */
export interface MmDownNewConn { readonly type: 'MMDOWN_NEWCONN'; readonly sock: number; readonly conn: number; readonly peer: SockaddrIn }
/** 4 conn, 8 reason. */
export interface MmDownDisconnect { readonly type: 'MMDOWN_DISCONNECT'; readonly conn: number; readonly reason: number }
/** 4 sock: the socket is gone (answer to MMUP_DETACH, or the manager dropped it). */
export interface MmDownFinal { readonly type: 'MMDOWN_FINAL'; readonly sock: number }
/** 4 MSNL address: this host's default MSNL address. */
export interface MmDownHostSet { readonly type: 'MMDOWN_HOSTSET'; readonly address: number }
/** 4 conn: the connection was idle; the tunnel should disconnect it when it agrees. */
export interface MmDownAssocIdle { readonly type: 'MMDOWN_ASSOCIDLE'; readonly conn: number }
/** 4 sock, 8 ref, 12 conn, 16 sockaddr_in: MMUP_CONNECT `ref` succeeded as connection `conn`. */
export interface MmDownConnected {
  readonly type: 'MMDOWN_CONNECTED'; readonly sock: number; readonly ref: number; readonly conn: number; readonly peer: SockaddrIn;
}
/** 4 sock, 8 ref, 12 reason, 16 sockaddr_in: MMUP_CONNECT `ref` failed. */
export interface MmDownRefused {
  readonly type: 'MMDOWN_REFUSED'; readonly sock: number; readonly ref: number; readonly reason: number; readonly peer: SockaddrIn;
}
/** 4 sock, 8 ref, 12 u16 request type, 14 u16 zero, 16 errno: a request could not be carried out. */
export interface MmDownError {
  readonly type: 'MMDOWN_ERROR'; readonly sock: number; readonly ref: number; readonly request: number; readonly errno: number;
}

export type MmMessage =
  | MmUpBind | MmUpListen | MmUpConnect | MmUpAccept | MmUpDisconnect | MmUpDetach | MmUpAssocBad
  | MmDownNewConn | MmDownDisconnect | MmDownFinal | MmDownHostSet | MmDownAssocIdle
  | MmDownConnected | MmDownRefused | MmDownError;

export type MmDecodeError = DecodeError;

const NAME_BY_TYPE = new Map<number, MmTypeName>((Object.keys(MmType) as MmTypeName[]).map((name) => [MmType[name], name]));

/** The type name of a numeric message type, or undefined. */
export function mmTypeName(type: number): MmTypeName | undefined {
  return NAME_BY_TYPE.get(type);
}

/** True for the messages that travel from the tunnel up to the manager. */
export function isMmUp(msg: MmMessage): boolean {
  return msg.type.startsWith('MMUP_');
}

function checkReason(reason: number): void {
  if (!Number.isInteger(reason) || reason < 0 || reason > MM_REASON_MAX) throw new RangeError(`reason must be 0..${MM_REASON_MAX}, got ${reason}`);
}

function putU32(buf: Uint8Array, at: number, value: number, type: string, field: string): void {
  if (!isU32(value)) checkU32(value, `${type}.${field}`);
  writeU32(buf, at, value);
}

/**
 * Writes `msg` at `offset` of `buf` and returns its length. Throws RangeError when the buffer has
 * no room or a field is out of range: those are the caller's bugs, not bad input.
 */
export function encodeMm(msg: MmMessage, buf: Uint8Array, offset = 0): number {
  const length = MM_LENGTH[msg.type];
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new RangeError(`${msg.type} needs ${length} octets at offset ${offset} of a ${buf.length}-octet buffer`);
  }
  // No closure and no field name per message (each was an allocation, several a call in a storm's
  // NEWCONN and ACCEPT): putU32 makes the name only for the error.
  writeU16(buf, offset + MM_TYPE_OFFSET, MmType[msg.type]);
  writeU16(buf, offset + MM_LENGTH_OFFSET, length);
  switch (msg.type) {
    case 'MMUP_BIND':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      encodeSockaddrMsnl(msg.addr, buf, offset + 8);
      break;
    case 'MMUP_LISTEN':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.backlog, msg.type, 'backlog');
      break;
    case 'MMUP_CONNECT':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.ref, msg.type, 'ref');
      encodeSockaddrIn(msg.peer, buf, offset + 12);
      break;
    case 'MMUP_ACCEPT':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.conn, msg.type, 'conn');
      break;
    case 'MMUP_DISCONNECT':
    case 'MMDOWN_DISCONNECT':
      checkReason(msg.reason);
      putU32(buf, offset + 4, msg.conn, msg.type, 'conn');
      putU32(buf, offset + 8, msg.reason, msg.type, 'reason');
      break;
    case 'MMUP_DETACH':
    case 'MMDOWN_FINAL':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      break;
    case 'MMUP_ASSOCBAD':
      putU32(buf, offset + 4, msg.conn, msg.type, 'conn');
      encodeSockaddrMsnl(msg.source, buf, offset + 8);
      break;
    case 'MMDOWN_NEWCONN':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.conn, msg.type, 'conn');
      encodeSockaddrIn(msg.peer, buf, offset + 12);
      break;
    case 'MMDOWN_HOSTSET':
      putU32(buf, offset + 4, msg.address, msg.type, 'address');
      break;
    case 'MMDOWN_ASSOCIDLE':
      putU32(buf, offset + 4, msg.conn, msg.type, 'conn');
      break;
    case 'MMDOWN_CONNECTED':
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.ref, msg.type, 'ref');
      putU32(buf, offset + 12, msg.conn, msg.type, 'conn');
      encodeSockaddrIn(msg.peer, buf, offset + 16);
      break;
    case 'MMDOWN_REFUSED':
      checkReason(msg.reason);
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.ref, msg.type, 'ref');
      putU32(buf, offset + 12, msg.reason, msg.type, 'reason');
      encodeSockaddrIn(msg.peer, buf, offset + 16);
      break;
    case 'MMDOWN_ERROR':
      if (mmTypeName(msg.request) === undefined) throw new RangeError(`MMDOWN_ERROR.request must be a message type, got ${msg.request}`);
      if (msg.errno === 0) throw new RangeError('MMDOWN_ERROR.errno must not be zero');
      putU32(buf, offset + 4, msg.sock, msg.type, 'sock');
      putU32(buf, offset + 8, msg.ref, msg.type, 'ref');
      writeU16(buf, offset + 12, msg.request);
      writeU16(buf, offset + 14, 0);
      putU32(buf, offset + 16, msg.errno, msg.type, 'errno');
      break;
  }
  return length;
}

/** Encodes into a fresh Buffer (control path and tests; the data path uses encodeMm). */
export function encodeMmToBuffer(msg: MmMessage): Buffer {
  const buf = Buffer.alloc(MM_LENGTH[msg.type]);
  encodeMm(msg, buf, 0);
  return buf;
}

/**
 * Reads the header at `offset` and returns the total length the message claims, so a stream
 * reader can frame messages; a DecodeError when fewer than 4 octets are there or the type or
 * length is wrong.
 */
export function peekMmLength(bytes: Uint8Array, offset = 0): number | DecodeError {
  if (offset < 0 || offset + MM_HEADER_SIZE > bytes.length) return new DecodeError('length', 0, `an MM header is ${MM_HEADER_SIZE} octets`);
  const type = readU16(bytes, offset + MM_TYPE_OFFSET);
  const name = mmTypeName(type);
  if (name === undefined) return new DecodeError('type', MM_TYPE_OFFSET, `unknown MM message type 0x${type.toString(16).padStart(4, '0')}`);
  const claimed = readU16(bytes, offset + MM_LENGTH_OFFSET);
  if (claimed !== MM_LENGTH[name]) return new DecodeError('length', MM_LENGTH_OFFSET, `${name} is ${MM_LENGTH[name]} octets, header says ${claimed}`);
  return claimed;
}

/**
 * The type of a well-framed message (its length is the type's), or -1: for a reader that only
 * routes messages (the daemon snooping connection ids) and need not decode them whole.
 */
export function mmTypeOf(bytes: Uint8Array): number {
  const claimed = peekMmLength(bytes, 0);
  return typeof claimed === 'number' && claimed === bytes.length ? readU16(bytes, MM_TYPE_OFFSET) : -1;
}

/** Where each message type that names a connection holds its id (a u32; ms(4)). */
const CONN_OFFSET: ReadonlyMap<number, number> = new Map([
  [MmType.MMUP_ACCEPT, 8], [MmType.MMUP_DISCONNECT, 4], [MmType.MMUP_ASSOCBAD, 4],
  [MmType.MMDOWN_NEWCONN, 8], [MmType.MMDOWN_DISCONNECT, 4], [MmType.MMDOWN_ASSOCIDLE, 4], [MmType.MMDOWN_CONNECTED, 12],
]);

/** The connection id of a message of type `type` (mmTypeOf) that names one, else -1. */
export function mmConnOf(bytes: Uint8Array, type: number): number {
  const at = CONN_OFFSET.get(type);
  return at === undefined ? -1 : readU32(bytes, at);
}

function readReason(bytes: Uint8Array, at: number): number | DecodeError {
  const reason = readU32(bytes, at);
  if (reason > MM_REASON_MAX) return new DecodeError('value', at, `unknown reason code ${reason}`);
  return reason;
}

/**
 * Decodes exactly one message: `bytes` must be exactly as long as the type's layout, and the
 * header's length field must agree. Never throws; bad input gives a DecodeError.
 */
export function decodeMm(bytes: Uint8Array): MmMessage | DecodeError {
  const claimed = peekMmLength(bytes, 0);
  if (claimed instanceof DecodeError) return claimed;
  if (bytes.length !== claimed) return new DecodeError('length', 0, `message is ${bytes.length} octets, header says ${claimed}`);
  const name = mmTypeName(readU16(bytes, MM_TYPE_OFFSET)) as MmTypeName;
  switch (name) {
    case 'MMUP_BIND': {
      const addr = readSockaddrMsnl(bytes, 8, 0);
      return addr instanceof DecodeError ? addr : { type: name, sock: readU32(bytes, 4), addr };
    }
    case 'MMUP_LISTEN':
      return { type: name, sock: readU32(bytes, 4), backlog: readU32(bytes, 8) };
    case 'MMUP_CONNECT': {
      const peer = readSockaddrIn(bytes, 12, 0);
      return peer instanceof DecodeError ? peer : { type: name, sock: readU32(bytes, 4), ref: readU32(bytes, 8), peer };
    }
    case 'MMUP_ACCEPT':
      return { type: name, sock: readU32(bytes, 4), conn: readU32(bytes, 8) };
    case 'MMUP_DISCONNECT':
    case 'MMDOWN_DISCONNECT': {
      const reason = readReason(bytes, 8);
      return reason instanceof DecodeError ? reason : { type: name, conn: readU32(bytes, 4), reason };
    }
    case 'MMUP_DETACH':
    case 'MMDOWN_FINAL':
      return { type: name, sock: readU32(bytes, 4) };
    case 'MMUP_ASSOCBAD': {
      const source = readSockaddrMsnl(bytes, 8, 0);
      return source instanceof DecodeError ? source : { type: name, conn: readU32(bytes, 4), source };
    }
    case 'MMDOWN_NEWCONN': {
      const peer = readSockaddrIn(bytes, 12, 0);
      return peer instanceof DecodeError ? peer : { type: name, sock: readU32(bytes, 4), conn: readU32(bytes, 8), peer };
    }
    case 'MMDOWN_HOSTSET':
      return { type: name, address: readU32(bytes, 4) };
    case 'MMDOWN_ASSOCIDLE':
      return { type: name, conn: readU32(bytes, 4) };
    case 'MMDOWN_CONNECTED': {
      const peer = readSockaddrIn(bytes, 16, 0);
      return peer instanceof DecodeError ? peer : { type: name, sock: readU32(bytes, 4), ref: readU32(bytes, 8), conn: readU32(bytes, 12), peer };
    }
    case 'MMDOWN_REFUSED': {
      const reason = readReason(bytes, 12);
      if (reason instanceof DecodeError) return reason;
      const peer = readSockaddrIn(bytes, 16, 0);
      return peer instanceof DecodeError ? peer : { type: name, sock: readU32(bytes, 4), ref: readU32(bytes, 8), reason, peer };
    }
    case 'MMDOWN_ERROR': {
      const request = readU16(bytes, 12);
      if (mmTypeName(request) === undefined) return new DecodeError('value', 12, `MMDOWN_ERROR names unknown request type ${request}`);
      if (readU16(bytes, 14) !== 0) return new DecodeError('padding', 14, 'MMDOWN_ERROR reserved field is not zero');
      const errno = readU32(bytes, 16);
      if (errno === 0) return new DecodeError('value', 16, 'MMDOWN_ERROR errno is zero');
      return { type: name, sock: readU32(bytes, 4), ref: readU32(bytes, 8), request, errno };
    }
  }
}
