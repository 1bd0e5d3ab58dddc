// OpenQueue: the sealed frames received in one burst opened together, by one AEAD call, instead of
// one call each. add() copies the datagram into a slab (the socket's receive buffer is reused
// after the callback; one copy per frame, as opening one at a time took) with the key and counter
// the caller chose and two values of its own (msnld: the session entry and the link); flush()
// opens every queued frame in place in the slab with one AeadBatch call and hands each to
// `opened`, in the order they came, with whether it authenticated. The first add() of a burst
// schedules the flush (msnld: a microtask, after the socket's receive callback); a full slab
// flushes at once. Octets only: the replay window, sessions and every decision stay with the
// caller (secure.ts). Nothing allocates per frame.

import { copyOctets } from '../abi/bytes.js';
import { AEAD_FAILED, AEAD_FRONT, AEAD_ITEM, Desc, describe, type AeadBatch } from '../crypto/aead.js';
import { KEY_SIZE, TAG_SIZE } from '../crypto/primitives.js';
import { SEALED_HEADER_SIZE } from './secure-wire.js';

/** Frames per AEAD call at most, and the slab they are copied into. */
export const OPEN_BATCH_ITEMS = 256;
export const OPEN_BATCH_BYTES = 512 * 1024;
/** Where the first item starts: its data AEAD_FRONT octets into the slab (one ChaCha20 call each). */
const FIRST = AEAD_FRONT - SEALED_HEADER_SIZE;

export interface OpenQueueHost<E, L> {
  readonly aead: AeadBatch;
  /**
   * One queued frame, opened: buf[offset, offset + length) is the datagram as add() took it, its
   * inner frame at SEALED_HEADER_SIZE .. length - TAG_SIZE when `ok` (it authenticated), valid
   * during the call only.
   */
  opened(entry: E, link: L, counter: number, buf: Uint8Array, offset: number, length: number, ok: boolean): void;
  /** Runs `flush` once the current burst is over (msnld: queueMicrotask). */
  schedule(flush: () => void): void;
}

export class OpenQueue<E, L> {
  private readonly keys = new Uint8Array(OPEN_BATCH_ITEMS * KEY_SIZE);
  private readonly slab = new Uint8Array(OPEN_BATCH_BYTES);
  private readonly desc = new Uint32Array(OPEN_BATCH_ITEMS * AEAD_ITEM);
  private readonly counters = new Float64Array(OPEN_BATCH_ITEMS);
  private readonly entries: (E | undefined)[] = new Array<E | undefined>(OPEN_BATCH_ITEMS).fill(undefined);
  private readonly links: (L | undefined)[] = new Array<L | undefined>(OPEN_BATCH_ITEMS).fill(undefined);
  private count = 0;
  private used = FIRST;
  /** The key of the last frame and where it sits in `keys` (a burst mostly keeps one key). */
  private lastKey: Uint8Array | null = null;
  private lastKeyAt = 0;
  private keysUsed = 0;
  private scheduled = false;
  private opening = false;
  private readonly task = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly host: OpenQueueHost<E, L>) {}

  /** Frames waiting for flush(). */
  get pending(): number {
    return this.count;
  }

  /**
   * Queues the sealed datagram buf[offset, offset + length) (header already read, at least
   * SEALED_HEADER_SIZE + TAG_SIZE octets) to be opened under `key` and `counter`. False when it
   * cannot be queued (larger than the slab, or a flush is handing frames out): the caller then
   * opens it at once.
   */
  add(key: Uint8Array, counter: number, entry: E, link: L, buf: Uint8Array, offset: number, length: number): boolean {
    if (FIRST + length > this.slab.length || length < SEALED_HEADER_SIZE + TAG_SIZE || this.opening) return false;
    if (this.count === OPEN_BATCH_ITEMS || this.used + length > this.slab.length) this.flush();
    if (key !== this.lastKey) {
      this.lastKeyAt = this.keysUsed;
      this.keys.set(key, this.keysUsed);
      this.keysUsed += KEY_SIZE;
      this.lastKey = key;
    }
    const at = this.used;
    copyOctets(buf, offset, this.slab, at, length);
    describe(this.desc, this.count, this.lastKeyAt, counter, at, SEALED_HEADER_SIZE, at + SEALED_HEADER_SIZE, length - SEALED_HEADER_SIZE);
    this.counters[this.count] = counter;
    this.entries[this.count] = entry;
    this.links[this.count++] = link;
    this.used += length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.host.schedule(this.task);
    }
    return true;
  }

  /** Opens every queued frame with one AEAD call and hands them out in order. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.opening) return;
    const { desc, slab, entries, links, counters, host } = this;
    host.aead.open(this.keys, slab, desc, n);
    this.opening = true;
    try {
      for (let i = 0; i < n; i++) {
        const at = i * AEAD_ITEM;
        const entry = entries[i] as E;
        const link = links[i] as L;
        entries[i] = undefined;
        links[i] = undefined;
        const sealed = desc[at + Desc.DATA_LENGTH]!;
        const result = desc[at + Desc.RESULT]!;
        host.opened(entry, link, counters[i]!, slab, desc[at + Desc.AD_OFFSET]!, SEALED_HEADER_SIZE + sealed, result !== AEAD_FAILED && result === sealed - TAG_SIZE);
      }
    } finally {
      this.opening = false;
      this.keys.fill(0, 0, this.keysUsed);
      for (let i = 0; i < n; i++) entries[i] = links[i] = undefined;
      this.count = this.keysUsed = 0;
      this.used = FIRST;
      this.lastKey = null;
    }
  }
}
