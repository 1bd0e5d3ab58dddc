// TCP segmentation and coalescing for TUN devices opened with IFF_VNET_HDR and
// TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), without syscalls: the outbound side turns what one TUN
// read gave (a virtio_net_hdr and an IPv4 packet, possibly a TSO super-packet with a partial
// checksum) into IPv4 packets that fit one underlay datagram, with complete checksums; the
// inbound side merges runs of TCP segments of one flow into one super-packet per TUN write, as
// Linux tcp_gro_receive and wireguard-go's tcpGRO do. Nothing here allocates per packet or throws
// on bad bytes: bad input comes back as an OffloadDrop code for the caller to count.

import { copyOctets, readU16, readU32, writeU16, writeU32 } from '../abi/bytes.js';
import { checkIpv4, internetChecksum, Ipv4Check, onesComplementSum } from './ipv4-packet.js';

/** Size of struct virtio_net_hdr (without num_buffers). */
export const VNET_HDR_LEN = 10;
export const VnetFlag = Object.freeze({ NEEDS_CSUM: 1, DATA_VALID: 2 } as const);
export const VnetGso = Object.freeze({ NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, ECN: 0x80 } as const);
export const OffloadDrop = Object.freeze({ MALFORMED: -1, UNSUPPORTED_GSO: -2, TOO_BIG: -3 } as const);

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_MIN_HEADER = 20;
/** Offset of the checksum in a TCP header, and in a UDP header. */
const TCP_CSUM_OFFSET = 16;
const UDP_CSUM_OFFSET = 6;
const MAX_IP_PACKET = 65535;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_CWR = 0x80;
/** Most segments merged into one super-packet (Linux: MAX_GRO_SKBS / gso_max_segs is larger). */
const MAX_RUN_SEGMENTS = 64;

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

function readLe16(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}

/** Unfolded sum of the TCP pseudo-header (source, destination, protocol 6, TCP length) of the IPv4 packet at `ip`. */
function tcpPseudoSum(buf: Uint8Array, ip: number, tcpLength: number): number {
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
function copyAndSum(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): number {
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

/** Turns what one TUN read gave (vnet header + IPv4 packet) into IPv4 packets of at most `maxPacket` octets with complete checksums. */
export class OutboundSegmenter {
  private readonly headroom: number;
  private readonly scratch: Uint8Array;

  /** headroom: octets the emitted packets built in the scratch buffer keep free in front (for the MSNL header). */
  constructor(headroom: number) {
    this.headroom = Math.max(0, Math.floor(headroom));
    this.scratch = new Uint8Array(this.headroom + MAX_IP_PACKET);
  }

  /**
   * buf[off..off+len) = vnet header + packet. Calls emit(b, o, l) once per resulting IPv4 packet
   * and returns how many, or an OffloadDrop code (nothing emitted). A packet that needs no
   * splitting is emitted in place (its checksum completed there); split segments are built one
   * after the other in one scratch buffer, so emit must consume the bytes before it returns.
   */
  split(buf: Uint8Array, off: number, len: number, maxPacket: number, emit: (b: Uint8Array, o: number, l: number) => void): number {
    if (!(off >= 0 && len >= VNET_HDR_LEN && off + len <= buf.length)) return OffloadDrop.MALFORMED;
    const flags = buf[off]!;
    const gso = buf[off + 1]! & ~VnetGso.ECN;
    const ip = off + VNET_HDR_LEN;
    const ipLen = len - VNET_HDR_LEN;
    if (checkIpv4(buf, ip, ipLen) !== Ipv4Check.OK || readU16(buf, ip + 2) !== ipLen) return OffloadDrop.MALFORMED;
    const ihl = (buf[ip]! & 0x0f) * 4;
    const protocol = buf[ip + 9]!;
    const fragment = (readU16(buf, ip + 6) & 0x3fff) !== 0;
    if (gso === VnetGso.NONE) {
      if (protocol === IPPROTO_TCP && ipLen > maxPacket && !fragment) return this.segment(buf, ip, ipLen, ihl, 0, maxPacket, emit);
      if ((flags & VnetFlag.NEEDS_CSUM) !== 0) {
        const start = readLe16(buf, off + 6);
        const field = start + readLe16(buf, off + 8);
        if (fragment || start < ihl || field + 2 > ipLen) return OffloadDrop.MALFORMED;
        let sum = internetChecksum(buf, ip + start, ipLen - start);
        if (sum === 0 && protocol === IPPROTO_UDP && field === ihl + UDP_CSUM_OFFSET) sum = 0xffff;
        writeU16(buf, ip + field, sum);
      }
      emit(buf, ip, ipLen);
      return 1;
    }
    if (gso !== VnetGso.TCPV4 || protocol !== IPPROTO_TCP || fragment) return OffloadDrop.UNSUPPORTED_GSO;
    const gsoSize = readLe16(buf, off + 4);
    if (gsoSize === 0) return OffloadDrop.MALFORMED;
    return this.segment(buf, ip, ipLen, ihl, gsoSize, maxPacket, emit);
  }

  /** Splits the TCP/IPv4 packet at `ip` into segments of min(gsoSize or any, room) payload octets. */
  private segment(
    buf: Uint8Array,
    ip: number,
    ipLen: number,
    ihl: number,
    gsoSize: number,
    maxPacket: number,
    emit: (b: Uint8Array, o: number, l: number) => void,
  ): number {
    const tcp = ip + ihl;
    if (ihl + TCP_MIN_HEADER > ipLen) return OffloadDrop.MALFORMED;
    const tcpHdrLen = (buf[tcp + 12]! >>> 4) * 4;
    if (tcpHdrLen < TCP_MIN_HEADER || ihl + tcpHdrLen > ipLen) return OffloadDrop.MALFORMED;
    const hdrs = ihl + tcpHdrLen;
    const payload = ipLen - hdrs;
    const room = Math.min(maxPacket, MAX_IP_PACKET) - hdrs;
    if (!(room >= 1)) return OffloadDrop.TOO_BIG;
    const size = gsoSize > 0 && gsoSize < room ? gsoSize : room;
    const pseudo = tcpPseudoSum(buf, ip, 0);
    if (payload <= size) {
      // One segment: finish the checksums in place.
      writeU16(buf, ip + 10, 0);
      writeU16(buf, ip + 10, internetChecksum(buf, ip, ihl));
      writeU16(buf, tcp + TCP_CSUM_OFFSET, 0);
      writeU16(buf, tcp + TCP_CSUM_OFFSET, internetChecksum(buf, tcp, ipLen - ihl, pseudo + ipLen - ihl));
      emit(buf, ip, ipLen);
      return 1;
    }
    const out = this.scratch;
    const at = this.headroom;
    const outTcp = at + ihl;
    const id0 = readU16(buf, ip + 4);
    const seq0 = readU32(buf, tcp + 4);
    const flags0 = buf[tcp + 13]!;
    for (let i = 0; i < hdrs; i++) out[at + i] = buf[ip + i]!;
    let count = 0;
    for (let from = 0; from < payload; from += size, count++) {
      const segLen = payload - from < size ? payload - from : size;
      const last = from + segLen >= payload;
      const total = hdrs + segLen;
      writeU16(out, at + 2, total);
      writeU16(out, at + 4, (id0 + count) & 0xffff);
      writeU16(out, at + 10, 0);
      writeU16(out, at + 10, internetChecksum(out, at, ihl));
      writeU32(out, outTcp + 4, (seq0 + from) >>> 0);
      let segFlags = flags0;
      if (count > 0) segFlags &= ~TCP_CWR;
      if (!last) segFlags &= ~(TCP_FIN | TCP_PSH);
      out[outTcp + 13] = segFlags;
      writeU16(out, outTcp + TCP_CSUM_OFFSET, 0);
      // Copy the payload and sum it in one pass (its words start at an even offset in the TCP header).
      const sum = copyAndSum(buf, tcp + tcpHdrLen + from, out, at + hdrs, segLen);
      const tcpLen = tcpHdrLen + segLen;
      writeU16(out, outTcp + TCP_CSUM_OFFSET, internetChecksum(out, outTcp, tcpHdrLen, sum + pseudo + tcpLen));
      emit(out, at, total);
    }
    return count;
  }
}

/** Coalesces runs of inbound TCP/IPv4 segments of one flow into super-packets for one TUN write each. */
export class InboundCoalescer {
  /** Counters: packets pushed, super-packets written (runs >= 2), segments merged into them, single writes. */
  readonly counters = { pushed: 0, merged: 0, superPackets: 0, singles: 0 };
  private readonly write: (header: Uint8Array, buf: Uint8Array, off: number, len: number) => void;
  private readonly maxPacket: number;
  private readonly run: Uint8Array;
  private readonly header = new Uint8Array(VNET_HDR_LEN);
  private readonly zeroHeader = new Uint8Array(VNET_HDR_LEN);
  /** Octets in the run (IP header + TCP header + payloads); 0 when nothing is pending. */
  private runLen = 0;
  private runSegments = 0;
  private runTcpHdrLen = 0;
  private segSize = 0;
  private nextSeq = 0;

  /** write(header10, buf, off, len): header is a 10-octet vnet header to write in front of buf[off..off+len); both are reused after write returns. */
  constructor(write: (header: Uint8Array, buf: Uint8Array, off: number, len: number) => void, maxPacket = MAX_IP_PACKET) {
    this.write = write;
    this.maxPacket = Math.max(0, Math.min(MAX_IP_PACKET, Math.floor(maxPacket)));
    this.run = new Uint8Array(this.maxPacket);
  }

  get pending(): boolean {
    return this.runLen > 0;
  }

  /**
   * Offers one complete inbound IPv4 packet. Either appends it to the pending run (copying it) or
   * flushes the pending run and then starts a new run or writes the packet at once with an
   * all-zero header. Segments whose IP or TCP checksum is wrong never start or join a run: they are
   * written as they came, for the kernel to drop.
   */
  push(buf: Uint8Array, off: number, len: number): void {
    this.counters.pushed++;
    const tcpHdrLen = this.eligible(buf, off, len);
    if (tcpHdrLen > 0 && this.runLen > 0 && this.joins(buf, off, len, tcpHdrLen)) {
      const hdrs = 20 + tcpHdrLen;
      const payload = len - hdrs;
      const dst = this.run;
      const at = this.runLen;
      // Copy the payload and sum it: a segment with a bad checksum must not be vouched for.
      const sum =
        onesComplementSum(buf, off + 20, tcpHdrLen, tcpPseudoSum(buf, off, len - 20)) + copyAndSum(buf, off + hdrs, dst, at, payload);
      if (internetChecksum(dst, 0, 0, sum) === 0) {
        this.runLen += payload;
        this.runSegments++;
        this.nextSeq = (this.nextSeq + payload) >>> 0;
        const flags = buf[off + 33]!;
        if ((flags & TCP_PSH) !== 0) dst[33] = dst[33]! | TCP_PSH;
        if ((flags & TCP_PSH) !== 0 || payload < this.segSize || this.runSegments >= MAX_RUN_SEGMENTS) this.flush();
        return;
      }
      this.flush();
      this.single(buf, off, len);
      return;
    }
    this.flush();
    // A segment with PSH would close its own run at once, and one whose payload could not follow
    // it (ms3's 64 KiB packets) could have no partner: write those as they came, without a copy.
    if (tcpHdrLen > 0 && (buf[off + 33]! & TCP_PSH) === 0 && 2 * len - 20 - tcpHdrLen <= this.maxPacket) this.start(buf, off, len, tcpHdrLen);
    else this.single(buf, off, len);
  }

  /** Writes the pending run, if any (a run of one is written as it came, all-zero header). */
  flush(): void {
    const len = this.runLen;
    if (len === 0) return;
    this.runLen = 0;
    const run = this.run;
    if (this.runSegments < 2) {
      this.counters.singles++;
      this.write(this.zeroHeader, run, 0, len);
      return;
    }
    writeU16(run, 2, len);
    writeU16(run, 10, 0);
    writeU16(run, 10, internetChecksum(run, 0, 20));
    writeU16(run, 20 + TCP_CSUM_OFFSET, onesComplementSum(run, 0, 0, tcpPseudoSum(run, 0, len - 20)));
    writeVnetHeader(this.header, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 20 + this.runTcpHdrLen, this.segSize, 20, TCP_CSUM_OFFSET);
    this.counters.superPackets++;
    this.counters.merged += this.runSegments;
    this.write(this.header, run, 0, len);
  }

  private single(buf: Uint8Array, off: number, len: number): void {
    this.counters.singles++;
    this.write(this.zeroHeader, buf, off, len);
  }

  /** Starts a run with this packet if its TCP checksum is right, else writes it at once. */
  private start(buf: Uint8Array, off: number, len: number, tcpHdrLen: number): void {
    const run = this.run;
    for (let i = 0; i < 20; i++) run[i] = buf[off + i]!;
    const sum = copyAndSum(buf, off + 20, run, 20, len - 20);
    if (internetChecksum(run, 0, 0, sum + tcpPseudoSum(run, 0, len - 20)) !== 0) {
      this.single(buf, off, len);
      return;
    }
    this.runLen = len;
    this.runSegments = 1;
    this.runTcpHdrLen = tcpHdrLen;
    this.segSize = len - 20 - tcpHdrLen;
    this.nextSeq = (readU32(buf, off + 24) + this.segSize) >>> 0;
  }

  /**
   * The TCP header length when the packet may start or join a run: IPv4, IHL 5, total length ==
   * len, header checksum right (a merged header is recomputed, so it must not hide a bad one), not
   * a fragment, TCP, flags ACK or ACK|PSH, payload > 0. Otherwise 0.
   */
  private eligible(buf: Uint8Array, off: number, len: number): number {
    if (!(off >= 0 && len >= 40 && off + len <= buf.length)) return 0;
    if (buf[off] !== 0x45 || buf[off + 9] !== IPPROTO_TCP || readU16(buf, off + 2) !== len) return 0;
    if ((readU16(buf, off + 6) & 0x3fff) !== 0 || internetChecksum(buf, off, 20) !== 0) return 0;
    const flags = buf[off + 33]!;
    if (flags !== TCP_ACK && flags !== (TCP_ACK | TCP_PSH)) return 0;
    const tcpHdrLen = (buf[off + 32]! >>> 4) * 4;
    if (tcpHdrLen < TCP_MIN_HEADER || 20 + tcpHdrLen >= len) return 0;
    return tcpHdrLen;
  }

  /** May this eligible packet join the pending run (same flow and headers, next seq, fits)? */
  private joins(buf: Uint8Array, off: number, len: number, tcpHdrLen: number): boolean {
    const run = this.run;
    if (tcpHdrLen !== this.runTcpHdrLen) return false;
    const payload = len - 20 - tcpHdrLen;
    if (payload > this.segSize || this.runLen + payload > this.maxPacket) return false;
    if (readU32(buf, off + 24) !== this.nextSeq) return false;
    // TOS, DF, TTL, addresses; then ports, ack, data offset, window, urgent pointer, options.
    if (buf[off + 1] !== run[1] || (buf[off + 6]! & 0x40) !== (run[6]! & 0x40) || buf[off + 8] !== run[8]) return false;
    for (let i = 12; i < 24; i++) if (buf[off + i] !== run[i]) return false;
    for (let i = 28; i < 33; i++) if (buf[off + i] !== run[i]) return false;
    if (buf[off + 34] !== run[34] || buf[off + 35] !== run[35]) return false;
    const end = 20 + tcpHdrLen;
    for (let i = 38; i < end; i++) if (buf[off + i] !== run[i]) return false;
    return true;
  }
}
