// Pure IPv4 helpers over a byte array at an offset, without allocation: field reads for the
// tunnel's packet path (validation and the Internet checksum are in src/abi/ipv4.ts), and
// builders for the ICMP destination-unreachable errors the tunnel returns when a call fails (no
// mapping, no route, refused) and for echo replies (used by TUN tests). Builders write into a caller buffer and
// return the length written, or 0 when they must not (or cannot) build the packet.

import { readU16, readU32, writeU16, writeU32 } from '../abi/bytes.js';
import { MmReason } from '../abi/constants.js';
import { checkIpv4, internetChecksum, Ipv4Check, IPV4_MIN_HEADER } from '../abi/ipv4.js';

export const ICMP_HEADER = 8;
export const IPPROTO_ICMP = 1;
/** TTL of the packets built here. */
export const BUILT_TTL = 64;

export const IcmpType = Object.freeze({ ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8 } as const);

/** Destination-unreachable codes the tunnel uses (RFC 792, RFC 1812). */
export const IcmpUnreachCode = Object.freeze({
  NET: 0,
  HOST: 1,
  ADMIN_PROHIBITED: 13,
} as const);

/**
 * The unreachable code the tunnel returns for a refused call (MMDOWN_REFUSED reason, ms(4)):
 * no mapping -> net unreachable; refused, ipa mismatch or no service -> administratively
 * prohibited; anything else (no route, timeout, shutdown, ...) -> host unreachable.
 */
export function unreachCodeForReason(reason: number): number {
  switch (reason) {
    case MmReason.NO_MAPPING:
      return IcmpUnreachCode.NET;
    case MmReason.REFUSED_BY_PEER:
    case MmReason.IPA_MISMATCH:
    case MmReason.NO_SERVICE:
      return IcmpUnreachCode.ADMIN_PROHIBITED;
    default:
      return IcmpUnreachCode.HOST;
  }
}

/** Header length in octets (IHL * 4). */
export function ipv4HeaderLength(buf: Uint8Array, offset: number): number {
  return (buf[offset]! & 0x0f) * 4;
}

export function ipv4TotalLength(buf: Uint8Array, offset: number): number {
  return readU16(buf, offset + 2);
}

export function ipv4Protocol(buf: Uint8Array, offset: number): number {
  return buf[offset + 9]!;
}

export function ipv4Ttl(buf: Uint8Array, offset: number): number {
  return buf[offset + 8]!;
}

/** Source address as an unsigned 32-bit number. */
export function ipv4Source(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset + 12);
}

/** Destination address as an unsigned 32-bit number. */
export function ipv4Destination(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset + 16);
}

/** Fragment offset in 8-octet units (0 for unfragmented packets and first fragments). */
export function ipv4FragmentOffset(buf: Uint8Array, offset: number): number {
  return readU16(buf, offset + 6) & 0x1fff;
}

/** True when the More Fragments flag is set. */
export function ipv4MoreFragments(buf: Uint8Array, offset: number): boolean {
  return (buf[offset + 6]! & 0x20) !== 0;
}

/** True when the header checksum of the IPv4 header at `offset` is correct. */
export function ipv4HeaderChecksumOk(buf: Uint8Array, offset: number): boolean {
  return internetChecksum(buf, offset, ipv4HeaderLength(buf, offset)) === 0;
}

function isUnicast(address: number): boolean {
  const top = address >>> 24;
  return address !== 0 && top !== 0 && top !== 127 && top < 224;
}

/**
 * RFC 1122 3.2.2 / RFC 1812 4.3.2.7: may an ICMP error be sent about this packet? Not about an
 * ICMP error, a non-first fragment, or a packet from or to a non-unicast address (0/8, 127/8,
 * multicast, class E, broadcast). The packet must pass checkIpv4.
 */
export function icmpErrorAllowed(buf: Uint8Array, offset: number, length: number): boolean {
  if (checkIpv4(buf, offset, length) !== Ipv4Check.OK) return false;
  if (ipv4FragmentOffset(buf, offset) !== 0) return false;
  if (!isUnicast(ipv4Source(buf, offset)) || !isUnicast(ipv4Destination(buf, offset))) return false;
  if (ipv4Protocol(buf, offset) === IPPROTO_ICMP) {
    const headerLength = ipv4HeaderLength(buf, offset);
    if (ipv4TotalLength(buf, offset) <= headerLength) return false;
    const type = buf[offset + headerLength]!;
    // Only queries (echo, timestamp, information, address mask) may draw an error.
    if (type !== 0 && type !== 8 && type !== 13 && type !== 14 && type !== 15 && type !== 16 && type !== 17 && type !== 18) return false;
  }
  return true;
}

function writeIpv4Header(out: Uint8Array, at: number, total: number, source: number, destination: number): void {
  out[at] = 0x45;
  out[at + 1] = 0;
  writeU16(out, at + 2, total);
  writeU32(out, at + 4, 0); // identification 0, no flags, offset 0
  out[at + 8] = BUILT_TTL;
  out[at + 9] = IPPROTO_ICMP;
  writeU16(out, at + 10, 0);
  writeU32(out, at + 12, source);
  writeU32(out, at + 16, destination);
  writeU16(out, at + 10, internetChecksum(out, at, IPV4_MIN_HEADER));
}

/**
 * Builds an ICMP destination unreachable (type 3, `code`) about the packet at `offset`, from
 * `source` to the packet's source, quoting its IP header and the first 8 octets of its payload.
 * Writes at `outOffset` of `out` (which must not overlap the packet) and returns the length, or 0
 * when icmpErrorAllowed says no or `out` has no room.
 */
export function buildIcmpUnreachable(
  out: Uint8Array,
  outOffset: number,
  packet: Uint8Array,
  offset: number,
  length: number,
  code: number,
  source: number,
): number {
  if (!icmpErrorAllowed(packet, offset, length)) return 0;
  const quoted = Math.min(ipv4HeaderLength(packet, offset) + 8, ipv4TotalLength(packet, offset));
  const total = IPV4_MIN_HEADER + ICMP_HEADER + quoted;
  if (outOffset < 0 || outOffset + total > out.length) return 0;
  writeIpv4Header(out, outOffset, total, source >>> 0, ipv4Source(packet, offset));
  const icmp = outOffset + IPV4_MIN_HEADER;
  out[icmp] = IcmpType.DEST_UNREACHABLE;
  out[icmp + 1] = code & 0xff;
  writeU16(out, icmp + 2, 0);
  writeU32(out, icmp + 4, 0);
  for (let i = 0; i < quoted; i++) out[icmp + ICMP_HEADER + i] = packet[offset + i]!;
  writeU16(out, icmp + 2, internetChecksum(out, icmp, ICMP_HEADER + quoted));
  return total;
}

/**
 * Builds the echo reply to the echo request at `offset`: same header length, identifier,
 * sequence and data, addresses swapped, TTL 64. `out` may be the request's own buffer at the same
 * offset (in-place reply). Returns the length, or 0 when the packet is not a whole, valid ICMP
 * echo request with a correct ICMP checksum, or `out` has no room.
 */
export function buildIcmpEchoReply(out: Uint8Array, outOffset: number, packet: Uint8Array, offset: number, length: number): number {
  if (checkIpv4(packet, offset, length) !== Ipv4Check.OK) return 0;
  if (ipv4Protocol(packet, offset) !== IPPROTO_ICMP) return 0;
  if (ipv4FragmentOffset(packet, offset) !== 0 || ipv4MoreFragments(packet, offset)) return 0;
  const headerLength = ipv4HeaderLength(packet, offset);
  const total = ipv4TotalLength(packet, offset);
  const icmpLength = total - headerLength;
  if (icmpLength < ICMP_HEADER) return 0;
  const icmpAt = offset + headerLength;
  if (packet[icmpAt] !== IcmpType.ECHO_REQUEST || packet[icmpAt + 1] !== 0) return 0;
  if (internetChecksum(packet, icmpAt, icmpLength) !== 0) return 0;
  if (outOffset < 0 || outOffset + total > out.length) return 0;
  const source = ipv4Source(packet, offset);
  const destination = ipv4Destination(packet, offset);
  if (out !== packet || outOffset !== offset) {
    if (out === packet && outOffset > offset) for (let i = total - 1; i >= 0; i--) out[outOffset + i] = packet[offset + i]!;
    else for (let i = 0; i < total; i++) out[outOffset + i] = packet[offset + i]!;
  }
  out[outOffset + 8] = BUILT_TTL;
  writeU32(out, outOffset + 12, destination);
  writeU32(out, outOffset + 16, source);
  writeU16(out, outOffset + 10, 0);
  writeU16(out, outOffset + 10, internetChecksum(out, outOffset, headerLength));
  const icmp = outOffset + headerLength;
  out[icmp] = IcmpType.ECHO_REPLY;
  writeU16(out, icmp + 2, 0);
  writeU16(out, icmp + 2, internetChecksum(out, icmp, icmpLength));
  return total;
}
