// Byte-exact codecs for the two 16-octet socket addresses of the msnl ABI (DESIGN.md section 3,
// ms(4)). All fields are in network order, the family fields included.
//
// struct sockaddr_in, as the tunnel code uses it:
//   0  u16 sin_family  AF_INET (2)
//   2  u16 sin_port    0
//   4  u32 sin_addr    IPv4 address
//   8  u32 sin_zero[0..3] = sa_data[6..9]: MSNL port of the interface's MTU service
//  12  u32 sin_zero[4..7]: 0
//
// struct sockaddr_msnl:
//   0  u16 sms_family  AF_MSNL (0x4d53)
//   2  u16 sms_flags   0
//   4  u32 sms_addr    MSNL address (0 on bind: this host's default address)
//   8  u32 sms_port    MSNL port
//  12  u32 ms_ipa      IPv4 address of the interface (or of the caller)

import {
  AF_INET,
  AF_MSNL,
  SIN_ADDR,
  SIN_FAMILY,
  SIN_MSNL_PORT,
  SIN_PORT,
  SIN_ZERO_TAIL,
  SMS_ADDR,
  SMS_FAMILY,
  SMS_FLAGS,
  SMS_IPA,
  SMS_PORT,
  SOCKADDR_SIZE,
} from './constants.js';
import { checkU32, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { DecodeError } from './decode-error.js';

/** An AF_INET address as the tunnel code passes it: IP peer plus the MTU service's MSNL port. */
export interface SockaddrIn {
  readonly family: typeof AF_INET;
  /** IPv4 address, unsigned 32-bit, host order in JS (network order on the wire). */
  readonly addr: number;
  /** MSNL port of the MTU service, from `sa_data[6..9]`. */
  readonly msnlPort: number;
}

/** An AF_MSNL address: MSNL SAP (address + port) plus the IPv4 address `ms_ipa`. */
export interface SockaddrMsnl {
  readonly family: typeof AF_MSNL;
  /** MSNL address; 0 on bind means this host's default MSNL address. */
  readonly addr: number;
  /** MSNL port. */
  readonly port: number;
  /** IPv4 address of the interface (bind) or of the caller (ASSOCBAD). */
  readonly ipa: number;
}

export function sockaddrIn(addr: number, msnlPort: number): SockaddrIn {
  return { family: AF_INET, addr, msnlPort };
}

export function sockaddrMsnl(addr: number, port: number, ipa: number): SockaddrMsnl {
  return { family: AF_MSNL, addr, port, ipa };
}

function checkRoom(buf: Uint8Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + SOCKADDR_SIZE > buf.length) {
    throw new RangeError(`a sockaddr needs ${SOCKADDR_SIZE} octets at offset ${offset} of a ${buf.length}-octet buffer`);
  }
}

/** Writes `sa` at `offset` of `buf`; returns 16. Throws RangeError on our own bad values or no room. */
export function encodeSockaddrIn(sa: SockaddrIn, buf: Uint8Array, offset = 0): number {
  checkRoom(buf, offset);
  checkU32(sa.addr, 'sin_addr');
  checkU32(sa.msnlPort, 'sa_data[6..9] (MSNL port)');
  writeU16(buf, offset + SIN_FAMILY, AF_INET);
  writeU16(buf, offset + SIN_PORT, 0);
  writeU32(buf, offset + SIN_ADDR, sa.addr);
  writeU32(buf, offset + SIN_MSNL_PORT, sa.msnlPort);
  writeU32(buf, offset + SIN_ZERO_TAIL, 0);
  return SOCKADDR_SIZE;
}

/** Writes `sa` at `offset` of `buf`; returns 16. Throws RangeError on our own bad values or no room. */
export function encodeSockaddrMsnl(sa: SockaddrMsnl, buf: Uint8Array, offset = 0): number {
  checkRoom(buf, offset);
  checkU32(sa.addr, 'sms_addr');
  checkU32(sa.port, 'sms_port');
  checkU32(sa.ipa, 'ms_ipa');
  writeU16(buf, offset + SMS_FAMILY, AF_MSNL);
  writeU16(buf, offset + SMS_FLAGS, 0);
  writeU32(buf, offset + SMS_ADDR, sa.addr);
  writeU32(buf, offset + SMS_PORT, sa.port);
  writeU32(buf, offset + SMS_IPA, sa.ipa);
  return SOCKADDR_SIZE;
}

/**
 * Reads a sockaddr_in from the 16 octets at `offset` (the caller has checked they exist).
 * Error offsets are relative to `base`, the start of the caller's whole input.
 */
export function readSockaddrIn(bytes: Uint8Array, offset: number, base = offset): SockaddrIn | DecodeError {
  const family = readU16(bytes, offset + SIN_FAMILY);
  if (family !== AF_INET) return new DecodeError('family', offset - base + SIN_FAMILY, `sockaddr_in family is ${family}, not AF_INET (${AF_INET})`);
  if (readU16(bytes, offset + SIN_PORT) !== 0) return new DecodeError('padding', offset - base + SIN_PORT, 'sin_port is not zero');
  if (readU32(bytes, offset + SIN_ZERO_TAIL) !== 0) return new DecodeError('padding', offset - base + SIN_ZERO_TAIL, 'sin_zero[4..7] is not zero');
  return { family: AF_INET, addr: readU32(bytes, offset + SIN_ADDR), msnlPort: readU32(bytes, offset + SIN_MSNL_PORT) };
}

/** Reads a sockaddr_msnl from the 16 octets at `offset` (the caller has checked they exist). */
export function readSockaddrMsnl(bytes: Uint8Array, offset: number, base = offset): SockaddrMsnl | DecodeError {
  const family = readU16(bytes, offset + SMS_FAMILY);
  if (family !== AF_MSNL) return new DecodeError('family', offset - base + SMS_FAMILY, `sockaddr_msnl family is ${family}, not AF_MSNL (${AF_MSNL})`);
  if (readU16(bytes, offset + SMS_FLAGS) !== 0) return new DecodeError('flags', offset - base + SMS_FLAGS, 'sockaddr_msnl flags are not zero');
  return {
    family: AF_MSNL,
    addr: readU32(bytes, offset + SMS_ADDR),
    port: readU32(bytes, offset + SMS_PORT),
    ipa: readU32(bytes, offset + SMS_IPA),
  };
}

/** Decodes exactly 16 octets as a sockaddr_in. */
export function decodeSockaddrIn(bytes: Uint8Array): SockaddrIn | DecodeError {
  if (bytes.length !== SOCKADDR_SIZE) return new DecodeError('length', 0, `sockaddr_in is ${SOCKADDR_SIZE} octets, got ${bytes.length}`);
  return readSockaddrIn(bytes, 0);
}

/** Decodes exactly 16 octets as a sockaddr_msnl. */
export function decodeSockaddrMsnl(bytes: Uint8Array): SockaddrMsnl | DecodeError {
  if (bytes.length !== SOCKADDR_SIZE) return new DecodeError('length', 0, `sockaddr_msnl is ${SOCKADDR_SIZE} octets, got ${bytes.length}`);
  return readSockaddrMsnl(bytes, 0);
}
