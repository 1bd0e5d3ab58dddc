// The kernel's side of an IFF_VNET_HDR device with TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), for
// the fake TUN (fake.ts): what the kernel hands over for a packet the host routed into the device
// (a TCP packet longer than the MTU as a TSO super-packet, TCP and UDP with a partial checksum),
// and what it makes of a frame written into the device (a TCP super-packet is taken whole, as the
// stack sees a GRO'd packet, with its checksum completed; a UDP_L4 one is cut back into its
// datagrams, as the kernel does for a socket without UDP_GRO). Pure.

import { readU16, writeU16 } from '../abi/bytes.js';
import { checkIpv4, internetChecksum, Ipv4Check, onesComplementSum } from '../abi/ipv4.js';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  MAX_IP_PACKET,
  readLe16,
  TCP_CSUM_OFFSET,
  TCP_MIN_HEADER,
  tcpPseudoSum,
  UDP_CSUM_OFFSET,
  VNET_HDR_LEN,
  VnetFlag,
  VnetGso,
  writeVnetHeader,
} from './offload.js';

/** The pseudo-header sum of the transport header at `ip + ihl` (TCP or UDP), unfolded. */
function pseudoSum(buf: Uint8Array, ip: number, protocol: number, length: number): number {
  return tcpPseudoSum(buf, ip, length) - IPPROTO_TCP + protocol;
}

/**
 * The frame (virtio_net_hdr + packet) the kernel hands over for `packet` on a device of this MTU:
 * a TCP packet longer than the MTU becomes a super-packet with gso_size = MTU - headers; TCP and
 * UDP packets whose checksum is right leave it partial (the pseudo-header sum, NEEDS_CSUM), as a
 * locally sent packet does; anything else comes with an all-zero header.
 */
export function kernelFrame(packet: Uint8Array, mtu: number): Buffer {
  const frame = Buffer.alloc(VNET_HDR_LEN + packet.length);
  frame.set(packet, VNET_HDR_LEN);
  const ip = VNET_HDR_LEN;
  const len = packet.length;
  if (checkIpv4(frame, ip, len) !== Ipv4Check.OK || readU16(frame, ip + 2) !== len || (readU16(frame, ip + 6) & 0x3fff) !== 0) return frame;
  const ihl = (frame[ip]! & 0x0f) * 4;
  const protocol = frame[ip + 9]!;
  const transport = len - ihl;
  let field: number;
  if (protocol === IPPROTO_TCP && transport >= TCP_MIN_HEADER) field = TCP_CSUM_OFFSET;
  else if (protocol === IPPROTO_UDP && transport >= 8 && readU16(frame, ip + ihl + UDP_CSUM_OFFSET) !== 0) field = UDP_CSUM_OFFSET;
  else return frame;
  const pseudo = pseudoSum(frame, ip, protocol, transport);
  if (internetChecksum(frame, ip + ihl, transport, pseudo) !== 0) return frame;
  writeU16(frame, ip + ihl + field, onesComplementSum(frame, 0, 0, pseudo));
  const tcpHdrLen = protocol === IPPROTO_TCP ? (frame[ip + ihl + 12]! >>> 4) * 4 : 0;
  if (protocol === IPPROTO_TCP && len > mtu && tcpHdrLen >= TCP_MIN_HEADER && ihl + tcpHdrLen < mtu) {
    writeVnetHeader(frame, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, ihl + tcpHdrLen, mtu - ihl - tcpHdrLen, ihl, field);
  } else {
    writeVnetHeader(frame, 0, VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, ihl, field);
  }
  return frame;
}

/**
 * What the kernel makes of the frame `header` + buf[off, off+len) written into a device of this
 * MTU: the packet as the stack receives it (a copy, checksum completed), or why it refuses it.
 */
export function acceptFrame(header: Uint8Array, buf: Uint8Array, off: number, len: number, mtu: number): Buffer | string {
  if (header.length < VNET_HDR_LEN) return 'short virtio_net_hdr';
  const flags = header[0]!;
  const gso = header[1]! & ~VnetGso.ECN;
  const version = len > 0 ? buf[off]! >> 4 : 0;
  if (version !== 4 && version !== 6) return 'not IP';
  if (gso === VnetGso.NONE && len > mtu) return 'longer than the MTU';
  if (gso !== VnetGso.NONE) {
    if ((gso !== VnetGso.TCPV4 && gso !== VnetGso.UDP_L4) || version !== 4 || (flags & VnetFlag.NEEDS_CSUM) === 0) return 'unsupported GSO';
    const protocol = gso === VnetGso.TCPV4 ? IPPROTO_TCP : IPPROTO_UDP;
    if (len > MAX_IP_PACKET || checkIpv4(buf, off, len) !== Ipv4Check.OK || readU16(buf, off + 2) !== len || buf[off + 9] !== protocol) {
      return 'malformed super-packet';
    }
    if (readLe16(header, 4) === 0) return 'gso_size 0';
  }
  const packet = Buffer.from(buf.subarray(off, off + len));
  if ((flags & VnetFlag.NEEDS_CSUM) !== 0) {
    const start = readLe16(header, 6);
    const field = start + readLe16(header, 8);
    if (start >= len || field + 2 > len) return 'checksum outside the packet';
    writeU16(packet, field, internetChecksum(packet, start, len - start));
  }
  return packet;
}

/**
 * The datagrams the kernel cuts a UDP_L4 super-packet (IPv4, IHL 5, as acceptFrame returned it)
 * into: gso_size octets of payload each (the last may be shorter), identifiers counting up from
 * the super-packet's, lengths and checksums of their own.
 */
export function segmentUdp(packet: Uint8Array, gsoSize: number): Buffer[] {
  const out: Buffer[] = [];
  const id = readU16(packet, 4);
  for (let at = 28, k = 0; at < packet.length; at += gsoSize, k++) {
    const payload = Math.min(gsoSize, packet.length - at);
    const d = Buffer.alloc(28 + payload);
    d.set(packet.subarray(0, 28), 0);
    d.set(packet.subarray(at, at + payload), 28);
    writeU16(d, 2, d.length);
    writeU16(d, 4, (id + k) & 0xffff);
    writeU16(d, 10, 0);
    writeU16(d, 10, internetChecksum(d, 0, 20));
    writeU16(d, 24, 8 + payload);
    writeU16(d, 26, 0);
    const sum = internetChecksum(d, 20, 8 + payload, pseudoSum(d, 0, IPPROTO_UDP, 8 + payload));
    writeU16(d, 26, sum === 0 ? 0xffff : sum);
    out.push(d);
  }
  return out;
}
