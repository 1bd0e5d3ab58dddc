// The secure framing of MSNL (man/msnl.7, SECURE MSNL): the two handshake messages that carry the
// connect request and its answer, the cookie reply, and the sealed frame that carries every MSNL
// frame of a keyed connection after the handshake. Every datagram keeps the 4-octet common header
// (version, type, code = 0). Pure codecs: views and lengths, no crypto.

import { readU32, writeU32 } from '../abi/bytes.js';
import { COOKIE_NONCE_SIZE, SEALED_COOKIE_SIZE } from '../crypto/cookie.js';
import { MESSAGE1_OVERHEAD, MESSAGE2_OVERHEAD } from '../crypto/noise.js';
import { MAC_SIZE, TAG_SIZE } from '../crypto/primitives.js';
import { COMMON_HEADER_SIZE, SIGNAL_SIZE, WIRE_VERSION } from './constants.js';

export const SecureType = {
  HANDSHAKE_INIT: 11,
  HANDSHAKE_RESPONSE: 12,
  COOKIE_REPLY: 13,
  SEALED: 14,
} as const;

/** TAI64N: 8 octets of seconds (+2^62), 4 of nanoseconds; strictly increasing per sender. */
export const TIMESTAMP_SIZE = 12;
/** Noise payload of the initiation: the connect request signal, then the timestamp. */
export const INIT_PAYLOAD_SIZE = SIGNAL_SIZE + TIMESTAMP_SIZE;
/** Initiation: header, sender index, Noise message 1, mac1, mac2 (184 octets). */
export const INIT_SIZE = COMMON_HEADER_SIZE + 4 + MESSAGE1_OVERHEAD + INIT_PAYLOAD_SIZE + 2 * MAC_SIZE;
/** Response: header, sender index, receiver index, Noise message 2 (payload: the answer signal), mac1, mac2 (128). */
export const RESPONSE_SIZE = COMMON_HEADER_SIZE + 8 + MESSAGE2_OVERHEAD + SIGNAL_SIZE + 2 * MAC_SIZE;
/** Cookie reply: header, receiver index, nonce, sealed cookie (64). */
export const COOKIE_REPLY_SIZE = COMMON_HEADER_SIZE + 4 + COOKIE_NONCE_SIZE + SEALED_COOKIE_SIZE;
/** Sealed frame header: common header, receiver index u32, counter u64 (network order). */
export const SEALED_HEADER_SIZE = 16;
/** What sealing adds to an MSNL frame: the header and the AEAD tag. */
export const SEAL_OVERHEAD = SEALED_HEADER_SIZE + TAG_SIZE;

const NOISE1_AT = COMMON_HEADER_SIZE + 4;
const NOISE2_AT = COMMON_HEADER_SIZE + 8;

function header(out: Uint8Array, type: number): void {
  out[0] = WIRE_VERSION;
  out[1] = type;
  out[2] = 0;
  out[3] = 0;
}

/** True when buf[offset, offset + length) has the common header of `type` with code 0. */
function isHeader(buf: Uint8Array, offset: number, length: number, type: number, size: number): boolean {
  return length === size && buf[offset] === WIRE_VERSION && buf[offset + 1] === type && buf[offset + 2] === 0 && buf[offset + 3] === 0;
}

export function encodeInit(sender: number, noise: Uint8Array): Uint8Array {
  const out = new Uint8Array(INIT_SIZE);
  header(out, SecureType.HANDSHAKE_INIT);
  writeU32(out, 4, sender);
  out.set(noise, NOISE1_AT);
  return out; // mac1 and mac2 are filled by the cookie generator
}

export interface InitView {
  readonly sender: number;
  readonly noise: Uint8Array;
}

export function decodeInit(msg: Uint8Array): InitView | null {
  if (!isHeader(msg, 0, msg.length, SecureType.HANDSHAKE_INIT, INIT_SIZE)) return null;
  return { sender: readU32(msg, 4), noise: msg.subarray(NOISE1_AT, INIT_SIZE - 2 * MAC_SIZE) };
}

export function encodeResponse(sender: number, receiver: number, noise: Uint8Array): Uint8Array {
  const out = new Uint8Array(RESPONSE_SIZE);
  header(out, SecureType.HANDSHAKE_RESPONSE);
  writeU32(out, 4, sender);
  writeU32(out, 8, receiver);
  out.set(noise, NOISE2_AT);
  return out;
}

export interface ResponseView {
  readonly sender: number;
  readonly receiver: number;
  readonly noise: Uint8Array;
}

export function decodeResponse(msg: Uint8Array): ResponseView | null {
  if (!isHeader(msg, 0, msg.length, SecureType.HANDSHAKE_RESPONSE, RESPONSE_SIZE)) return null;
  return { sender: readU32(msg, 4), receiver: readU32(msg, 8), noise: msg.subarray(NOISE2_AT, RESPONSE_SIZE - 2 * MAC_SIZE) };
}

export function encodeCookieReply(receiver: number, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  const out = new Uint8Array(COOKIE_REPLY_SIZE);
  header(out, SecureType.COOKIE_REPLY);
  writeU32(out, 4, receiver);
  out.set(nonce, 8);
  out.set(sealed, 8 + COOKIE_NONCE_SIZE);
  return out;
}

export interface CookieReplyView {
  readonly receiver: number;
  readonly nonce: Uint8Array;
  readonly sealed: Uint8Array;
}

export function decodeCookieReply(msg: Uint8Array): CookieReplyView | null {
  if (!isHeader(msg, 0, msg.length, SecureType.COOKIE_REPLY, COOKIE_REPLY_SIZE)) return null;
  return { receiver: readU32(msg, 4), nonce: msg.subarray(8, 8 + COOKIE_NONCE_SIZE), sealed: msg.subarray(8 + COOKIE_NONCE_SIZE) };
}

/** Writes the sealed-frame header at out[at..at + 16). Counters are below 2^53. */
export function writeSealedHeader(out: Uint8Array, at: number, receiver: number, counter: number): void {
  out[at] = WIRE_VERSION;
  out[at + 1] = SecureType.SEALED;
  out[at + 2] = 0;
  out[at + 3] = 0;
  writeU32(out, at + 4, receiver);
  writeU32(out, at + 8, Math.floor(counter / 0x100000000));
  writeU32(out, at + 12, counter >>> 0);
}

/** Mutable fields filled by readSealedHeader (one object reused per receive loop). */
export interface SealedHeader {
  receiver: number;
  counter: number;
}

/**
 * Reads a sealed frame's header from buf[offset, offset + length); false when it is not one (too
 * short to hold a tag and one inner octet, bad version or code, or a counter of 2^53 or more).
 */
export function readSealedHeader(buf: Uint8Array, offset: number, length: number, out: SealedHeader): boolean {
  if (length < SEAL_OVERHEAD + COMMON_HEADER_SIZE) return false;
  if (buf[offset] !== WIRE_VERSION || buf[offset + 1] !== SecureType.SEALED || buf[offset + 2] !== 0 || buf[offset + 3] !== 0) return false;
  const high = readU32(buf, offset + 8);
  if (high >= 0x200000) return false;
  out.receiver = readU32(buf, offset + 4);
  out.counter = high * 0x100000000 + readU32(buf, offset + 12);
  return true;
}

/** TAI64N of a wall-clock time in nanoseconds since the Unix epoch (an integer below 2^53 * 1000). */
export function encodeTimestamp(seconds: number, nanoseconds: number): Uint8Array {
  const out = new Uint8Array(TIMESTAMP_SIZE);
  writeU32(out, 0, 0x40000000 + Math.floor(seconds / 0x100000000));
  writeU32(out, 4, seconds >>> 0);
  writeU32(out, 8, nanoseconds);
  return out;
}
