// The pure core of TUN offload (IFF_VNET_HDR with TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)), as
// wireguard-go keeps it in tun/offload_linux.go: the virtio_net_hdr, the checksum helpers, and
// GsoSplitter, which turns what one read gave (a virtio_net_hdr and an IPv4 packet, possibly a
// TSO super-packet with a partial checksum) into plain IPv4 packets of at most a given size with
// complete checksums, one at a time into the caller's buffers. Its counterpart, which joins runs
// of one TCP flow into one super-packet per write, is offload-coalesce.ts; offload-framing.ts
// puts both behind a TunDevice. No syscalls; nothing allocates per packet or throws on bad
// bytes: bad input comes back as an OffloadDrop code for the caller to count.

import { copyOctets, readU16, readU32, writeU16, writeU32 } from '../abi/bytes.js';
import { checkIpv4, internetChecksum, Ipv4Check } from '../abi/ipv4.js';

/** Size of struct virtio_net_hdr (without num_buffers). */
export const VNET_HDR_LEN = 10;
export const VnetFlag = Object.freeze({ NEEDS_CSUM: 1, DATA_VALID: 2 } as const);
export const VnetGso = Object.freeze({ NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, UDP_L4: 5, ECN: 0x80 } as const);
export const OffloadDrop = Object.freeze({ MALFORMED: -1, UNSUPPORTED_GSO: -2, TOO_BIG: -3 } as const);

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const TCP_MIN_HEADER = 20;
/** Offset of the checksum in a TCP header, and in a UDP header. */
export const TCP_CSUM_OFFSET = 16;
export const UDP_CSUM_OFFSET = 6;
export const MAX_IP_PACKET = 65535;
const TCP_FIN = 0x01;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
const TCP_CWR = 0x80;

/** Writes a virtio_net_hdr (host order: little-endian here) at buf[off..off+10). */
export function writeVnetHeader(
  buf: Uint8Array,
  off: number,
  flags: number,
  gsoType: number,
  hdrLen: number,
  gsoSize: number,
  csumStart: number,
  csumOffset: number,
): void {
  buf[off] = flags & 0xff;
  buf[off + 1] = gsoType & 0xff;
  buf[off + 2] = hdrLen & 0xff;
  buf[off + 3] = (hdrLen >>> 8) & 0xff;
  buf[off + 4] = gsoSize & 0xff;
  buf[off + 5] = (gsoSize >>> 8) & 0xff;
  buf[off + 6] = csumStart & 0xff;
  buf[off + 7] = (csumStart >>> 8) & 0xff;
  buf[off + 8] = csumOffset & 0xff;
  buf[off + 9] = (csumOffset >>> 8) & 0xff;
}

export function readLe16(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}

/** Unfolded sum of the TCP pseudo-header (source, destination, protocol 6, TCP length) of the IPv4 packet at `ip`. */
export function tcpPseudoSum(buf: Uint8Array, ip: number, tcpLength: number): number {
  return (
    readU16(buf, ip + 12) + readU16(buf, ip + 14) + readU16(buf, ip + 16) + readU16(buf, ip + 18) + IPPROTO_TCP + tcpLength
  );
}

/** 32-bit views of the packet buffers seen so far, one per ArrayBuffer (a fixed set: no growth). */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

function wordsOf(bytes: Uint8Array): Uint32Array {
  const buffer = bytes.buffer;
  let view = wordViews.get(buffer);
  if (view === undefined) {
    view = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordViews.set(buffer, view);
  }
  return view;
}

/** Whether this host stores the low-order octet first (the 32-bit path assumes so). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies src[from..from+len) to dst[to..) and returns the unfolded ones' complement sum of the
 * copied octets as 16-bit big-endian words (an odd last octet padded with zero). When the
 * destination is 4-aligned in its ArrayBuffer (the packet path's scratch and run buffers are at
 * the offsets it uses) the copy is a native memcpy and the sum runs over 32-bit words of the
 * copy: on a little-endian host their halves are the byte-swapped 16-bit words, and the ones'
 * complement sum commutes with the swap (RFC 1071), so the folded sum is swapped back.
 */
export function copyAndSum(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): number {
  const d = dst.byteOffset + to;
  let i = 0;
  let sum = 0;
  if (LITTLE_ENDIAN && (d & 3) === 0 && len >= 64) {
    copyOctets(src, from, dst, to, len);
    const dw = wordsOf(dst);
    let lo = 0;
    let hi = 0;
    const words = len >>> 2;
    for (let b = d >>> 2, end = b + words; b < end; b++) {
      const w = dw[b]!;
      lo += w & 0xffff;
      hi += w >>> 16;
    }
    let swapped = lo + hi;
    while (swapped > 0xffff) swapped = (swapped & 0xffff) + Math.floor(swapped / 0x10000);
    sum = ((swapped & 0xff) << 8) | (swapped >>> 8);
    i = words << 2;
  }
  let high = 0;
  let low = 0;
  const quads = i + ((len - i) & ~3);
  for (; i < quads; i += 4) {
    const a = src[from + i]!;
    const b = src[from + i + 1]!;
    const c = src[from + i + 2]!;
    const e = src[from + i + 3]!;
    dst[to + i] = a;
    dst[to + i + 1] = b;
    dst[to + i + 2] = c;
    dst[to + i + 3] = e;
    high += a + c;
    low += b + e;
  }
  for (; i < len; i++) {
    const a = src[from + i]!;
    dst[to + i] = a;
    if ((i & 1) === 0) high += a;
    else low += a;
  }
  return sum + high * 256 + low;
}


const NO_FRAME = new Uint8Array(0);
/** Below this many octets a JS loop copies faster than a call into Buffer's native copy. */
const SMALL_COPY = 256;

/**
 * Cuts what one TUN read gave (vnet header + IPv4 packet) into plain IPv4 packets with complete
 * checksums, handed out one at a time into the caller's buffers: load() a frame, then next()
 * until it returns 0 (or load the next frame: whatever was left of this one is dropped). The
 * frame's octets must stay unchanged until then: they are read in place, and a packet that is
 * handed out whole has its checksum completed where it lies.
 */
export class GsoSplitter {
  private src: Uint8Array = NO_FRAME;
  /** Packets load() announced that next() has not handed out yet. */
  private left = 0;
  /** The frame is one packet, copied out whole (its checksum already complete). */
  private whole = false;
  private ip = 0;
  private ipLen = 0;
  private ihl = 0;
  private tcpHdrLen = 0;
  private hdrs = 0;
  private payload = 0;
  /** Payload octets per segment. */
  private size = 0;
  private pseudo = 0;
  private id0 = 0;
  private seq0 = 0;
  private flags0 = 0;
  /** Payload octets handed out so far, and segments. */
  private from = 0;
  private count = 0;

  /** Whether next() has packets left of the frame last loaded. */
  get pending(): boolean {
    return this.left > 0;
  }

  /** Forgets what is left of the frame last loaded. */
  clear(): void {
    this.left = 0;
  }

  /**
   * Takes the frame buf[off, off+len) = vnet header + IPv4 packet. A TCP super-packet (GSO)
   * becomes segments of at most min(segmentLimit, room) octets; a plain packet comes out whole,
   * unless it is longer than `room` (what one caller buffer holds): then a TCP packet is cut to
   * fit, and anything else is TOO_BIG. Returns how many packets next() will hand out, or an
   * OffloadDrop code (then none).
   */
  load(buf: Uint8Array, off: number, len: number, segmentLimit: number, room: number): number {
    this.left = 0;
    if (!(off >= 0 && len >= VNET_HDR_LEN && off + len <= buf.length)) return OffloadDrop.MALFORMED;
    const flags = buf[off]!;
    const gso = buf[off + 1]! & ~VnetGso.ECN;
    const ip = off + VNET_HDR_LEN;
    const ipLen = len - VNET_HDR_LEN;
    if (checkIpv4(buf, ip, ipLen) !== Ipv4Check.OK || readU16(buf, ip + 2) !== ipLen) return OffloadDrop.MALFORMED;
    const ihl = (buf[ip]! & 0x0f) * 4;
    const protocol = buf[ip + 9]!;
    const fragment = (readU16(buf, ip + 6) & 0x3fff) !== 0;
    this.src = buf;
    this.ip = ip;
    this.ipLen = ipLen;
    this.ihl = ihl;
    if (gso === VnetGso.NONE) {
      if (protocol === IPPROTO_TCP && ipLen > room && !fragment) return this.segments(0, room);
      if (ipLen > room) return OffloadDrop.TOO_BIG;
      if ((flags & VnetFlag.NEEDS_CSUM) !== 0) {
        const start = readLe16(buf, off + 6);
        const field = start + readLe16(buf, off + 8);
        if (fragment || start < ihl || field + 2 > ipLen) return OffloadDrop.MALFORMED;
        let sum = internetChecksum(buf, ip + start, ipLen - start);
        if (sum === 0 && protocol === IPPROTO_UDP && field === ihl + UDP_CSUM_OFFSET) sum = 0xffff;
        writeU16(buf, ip + field, sum);
      }
      this.whole = true;
      this.left = 1;
      return 1;
    }
    if (gso !== VnetGso.TCPV4 || protocol !== IPPROTO_TCP || fragment) return OffloadDrop.UNSUPPORTED_GSO;
    const gsoSize = readLe16(buf, off + 4);
    if (gsoSize === 0) return OffloadDrop.MALFORMED;
    return this.segments(gsoSize, segmentLimit < room ? segmentLimit : room);
  }

  /** Prepares cutting the loaded TCP/IPv4 packet into segments of min(gsoSize or any, room) payload octets. */
  private segments(gsoSize: number, maxPacket: number): number {
    const { src, ip, ipLen, ihl } = this;
    const tcp = ip + ihl;
    if (ihl + TCP_MIN_HEADER > ipLen) return OffloadDrop.MALFORMED;
    const tcpHdrLen = (src[tcp + 12]! >>> 4) * 4;
    if (tcpHdrLen < TCP_MIN_HEADER || ihl + tcpHdrLen > ipLen) return OffloadDrop.MALFORMED;
    const hdrs = ihl + tcpHdrLen;
    const room = Math.min(maxPacket, MAX_IP_PACKET) - hdrs;
    if (!(room >= 1)) return OffloadDrop.TOO_BIG;
    const payload = ipLen - hdrs;
    const size = gsoSize > 0 && gsoSize < room ? gsoSize : room;
    this.whole = false;
    this.tcpHdrLen = tcpHdrLen;
    this.hdrs = hdrs;
    this.payload = payload;
    this.size = size;
    this.pseudo = tcpPseudoSum(src, ip, 0);
    this.id0 = readU16(src, ip + 4);
    this.seq0 = readU32(src, tcp + 4);
    this.flags0 = src[tcp + 13]!;
    this.from = 0;
    this.count = 0;
    this.left = payload <= size ? 1 : Math.ceil(payload / size);
    return this.left;
  }

  /** Writes the next packet into dst at `at` and returns its length; 0 when none is left. */
  next(dst: Uint8Array, at: number): number {
    if (this.left === 0) return 0;
    this.left--;
    const src = this.src;
    if (this.whole) {
      const { ip, ipLen } = this;
      if (ipLen < SMALL_COPY) for (let i = 0; i < ipLen; i++) dst[at + i] = src[ip + i]!;
      else copyOctets(src, ip, dst, at, ipLen);
      return ipLen;
    }
    const { ip, ihl, hdrs, tcpHdrLen, from, count } = this;
    const segLen = this.payload - from < this.size ? this.payload - from : this.size;
    const total = hdrs + segLen;
    const tcp = at + ihl;
    for (let i = 0; i < hdrs; i++) dst[at + i] = src[ip + i]!;
    writeU16(dst, at + 2, total);
    writeU16(dst, at + 4, (this.id0 + count) & 0xffff);
    writeU16(dst, at + 10, 0);
    writeU16(dst, at + 10, internetChecksum(dst, at, ihl));
    writeU32(dst, tcp + 4, (this.seq0 + from) >>> 0);
    let flags = this.flags0;
    if (count > 0) flags &= ~TCP_CWR;
    if (this.left > 0) flags &= ~(TCP_FIN | TCP_PSH);
    dst[tcp + 13] = flags;
    writeU16(dst, tcp + TCP_CSUM_OFFSET, 0);
    // Copy the payload and sum it in one pass (its words start at an even offset in the TCP header).
    const sum = copyAndSum(src, ip + hdrs + from, dst, at + hdrs, segLen);
    writeU16(dst, tcp + TCP_CSUM_OFFSET, internetChecksum(dst, tcp, tcpHdrLen, sum + this.pseudo + tcpHdrLen + segLen));
    this.from = from + segLen;
    this.count = count + 1;
    return total;
  }
}
