// SegmentSealer: a packet larger than one datagram, on a keyed connection, cut into sealed segments
// by one AeadBatch.sealSegments call (the addon's) instead of one header write, copy and queued
// seal per segment (ms3: 45-47 segments per 64 KiB packet). Octets only: the key, the first
// counter, the chunk size and both headers are the caller's (secure.ts, data-send.ts); the
// segments are the same octets the per-segment path seals (test/crypto/aead-segments.test.ts).
// Nothing allocates per packet once the buffer has grown to the largest packet.

import type { AeadBatch } from '../crypto/aead.js';
import { TAG_SIZE } from '../crypto/primitives.js';
import { DATA_HEADER_SIZE } from './constants.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from './secure-wire.js';

/** What a segment adds to its chunk: the sealed header, the data header and the tag. */
export const SEGMENT_OVERHEAD = SEALED_HEADER_SIZE + DATA_HEADER_SIZE + TAG_SIZE;
/** Where the first segment starts: its sealed data 64 octets into the buffer (one cipher call each). */
const FIRST = 64 - SEALED_HEADER_SIZE;

export class SegmentSealer {
  private out = new Uint8Array(FIRST + 65535 + 64 * SEGMENT_OVERHEAD);
  private readonly heads = new Uint8Array(SEALED_HEADER_SIZE + DATA_HEADER_SIZE);
  private inUse = false;

  constructor(private readonly aead: AeadBatch) {}

  /** Whether seal() can be used now: the AEAD has the primitive and no segments are being handed out. */
  get ready(): boolean {
    return this.aead.sealSegments !== undefined && !this.inUse;
  }

  /**
   * Seals buf[offset, offset + length) as ceil(length / chunk) segments for `receiver` from
   * `counter` on, each with the data header `dataHead` (its offset field set per segment), and
   * hands each datagram to `send` in order. Returns the number of segments, 0 when the AEAD refused
   * (nothing sent). Call only when ready.
   */
  seal(key: Uint8Array, receiver: number, counter: number, dataHead: Uint8Array, buf: Uint8Array, offset: number, length: number, chunk: number, send: (buf: Uint8Array, offset: number, length: number) => void): number {
    const sealSegments = this.aead.sealSegments;
    if (sealSegments === undefined || this.inUse) return 0;
    const count = Math.ceil(length / chunk);
    const need = FIRST + length + count * SEGMENT_OVERHEAD;
    if (this.out.length < need) this.out = new Uint8Array(need);
    const { out, heads } = this;
    writeSealedHeader(heads, 0, receiver, 0);
    heads.set(dataHead, SEALED_HEADER_SIZE);
    if (sealSegments.call(this.aead, key, heads, buf, offset, length, chunk, counter, out, FIRST) !== count) return 0;
    this.inUse = true;
    try {
      const stride = chunk + SEGMENT_OVERHEAD;
      for (let i = 0, at = FIRST; i < count; i++, at += stride) {
        send(out, at, i < count - 1 ? stride : length - i * chunk + SEGMENT_OVERHEAD);
      }
    } finally {
      this.inUse = false;
    }
    return count;
  }
}
