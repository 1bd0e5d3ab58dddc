// The write side of TUN offload: GroCoalescer merges runs of TCP/IPv4 segments of one flow into
// one super-packet per write (with a virtio_net_hdr announcing TCPV4 GSO and a partial checksum),
// as Linux tcp_gro_receive and wireguard-go's tcpGRO do, and runs of same-size UDP/IPv4 datagrams
// of one flow with consecutive IP identifiers into one UDP_L4 super-packet (as udp_gro_receive and
// wireguard-go's udpGRO do; the kernel cuts it back into exactly those datagrams, so one write
// carries up to 64 small datagrams instead of one; only where the kernel takes UDP_L4, 6.2+).
// Anything else is written as it came with an
// all-zero header. Pure: the write is a callback; nothing allocates per packet.
//
// A packet pushed as `valid` (it came authenticated by a keyed connection's AEAD, so its octets
// are exactly those the peer's msnld read from its TUN, checksums filled by the sender) is not
// summed here: it joins runs on its headers alone, and is written alone with DATA_VALID (which
// Linux's tun, 6.18 at least, ignores on write: it then checks it as any other packet).

import { copyOctets, readU16, readU32, writeU16 } from '../abi/bytes.js';
import { internetChecksum, onesComplementSum } from '../abi/ipv4.js';
import {
  copyAndSum,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MAX_IP_PACKET,
  TCP_ACK,
  TCP_CSUM_OFFSET,
  TCP_MIN_HEADER,
  TCP_PSH,
  tcpPseudoSum,
  UDP_CSUM_OFFSET,
  VNET_HDR_LEN,
  VnetFlag,
  VnetGso,
  writeVnetHeader,
} from './offload.js';

/** Most segments merged into one super-packet (Linux: MAX_GRO_SKBS / gso_max_segs is larger). */
const MAX_RUN_SEGMENTS = 64;

/** Writes header (10 octets) then buf[off, off+len) into the device; false when it was refused. */
export type VnetWrite = (header: Uint8Array, buf: Uint8Array, off: number, len: number) => boolean;

/** Coalesces runs of TCP/IPv4 segments of one flow into super-packets for one TUN write each. */
export class GroCoalescer {
  /**
   * Counters: packets pushed, super-packets written (runs >= 2), segments merged into them,
   * single writes, and pending runs the device refused (after push() had taken their packets).
   */
  readonly counters = { pushed: 0, merged: 0, superPackets: 0, singles: 0, runsRefused: 0 };
  private readonly write: VnetWrite;
  private readonly maxPacket: number;
  private readonly run: Uint8Array;
  private readonly header = new Uint8Array(VNET_HDR_LEN);
  private readonly zeroHeader = new Uint8Array(VNET_HDR_LEN);
  /** The header of a packet written alone whose checksums need no verifying. */
  private readonly validHeader = new Uint8Array(VNET_HDR_LEN);
  /** Whether the pending run's first packet came `valid` (a run of one is written with validHeader). */
  private runValid = false;
  /** Octets in the run (IP header + TCP header + payloads); 0 when nothing is pending. */
  private runLen = 0;
  private runSegments = 0;
  private runTcpHdrLen = 0;
  private segSize = 0;
  private nextSeq = 0;
  /** What the pending run holds: TCP segments or UDP datagrams. */
  private runUdp = false;
  /** The IP identifier the next datagram of a UDP run must carry. */
  private nextId = 0;

  /** Whether UDP runs are joined (the device takes UDP_L4 super-packets: Linux 6.2+). */
  private readonly udp: boolean;

  /** write(header10, buf, off, len): header is a 10-octet vnet header to write in front of buf[off..off+len); both are reused after write returns. */
  constructor(write: VnetWrite, maxPacket = MAX_IP_PACKET, udp = true) {
    this.write = write;
    this.udp = udp;
    this.maxPacket = Math.max(0, Math.min(MAX_IP_PACKET, Math.floor(maxPacket)));
    this.run = new Uint8Array(this.maxPacket);
    writeVnetHeader(this.validHeader, 0, VnetFlag.DATA_VALID, VnetGso.NONE, 0, 0, 0, 0);
  }

  get pending(): boolean {
    return this.runLen > 0;
  }

  /**
   * Offers one complete inbound IPv4 packet. Either appends it to the pending run (copying it) or
   * flushes the pending run and then starts a new run or writes the packet at once with an
   * all-zero header. Segments whose IP or TCP checksum is wrong never start or join a run: they are
   * written as they came, for the kernel to drop. False when the packet was written at once and
   * the device refused it. `valid`: its checksums need no verifying (see the top of this file).
   */
  push(buf: Uint8Array, off: number, len: number, valid = false): boolean {
    this.counters.pushed++;
    const tcpHdrLen = this.eligible(buf, off, len, valid);
    if (tcpHdrLen < 0 && this.udp) return this.pushUdp(buf, off, len, valid);
    if (tcpHdrLen > 0 && this.runLen > 0 && !this.runUdp && this.joins(buf, off, len, tcpHdrLen)) {
      const hdrs = 20 + tcpHdrLen;
      const payload = len - hdrs;
      const dst = this.run;
      const at = this.runLen;
      // Copy the payload and sum it (unless valid): a segment with a bad checksum must not be vouched for.
      const ok = valid
        ? this.append(buf, off + hdrs, payload)
        : internetChecksum(dst, 0, 0, onesComplementSum(buf, off + 20, tcpHdrLen, tcpPseudoSum(buf, off, len - 20)) + copyAndSum(buf, off + hdrs, dst, at, payload)) === 0;
      if (ok) {
        this.runLen += payload;
        this.runSegments++;
        this.nextSeq = (this.nextSeq + payload) >>> 0;
        const flags = buf[off + 33]!;
        if ((flags & TCP_PSH) !== 0) dst[33] = dst[33]! | TCP_PSH;
        if ((flags & TCP_PSH) !== 0 || payload < this.segSize || this.runSegments >= MAX_RUN_SEGMENTS) this.flush();
        return true;
      }
      this.flush();
      return this.single(buf, off, len, false);
    }
    this.flush();
    // A segment with PSH would close its own run at once, and one whose payload could not follow
    // it (ms3's 64 KiB packets) could have no partner: write those as they came, without a copy.
    if (tcpHdrLen > 0 && (buf[off + 33]! & TCP_PSH) === 0 && 2 * len - 20 - tcpHdrLen <= this.maxPacket) return this.start(buf, off, len, tcpHdrLen, valid);
    return this.single(buf, off, len, valid);
  }

  /** Writes the pending run, if any (a run of one is written as it came, all-zero header). */
  flush(): void {
    const len = this.runLen;
    if (len === 0) return;
    this.runLen = 0;
    const run = this.run;
    if (this.runSegments < 2) {
      this.counters.singles++;
      if (!this.write(this.runValid ? this.validHeader : this.zeroHeader, run, 0, len)) this.counters.runsRefused++;
      return;
    }
    writeU16(run, 2, len);
    writeU16(run, 10, 0);
    writeU16(run, 10, internetChecksum(run, 0, 20));
    if (this.runUdp) {
      // The UDP length and the partial checksum cover the whole run; the kernel adjusts both per datagram.
      writeU16(run, 24, len - 20);
      writeU16(run, 20 + UDP_CSUM_OFFSET, onesComplementSum(run, 0, 0, udpPseudoSum(run, 0, len - 20)));
      writeVnetHeader(this.header, 0, VnetFlag.NEEDS_CSUM, VnetGso.UDP_L4, 28, this.segSize, 20, UDP_CSUM_OFFSET);
    } else {
      writeU16(run, 20 + TCP_CSUM_OFFSET, onesComplementSum(run, 0, 0, tcpPseudoSum(run, 0, len - 20)));
      writeVnetHeader(this.header, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 20 + this.runTcpHdrLen, this.segSize, 20, TCP_CSUM_OFFSET);
    }
    this.counters.superPackets++;
    this.counters.merged += this.runSegments;
    if (!this.write(this.header, run, 0, len)) this.counters.runsRefused++;
  }

  /** Drops the pending run, if any (the device is closing). */
  discard(): void {
    this.runLen = 0;
  }

  /** Copies a payload to the end of the run (not yet counted in runLen); true. */
  private append(buf: Uint8Array, from: number, length: number): boolean {
    copyOctets(buf, from, this.run, this.runLen, length);
    return true;
  }

  private single(buf: Uint8Array, off: number, len: number, valid: boolean): boolean {
    this.counters.singles++;
    return this.write(valid ? this.validHeader : this.zeroHeader, buf, off, len);
  }

  /** Starts a run with this packet if its TCP checksum is right (or `valid`), else writes it at once. */
  private start(buf: Uint8Array, off: number, len: number, tcpHdrLen: number, valid: boolean): boolean {
    const run = this.run;
    if (valid) copyOctets(buf, off, run, 0, len);
    else {
      for (let i = 0; i < 20; i++) run[i] = buf[off + i]!;
      const sum = copyAndSum(buf, off + 20, run, 20, len - 20);
      if (internetChecksum(run, 0, 0, sum + tcpPseudoSum(run, 0, len - 20)) !== 0) return this.single(buf, off, len, false);
    }
    this.runValid = valid;
    this.runUdp = false;
    this.runLen = len;
    this.runSegments = 1;
    this.runTcpHdrLen = tcpHdrLen;
    this.segSize = len - 20 - tcpHdrLen;
    this.nextSeq = (readU32(buf, off + 24) + this.segSize) >>> 0;
    return true;
  }

  // A UDP datagram (eligible() said so): joins the pending UDP run, or flushes and starts one.
  private pushUdp(buf: Uint8Array, off: number, len: number, valid: boolean): boolean {
    const payload = len - 28;
    if (this.runLen > 0 && this.runUdp && this.udpJoins(buf, off, len)) {
      const ok = valid
        ? this.append(buf, off + 28, payload)
        : internetChecksum(this.run, 0, 0, onesComplementSum(buf, off + 20, 8, udpPseudoSum(buf, off, len - 20)) + copyAndSum(buf, off + 28, this.run, this.runLen, payload)) === 0;
      if (ok) {
        this.runLen += payload;
        this.runSegments++;
        this.nextId = (this.nextId + 1) & 0xffff;
        if (payload < this.segSize || this.runSegments >= MAX_RUN_SEGMENTS) this.flush();
        return true;
      }
      this.flush();
      return this.single(buf, off, len, false);
    }
    this.flush();
    if (2 * len - 28 > this.maxPacket) return this.single(buf, off, len, valid);
    const run = this.run;
    if (valid) copyOctets(buf, off, run, 0, len);
    else {
      for (let i = 0; i < 20; i++) run[i] = buf[off + i]!;
      const sum = copyAndSum(buf, off + 20, run, 20, len - 20);
      if (internetChecksum(run, 0, 0, sum + udpPseudoSum(run, 0, len - 20)) !== 0) return this.single(buf, off, len, false);
    }
    this.runValid = valid;
    this.runUdp = true;
    this.runLen = len;
    this.runSegments = 1;
    this.segSize = payload;
    this.nextId = (readU16(buf, off + 4) + 1) & 0xffff;
    return true;
  }

  /** May this UDP datagram join the pending UDP run (same flow and IP header, next identifier, not larger, fits)? */
  private udpJoins(buf: Uint8Array, off: number, len: number): boolean {
    const run = this.run;
    const payload = len - 28;
    if (payload > this.segSize || this.runLen + payload > this.maxPacket || readU16(buf, off + 4) !== this.nextId) return false;
    // TOS, DF, TTL, addresses, ports.
    if (buf[off + 1] !== run[1] || (buf[off + 6]! & 0x40) !== (run[6]! & 0x40) || buf[off + 8] !== run[8]) return false;
    for (let i = 12; i < 24; i++) if (buf[off + i] !== run[i]) return false;
    return true;
  }

  /**
   * The TCP header length when the packet may start or join a TCP run, -1 for a UDP datagram that
   * may start or join a UDP run, otherwise 0. Both: IPv4, IHL 5, total length == len, header
   * checksum right (a merged header is recomputed, so it must not hide a bad one), not a fragment,
   * payload > 0. TCP: flags ACK or ACK|PSH. UDP: its length says len - 20 and it has a checksum.
   * A `valid` packet's header checksum is taken as it is.
   */
  private eligible(buf: Uint8Array, off: number, len: number, valid: boolean): number {
    if (!(off >= 0 && len >= 29 && off + len <= buf.length)) return 0;
    if (buf[off] !== 0x45 || readU16(buf, off + 2) !== len) return 0;
    const protocol = buf[off + 9];
    if (protocol === IPPROTO_UDP) {
      if (readU16(buf, off + 24) !== len - 20 || readU16(buf, off + 26) === 0) return 0;
      return (readU16(buf, off + 6) & 0x3fff) === 0 && (valid || internetChecksum(buf, off, 20) === 0) ? -1 : 0;
    }
    if (protocol !== IPPROTO_TCP || len < 40) return 0;
    if ((readU16(buf, off + 6) & 0x3fff) !== 0 || (!valid && internetChecksum(buf, off, 20) !== 0)) return 0;
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

/** Unfolded sum of the UDP pseudo-header (source, destination, protocol 17, UDP length) of the IPv4 packet at `ip`. */
function udpPseudoSum(buf: Uint8Array, ip: number, udpLength: number): number {
  return tcpPseudoSum(buf, ip, udpLength) - IPPROTO_TCP + IPPROTO_UDP;
}
