// SegmentSealer: a packet larger than one datagram, on a keyed connection, cut into sealed segments
// by one AeadBatch.sealSegments call (the addon's) instead of one header write, copy and queued
// seal per segment (ms3: 45-47 segments per 64 KiB packet): straight into the UDP socket's send
// slab when the socket lends it (fill, for UnderlaySocket.sendRun), else into a buffer of its own.
// Octets only: the key, the first counter, the chunk size and both headers are the caller's
// (secure.ts, data-send.ts); the segments are the same octets the per-segment path seals
// (test/crypto/aead-segments.test.ts). Nothing allocates per packet once the buffer has grown.

import type { AeadBatch } from '../crypto/aead.js';
import { TAG_SIZE } from '../crypto/primitives.js';
import { DATA_HEADER_SIZE } from './constants.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from './secure-wire.js';

/** What a segment adds to its chunk: the sealed header, the data header and the tag. */
export const SEGMENT_OVERHEAD = SEALED_HEADER_SIZE + DATA_HEADER_SIZE + TAG_SIZE;
/** Where the first segment starts in the own buffer: its sealed data 64 octets in (one cipher call each). */
const FIRST = 64 - SEALED_HEADER_SIZE;

export class SegmentSealer {
  /** The own buffer: after sealOwn(), segment i at FIRST + i * stride. */
  out = new Uint8Array(FIRST + 65535 + 64 * SEGMENT_OVERHEAD);
  readonly first = FIRST;
  // The packet prepare() named, until the next prepare().
  private readonly heads = new Uint8Array(SEALED_HEADER_SIZE + DATA_HEADER_SIZE);
  private key: Uint8Array = this.heads;
  private counter = 0;
  private buf: Uint8Array = this.heads;
  private offset = 0;
  private length = 0;
  private chunk = 1;
  /** Segments of the prepared packet, each `stride` octets but the last (`last`). */
  count = 0;
  stride = 0;
  last = 0;
  /** Whether fill() was called for the prepared packet, and whether it sealed it. */
  filled = false;
  sealed = false;
  private inUse = false;

  constructor(private readonly aead: AeadBatch) {}

  /** Whether a packet can be prepared now: the AEAD has the primitive and no segments are being handed out. */
  get ready(): boolean {
    return this.aead.sealSegments !== undefined && !this.inUse;
  }

  /**
   * Names the packet buf[offset, offset + length), to go as segments of `chunk` octets for
   * `receiver` from `counter` on, each with the data header `dataHead` (its offset field set per
   * segment); count, stride and last say how the datagrams will lie.
   */
  prepare(key: Uint8Array, receiver: number, counter: number, dataHead: Uint8Array, buf: Uint8Array, offset: number, length: number, chunk: number): void {
    writeSealedHeader(this.heads, 0, receiver, 0);
    this.heads.set(dataHead, SEALED_HEADER_SIZE);
    this.key = key;
    this.counter = counter;
    this.buf = buf;
    this.offset = offset;
    this.length = length;
    this.chunk = chunk;
    this.count = Math.ceil(length / chunk);
    this.stride = chunk + SEGMENT_OVERHEAD;
    this.last = length - (this.count - 1) * chunk + SEGMENT_OVERHEAD;
    this.filled = this.sealed = false;
  }

  /** Seals the prepared packet's segments end to end into out from `at` (a socket's send slab): whether it did. */
  readonly fill = (out: Uint8Array, at: number): boolean => {
    this.filled = true;
    const sealSegments = this.aead.sealSegments;
    this.sealed = sealSegments !== undefined && sealSegments.call(this.aead, this.key, this.heads, this.buf, this.offset, this.length, this.chunk, this.counter, out, at) === this.count;
    return this.sealed;
  };

  /** Seals the prepared packet into the own buffer (out, from `first`); whether it did. */
  sealOwn(): boolean {
    const need = FIRST + this.length + this.count * SEGMENT_OVERHEAD;
    if (this.out.length < need) this.out = new Uint8Array(need);
    return this.fill(this.out, FIRST);
  }

  /** Marks the own buffer in use while its segments are handed out (a nested packet takes the other path). */
  hold(on: boolean): void {
    this.inUse = on;
  }
}
