// IPv4 packets with correct checksums for the offload tests (20-octet IP and TCP headers, no options).

import { internetChecksum } from '../../src/abi/ipv4.js';

/** The TCP/UDP pseudo-header sum (uncomplemented) for a segment of `length` octets. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** An IPv4/TCP packet src:40000 -> dst:5201 (flags default ACK) with correct checksums. */
export function tcpPacket(src: number, dst: number, seq: number, payload: Uint8Array, flags = 0x10): Buffer {
  const p = Buffer.alloc(40 + payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(0x4000, 6);
  p[8] = 64;
  p[9] = 6;
  p.writeUInt32BE(src >>> 0, 12);
  p.writeUInt32BE(dst >>> 0, 16);
  p.writeUInt16BE(internetChecksum(p, 0, 20), 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(5201, 22);
  p.writeUInt32BE(seq >>> 0, 24);
  p.writeUInt32BE(1, 28);
  p[32] = 5 << 4;
  p[33] = flags;
  p.writeUInt16BE(1000, 34);
  p.set(payload, 40);
  p.writeUInt16BE(internetChecksum(p, 20, p.length - 20, pseudoHeaderSum(src, dst, 6, p.length - 20)), 36);
  return p;
}
