// The data send path of the endpoint: one packet on an open connection becomes one datagram, or
// several segments cut to the path MTU of the exit in use (msnl(7) Segmentation); a keyed
// connection's segments are each sealed into one datagram. No allocation in steady state: the
// header is written into the caller's headroom when there is some, and the scratch arrays are kept.

import { copyOctets } from '../abi/bytes.js';
import type { Connection } from './connection.js';
import { DATA_HEADER_SIZE } from './constants.js';
import { segmentPacket } from './sar.js';
import { SEAL_OVERHEAD } from './secure-wire.js';
import { writeDataHeader } from './wire.js';

export interface DataSendHost<L> {
  /** Sends buf[offset, offset + length) as one datagram to `link` (transmit consumes it before returning). */
  outFrame(link: L, buf: Uint8Array, offset: number, length: number): void;
  /** Seals `head` then buf[offset, offset + length) into one datagram of `conn` and sends it. */
  sealAndSend(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, head: Uint8Array): boolean;
  /** Seals and sends a packet of several segments at once (`head`: the data header, offset 0); null: not this way. */
  sealPacket?(conn: Connection<L>, head: Uint8Array, buf: Uint8Array, offset: number, length: number, chunk: number): boolean | null;
}

export class DataSend<L> {
  private readonly savedOctets = new Uint8Array(DATA_HEADER_SIZE);
  /** Where sendSealed writes each segment's data header (kept: the data path allocates nothing). */
  private readonly sealHead = new Uint8Array(DATA_HEADER_SIZE);

  constructor(private readonly host: DataSendHost<L>) {}

  /**
   * Sends packet `seq`, `length` octets of `buf` from `offset`, on `conn` (length already checked).
   * When the packet fits one datagram and there are DATA_HEADER_SIZE octets of headroom before
   * `offset`, the header is written there and the datagram goes out without a copy; otherwise it
   * is copied once.
   */
  send(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, seq: number): boolean {
    if (conn.secure !== null) return this.sendSealed(conn, buf, offset, length, seq);
    const { host } = this;
    const maxDatagram = conn.path.maxDatagram;
    if (length + DATA_HEADER_SIZE <= maxDatagram) {
      if (offset >= DATA_HEADER_SIZE) {
        writeDataHeader(buf, offset - DATA_HEADER_SIZE, conn.remoteConnId, seq, length, 0);
        host.outFrame(conn.link, buf, offset - DATA_HEADER_SIZE, DATA_HEADER_SIZE + length);
      } else {
        const frame = new Uint8Array(DATA_HEADER_SIZE + length);
        writeDataHeader(frame, 0, conn.remoteConnId, seq, length, 0);
        copyOctets(buf, offset, frame, DATA_HEADER_SIZE, length);
        host.outFrame(conn.link, frame, 0, frame.length);
      }
      return true;
    }
    if (offset >= DATA_HEADER_SIZE) {
      // In place: each segment's header goes into the 16 octets in front of its chunk. Those
      // octets are the tail of the previous chunk, already handed to transmit (which consumes a
      // datagram before it returns), so they are saved and put back: no allocation, no copy here.
      const chunk = maxDatagram - DATA_HEADER_SIZE;
      const saved = this.savedOctets;
      for (let at = 0; at < length; at += chunk) {
        const n = Math.min(chunk, length - at);
        const h = offset + at - DATA_HEADER_SIZE;
        if (at > 0) copyOctets(buf, h, saved, 0, DATA_HEADER_SIZE);
        writeDataHeader(buf, h, conn.remoteConnId, seq, length, at);
        host.outFrame(conn.link, buf, h, DATA_HEADER_SIZE + n);
        if (at > 0) copyOctets(saved, 0, buf, h, DATA_HEADER_SIZE);
      }
      return true;
    }
    const frames = segmentPacket(buf.subarray(offset, offset + length), conn.remoteConnId, seq, maxDatagram);
    for (let i = 0; i < frames.length; i++) host.outFrame(conn.link, frames[i]!, 0, frames[i]!.length);
    return true;
  }

  /** A keyed connection's packet: each segment becomes one sealed datagram (header and chunk copied once, into it). */
  private sendSealed(conn: Connection<L>, buf: Uint8Array, offset: number, length: number, seq: number): boolean {
    const chunk = conn.path.maxDatagram - SEAL_OVERHEAD - DATA_HEADER_SIZE;
    const head = this.sealHead;
    if (length > chunk && this.host.sealPacket !== undefined) {
      writeDataHeader(head, 0, conn.remoteConnId, seq, length, 0);
      const done = this.host.sealPacket(conn, head, buf, offset, length, chunk);
      if (done !== null) return done;
    }
    let ok = true;
    for (let at = 0; at < length; at += chunk) {
      const n = Math.min(chunk, length - at);
      writeDataHeader(head, 0, conn.remoteConnId, seq, length, at);
      ok = this.host.sealAndSend(conn, buf, offset + at, n, head) && ok;
    }
    return ok;
  }
}
