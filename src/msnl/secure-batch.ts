// SealQueue: sealed frames of a burst sealed together, by one AEAD call, instead of one call each.
// add() writes the sealed header and copies the frame into a slab at once (so the caller may reuse
// its buffer) with the key, counter and link the caller chose; flush() seals every queued item
// with one AeadBatch call and hands each datagram to `send` in the order they were added. The
// first add() of a burst schedules a flush (msnld: a microtask, so it runs after the current
// callback, before the UDP socket's own flush); a full slab flushes at once. Octets only: keys,
// counters and every decision stay with the caller (secure.ts). Nothing allocates per frame.

import { copyOctets } from '../abi/bytes.js';
import { AEAD_FRONT, AEAD_ITEM, Desc, describe, type AeadBatch } from '../crypto/aead.js';
import { KEY_SIZE, TAG_SIZE } from '../crypto/primitives.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from './secure-wire.js';

/** Items per AEAD call at most, and the slab they are packed into. */
export const SEAL_BATCH_ITEMS = 256;
export const SEAL_BATCH_BYTES = 512 * 1024;
/** Where the first item starts: its data AEAD_FRONT octets into the slab (one ChaCha20 call each). */
const FIRST = AEAD_FRONT - SEALED_HEADER_SIZE;

export interface SealQueueHost<L> {
  readonly aead: AeadBatch;
  /** Sends one sealed datagram, buf[offset, offset + length); it must consume the octets before it returns. */
  send(link: L, buf: Uint8Array, offset: number, length: number): void;
  /** An item the AEAD refused (never expected: descriptors are built here): counted by the caller. */
  refused(): void;
  /** Runs `flush` once the current burst is over (msnld: queueMicrotask). */
  schedule(flush: () => void): void;
}

export class SealQueue<L> {
  private readonly keys = new Uint8Array(SEAL_BATCH_ITEMS * KEY_SIZE);
  private readonly slab = new Uint8Array(SEAL_BATCH_BYTES);
  private readonly desc = new Uint32Array(SEAL_BATCH_ITEMS * AEAD_ITEM);
  private readonly links: (L | undefined)[] = new Array<L | undefined>(SEAL_BATCH_ITEMS).fill(undefined);
  private count = 0;
  private used = FIRST;
  /** The key of the last item and where it sits in `keys` (a burst mostly keeps one key). */
  private lastKey: Uint8Array | null = null;
  private lastKeyAt = 0;
  private keysUsed = 0;
  private scheduled = false;
  private sending = false;
  private readonly task = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly host: SealQueueHost<L>) {}

  /** Items waiting for flush(). */
  get pending(): number {
    return this.count;
  }

  /** Whether flush() is handing datagrams out now (an add() then must not be queued behind them). */
  get flushing(): boolean {
    return this.sending;
  }

  /**
   * Queues `head` (when given) then buf[offset, offset + length), one MSNL frame, to be sealed
   * under `key` and `counter` for `receiver` and sent to `link`. False when the frame cannot fit
   * any batch (larger than the slab) or a flush is sending.
   */
  add(key: Uint8Array, receiver: number, counter: number, link: L, buf: Uint8Array, offset: number, length: number, head: Uint8Array | null = null): boolean {
    const headLength = head === null ? 0 : head.length;
    const frameLength = headLength + length;
    const size = SEALED_HEADER_SIZE + frameLength + TAG_SIZE;
    if (FIRST + size > this.slab.length || this.sending) return false;
    if (this.count === SEAL_BATCH_ITEMS || this.used + size > this.slab.length) this.flush();
    if (key !== this.lastKey) {
      this.lastKeyAt = this.keysUsed;
      this.keys.set(key, this.keysUsed);
      this.keysUsed += KEY_SIZE;
      this.lastKey = key;
    }
    const at = this.used;
    writeSealedHeader(this.slab, at, receiver, counter);
    if (head !== null) this.slab.set(head, at + SEALED_HEADER_SIZE);
    copyOctets(buf, offset, this.slab, at + SEALED_HEADER_SIZE + headLength, length);
    describe(this.desc, this.count, this.lastKeyAt, counter, at, SEALED_HEADER_SIZE, at + SEALED_HEADER_SIZE, frameLength);
    this.links[this.count++] = link;
    this.used += size;
    if (!this.scheduled) {
      this.scheduled = true;
      this.host.schedule(this.task);
    }
    return true;
  }

  /** Seals every queued item with one AEAD call and sends them in order. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.sending) return;
    const { desc, slab, links, host } = this;
    host.aead.seal(this.keys, slab, desc, n);
    this.sending = true;
    try {
      for (let i = 0; i < n; i++) {
        const at = i * AEAD_ITEM;
        const link = links[i] as L;
        links[i] = undefined;
        const length = desc[at + Desc.DATA_LENGTH]!;
        if (desc[at + Desc.RESULT] === length + TAG_SIZE) host.send(link, slab, desc[at + Desc.AD_OFFSET]!, SEALED_HEADER_SIZE + length + TAG_SIZE);
        else host.refused();
      }
    } finally {
      this.sending = false;
      this.keys.fill(0, 0, this.keysUsed);
      this.count = this.keysUsed = 0;
      this.used = FIRST;
      this.lastKey = null;
    }
  }
}
