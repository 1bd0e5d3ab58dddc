// IPv4 on the wire, shared by the tunnel (src/tunnel) and the TUN offload (src/tun): header
// validation and the Internet checksum, over a byte array at an offset, without allocation.

import { readU16 } from './bytes.js';

export const IPV4_MIN_HEADER = 20;

/** Results of checkIpv4: 0 is OK, anything else names the first problem found. */
export const Ipv4Check = Object.freeze({
  OK: 0,
  /** Fewer than 20 octets. */
  TOO_SHORT: 1,
  /** The version nibble is not 4. */
  VERSION: 2,
  /** IHL below 5, or the header is longer than the octets given. */
  HEADER_LENGTH: 3,
  /** Total length below the header length or beyond the octets given. */
  TOTAL_LENGTH: 4,
} as const);

/**
 * Validates the IPv4 header at `offset` given `length` octets there. Octets after the header's
 * total length are allowed (and ignored by the readers below). Returns an Ipv4Check code.
 */
export function checkIpv4(buf: Uint8Array, offset: number, length: number): number {
  if (offset < 0 || length < IPV4_MIN_HEADER || offset + length > buf.length) return Ipv4Check.TOO_SHORT;
  const first = buf[offset]!;
  if (first >>> 4 !== 4) return Ipv4Check.VERSION;
  const headerLength = (first & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER || headerLength > length) return Ipv4Check.HEADER_LENGTH;
  const total = readU16(buf, offset + 2);
  if (total < headerLength || total > length) return Ipv4Check.TOTAL_LENGTH;
  return Ipv4Check.OK;
}

/**
 * The Internet checksum (RFC 1071) of `length` octets at `offset`: the ones' complement of the
 * ones' complement sum of 16-bit big-endian words, an odd last octet padded with zero. `initial`
 * adds a partial sum (a pseudo-header). A region that holds a correct checksum sums to 0.
 */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~onesComplementSum(buf, offset, length, initial) & 0xffff;
}

/**
 * The folded, NOT complemented, ones' complement sum behind internetChecksum: a partial sum to
 * pass on as `initial`, or to store as-is where a checksum is left for someone else to finish
 * (a pseudo-header sum in a TCP header marked NEEDS_CSUM). `initial` may be any non-negative sum.
 */
export function onesComplementSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length - 1;
  let i = offset;
  for (; i < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i === end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}
