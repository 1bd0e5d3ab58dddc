// Segmentation and reassembly (SAR) of IP packets of 1..65535 octets over datagrams of at most
// `maxDatagram` octets. Segmenting copies the packet once into one backing buffer that holds every
// frame end to end. Reassembly copies each segment once into a buffer of the packet's total
// length, bounded per connection and in total, and frees incomplete packets after a timeout.
// While the caller says the segments lie in one array that stays unchanged (deferCopies: msnld's
// burst of opened sealed frames), the copies into one packet are gathered and made by one
// injected copyRuns call (the addon's) when the packet completes, another packet or array comes,
// or the caller ends it, instead of one Buffer.copy each (which makes a view per copy on Node 20).
// Duplicates, overlaps, inconsistent totals and memory overruns are counted drops. Pure: the clock
// is injected.

import { copyOctets, octetsOf } from '../abi/bytes.js';
import { DATA_HEADER_SIZE, DEFAULT_MAX_DATAGRAM, MAX_PACKET_SIZE, MIN_MAX_DATAGRAM } from './constants.js';
import type { Clock } from '../base/clock.js';
import { writeDataHeader, type DataHeader } from './wire.js';

/** Copies run i, src[runs[3i], + runs[3i + 2]) to dst[runs[3i + 1]..), for i < count, by one call; count, or -1 (AeadBatch.copyRuns). */
export type CopyRuns = (src: Uint8Array, dst: Uint8Array, runs: Int32Array, count: number) => number;

/** Copies gathered for one packet before they are made (a 64 KiB packet over 1500-octet datagrams is 45-47). */
const MAX_RUNS = 64;

/** How many datagrams a packet of `length` octets takes. */
export function segmentCount(length: number, maxDatagram = DEFAULT_MAX_DATAGRAM): number {
  return Math.ceil(length / (maxDatagram - DATA_HEADER_SIZE));
}

/**
 * Cuts `packet` (1..65535 octets) into data frames of at most `maxDatagram` octets each. Returns
 * views into one new buffer (the only copy); an empty array when the sizes are out of range.
 */
export function segmentPacket(packet: Uint8Array, connId: number, packetSeq: number, maxDatagram = DEFAULT_MAX_DATAGRAM): Uint8Array[] {
  const total = packet.length;
  if (total < 1 || total > MAX_PACKET_SIZE || maxDatagram < MIN_MAX_DATAGRAM) return [];
  const chunk = maxDatagram - DATA_HEADER_SIZE;
  const count = Math.ceil(total / chunk);
  const backing = new Uint8Array(total + count * DATA_HEADER_SIZE);
  const frames: Uint8Array[] = new Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const offset = i * chunk;
    const length = Math.min(chunk, total - offset);
    writeDataHeader(backing, at, connId, packetSeq, total, offset);
    backing.set(packet.subarray(offset, offset + length), at + DATA_HEADER_SIZE);
    frames[i] = backing.subarray(at, at + DATA_HEADER_SIZE + length);
    at += DATA_HEADER_SIZE + length;
  }
  return frames;
}

export interface ReassemblyConfig {
  /** Incomplete packets are freed this long after their first segment (ms). */
  readonly timeoutMs: number;
  /** Octets of incomplete packets one connection may hold. */
  readonly maxBytesPerConnection: number;
  /** Octets of incomplete packets all connections together may hold. */
  readonly maxBytesTotal: number;
}

export const DEFAULT_REASSEMBLY: ReassemblyConfig = Object.freeze({
  timeoutMs: 3000,
  maxBytesPerConnection: 4 * MAX_PACKET_SIZE,
  maxBytesTotal: 64 * MAX_PACKET_SIZE,
});

/** Drop and progress counters of the reassembler. */
export interface ReassemblyCounters {
  reassembled: number;
  timedOut: number;
  duplicates: number;
  overlaps: number;
  badFields: number;
  evicted: number;
  overLimit: number;
}

interface Partial {
  readonly key: number;
  readonly seq: number;
  /** The packet's octets: a view of `backing`, a pooled buffer of the packet's size class. */
  readonly buf: Uint8Array;
  readonly backing: Uint8Array;
  readonly createdAt: number;
  /** Received ranges [start, end), kept sorted and disjoint. */
  readonly starts: number[];
  readonly ends: number[];
  received: number;
}

interface PerConnection {
  readonly partials: Map<number, Partial>;
  bytes: number;
  /** Sequence numbers of recently completed packets, to spot late duplicates. */
  readonly recent: Uint32Array;
  recentCount: number;
  recentNext: number;
}

const RECENT = 32;

/** Size classes of the pooled reassembly buffers, and how many of each the pool keeps. */
const BUFFER_CLASSES = [4096, 16384, 65536] as const;
const POOLED_PER_CLASS = 8;

function sizeClass(total: number): number {
  return total <= 4096 ? 0 : total <= 16384 ? 1 : 2;
}

export class Reassembler {
  readonly counters: ReassemblyCounters = { reassembled: 0, timedOut: 0, duplicates: 0, overlaps: 0, badFields: 0, evicted: 0, overLimit: 0 };
  private readonly connections = new Map<number, PerConnection>();
  /** Every incomplete packet, oldest first (insertion order), for timeouts and eviction. */
  private readonly byAge = new Set<Partial>();
  private held = 0;
  private readonly pools: Uint8Array[][] = BUFFER_CLASSES.map(() => []);
  /** The backing of the packet accept() completed last, handed back by recycle(). */
  private completed: Uint8Array | undefined;
  /** The array whose segments are gathered (deferCopies), and the copies gathered: all from it into `runDst`. */
  private deferSrc: Uint8Array | null = null;
  private runDst: Uint8Array | null = null;
  private readonly runs = new Int32Array(3 * MAX_RUNS);
  private runCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly config: ReassemblyConfig = DEFAULT_REASSEMBLY,
    private readonly copyRuns?: CopyRuns,
  ) {}

  /**
   * From now on until deferCopies(null), segments that lie in `source` are copied into their
   * packet in gathered runs (one copyRuns call per packet); the caller keeps `source` unchanged
   * until then. null makes the copies still gathered and ends it; the same array again changes
   * nothing. Without copyRuns: nothing.
   */
  deferCopies(source: Uint8Array | null): void {
    if (source === this.deferSrc) return;
    this.settle();
    this.deferSrc = this.copyRuns === undefined ? null : source;
  }

  /** Makes the gathered copies. */
  private settle(): void {
    const n = this.runCount;
    if (n === 0) return;
    const src = this.deferSrc!;
    const dst = this.runDst!;
    this.runCount = 0;
    this.runDst = null;
    if (this.copyRuns!(src, dst, this.runs, n) === n) return;
    // Out of range cannot happen (accept checks every range first); copied one by one all the same.
    const r = this.runs;
    for (let i = 0; i < 3 * n; i += 3) copyOctets(src, r[i]!, dst, r[i + 1]!, r[i + 2]!);
  }

  /** One segment's copy: gathered when it lies in the deferred array, else made now. */
  private copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): void {
    if (src !== this.deferSrc) {
      copyOctets(src, from, dst, to, length);
      return;
    }
    if (dst !== this.runDst || this.runCount === MAX_RUNS) this.settle();
    const at = 3 * this.runCount++;
    this.runs[at] = from;
    this.runs[at + 1] = to;
    this.runs[at + 2] = length;
    this.runDst = dst;
  }

  /** Octets held by incomplete packets. */
  get bytesHeld(): number {
    return this.held;
  }

  /** Incomplete packets held. */
  get pending(): number {
    return this.byAge.size;
  }

  /**
   * Takes one segment of connection `key` (the payload after the header: payload[from, from +
   * length)) and returns the whole packet when this segment completes it, else null. A
   * single-segment packet is returned as is (a view when it is part of `payload`).
   */
  accept(key: number, header: DataHeader, payload: Uint8Array, from = 0, length = payload.length - from): Uint8Array | null {
    const total = header.totalLength;
    if (length <= 0 || length !== header.length || header.offset + length > total || from < 0 || from + length > payload.length) {
      this.counters.badFields++;
      return null;
    }
    if (header.offset === 0 && length === total) return octetsOf(payload, from, length);
    let conn = this.connections.get(key);
    if (conn === undefined) {
      conn = { partials: new Map(), bytes: 0, recent: new Uint32Array(RECENT), recentCount: 0, recentNext: 0 };
      this.connections.set(key, conn);
    }
    let partial = conn.partials.get(header.packetSeq);
    if (partial === undefined) {
      if (this.recentlyCompleted(conn, header.packetSeq)) {
        this.counters.duplicates++;
        return null;
      }
      if (!this.makeRoom(conn, total)) {
        this.counters.overLimit++;
        return null;
      }
      const backing = this.pools[sizeClass(total)]!.pop() ?? new Uint8Array(BUFFER_CLASSES[sizeClass(total)]!);
      partial = { key, seq: header.packetSeq, buf: backing.subarray(0, total), backing, createdAt: this.clock.now(), starts: [], ends: [], received: 0 };
      conn.partials.set(partial.seq, partial);
      conn.bytes += total;
      this.held += total;
      this.byAge.add(partial);
    } else if (partial.buf.length !== total) {
      this.counters.badFields++;
      this.free(partial);
      return null;
    }
    const verdict = insertRange(partial, header.offset, header.offset + length);
    if (verdict === 'duplicate') {
      this.counters.duplicates++;
      return null;
    }
    if (verdict === 'overlap') {
      // Overlapping segments that differ in extent could smuggle different bytes: drop the packet.
      this.counters.overlaps++;
      this.free(partial);
      return null;
    }
    this.copy(payload, from, partial.buf, header.offset, length);
    partial.received += length;
    if (partial.received < total) return null;
    if (this.runDst === partial.buf) this.settle();
    conn.recent[conn.recentNext] = partial.seq;
    conn.recentNext = (conn.recentNext + 1) % RECENT;
    if (conn.recentCount < RECENT) conn.recentCount++;
    this.free(partial, false);
    this.counters.reassembled++;
    this.completed = partial.backing;
    return partial.buf;
  }

  /**
   * Hands the buffer of the packet accept() just completed back to the pool. The caller calls it
   * once it is done with that packet (the endpoint: after its data event returns), so completed
   * packets cost no allocation in steady state.
   */
  recycle(): void {
    const backing = this.completed;
    this.completed = undefined;
    if (backing !== undefined) this.pool(backing);
  }

  private pool(backing: Uint8Array): void {
    const list = this.pools[sizeClass(backing.length)];
    if (list !== undefined && list.length < POOLED_PER_CLASS && BUFFER_CLASSES.includes(backing.length as 4096)) list.push(backing);
  }

  /** Frees incomplete packets older than the timeout; returns how many were freed. */
  expire(): number {
    const limit = this.clock.now() - this.config.timeoutMs;
    let freed = 0;
    for (const partial of this.byAge) {
      if (partial.createdAt > limit) break;
      this.free(partial);
      this.counters.timedOut++;
      freed++;
    }
    return freed;
  }

  /** When the oldest incomplete packet times out (ms), or Infinity. */
  nextDeadline(): number {
    for (const partial of this.byAge) return partial.createdAt + this.config.timeoutMs;
    return Infinity;
  }

  /** Forgets everything held for connection `key` (the connection is gone). */
  dropConnection(key: number): void {
    const conn = this.connections.get(key);
    if (conn === undefined) return;
    for (const partial of [...conn.partials.values()]) this.free(partial);
    this.connections.delete(key);
  }

  private recentlyCompleted(conn: PerConnection, seq: number): boolean {
    for (let i = 0; i < conn.recentCount; i++) if (conn.recent[i] === seq) return true;
    return false;
  }

  private makeRoom(conn: PerConnection, total: number): boolean {
    if (total > this.config.maxBytesPerConnection || total > this.config.maxBytesTotal) return false;
    while (conn.bytes + total > this.config.maxBytesPerConnection) {
      const oldest = conn.partials.values().next();
      if (oldest.done === true) break;
      this.free(oldest.value);
      this.counters.evicted++;
    }
    while (this.held + total > this.config.maxBytesTotal) {
      const oldest = this.byAge.values().next();
      if (oldest.done === true) break;
      this.free(oldest.value);
      this.counters.evicted++;
    }
    return this.held + total <= this.config.maxBytesTotal;
  }

  /** Forgets an incomplete packet; its buffer goes back to the pool unless it is being returned. */
  private free(partial: Partial, toPool = true): void {
    if (!this.byAge.delete(partial)) return;
    // Copies gathered into a packet that is dropped are not made (its buffer may go to another).
    if (this.runDst === partial.buf) {
      this.runCount = 0;
      this.runDst = null;
    }
    if (toPool) this.pool(partial.backing);
    const conn = this.connections.get(partial.key);
    if (conn !== undefined) {
      conn.partials.delete(partial.seq);
      conn.bytes -= partial.buf.length;
      if (conn.partials.size === 0 && conn.recentCount === 0) this.connections.delete(partial.key);
    }
    this.held -= partial.buf.length;
  }
}

function insertRange(partial: Partial, start: number, end: number): 'ok' | 'duplicate' | 'overlap' {
  const { starts, ends } = partial;
  const last = starts.length - 1;
  // In order (the common case: a run of segments as they were sent): after every range so far,
  // appended without scanning the list or splicing into it (45 segments per 64 KiB ms3 packet
  // made the scan and splice a few percent of a receiving msnld).
  if (last < 0 || starts[last]! < start) {
    if (last >= 0 && ends[last]! > start) return 'overlap';
    starts.push(start);
    ends.push(end);
    return 'ok';
  }
  let i = 0;
  while (i < starts.length && starts[i]! < start) i++;
  if (i < starts.length && starts[i] === start && ends[i] === end) return 'duplicate';
  if (i > 0 && ends[i - 1]! > start) return 'overlap';
  if (i < starts.length && starts[i]! < end) return 'overlap';
  starts.splice(i, 0, start);
  ends.splice(i, 0, end);
  return 'ok';
}
