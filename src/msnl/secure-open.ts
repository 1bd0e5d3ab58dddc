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
import { AEAD_FAILED, AEAD_ITEM, Desc } from '../crypto/aead.js';
import { TAG_SIZE } from '../crypto/primitives.js';
import { AEAD_SLAB_BYTES, AEAD_SLAB_ITEMS, AeadSlab, type AeadSlabHost } from './aead-slab.js';
import { SEALED_HEADER_SIZE } from './secure-wire.js';

/** Frames per AEAD call at most, and the slab they are copied into. */
export const OPEN_BATCH_ITEMS = AEAD_SLAB_ITEMS;
export const OPEN_BATCH_BYTES = AEAD_SLAB_BYTES;

export interface OpenQueueHost<E, L> extends AeadSlabHost {
  /**
   * One queued frame, opened: buf[offset, offset + length) is the datagram as add() took it, its
   * inner frame at SEALED_HEADER_SIZE .. length - TAG_SIZE when `ok` (it authenticated), valid
   * during the call only.
   */
  opened(entry: E, link: L, counter: number, buf: Uint8Array, offset: number, length: number, ok: boolean): void;
  /**
   * Called with the array the opened frames lie in before they are handed out, and with null
   * after the last (before the array may change): msnld's reassembler gathers the copies of
   * segments from it in between (Reassembler.deferCopies).
   */
  joining?(source: Uint8Array | null): void;
}

export class OpenQueue<E, L> extends AeadSlab {
  private readonly counters = new Float64Array(OPEN_BATCH_ITEMS);
  private readonly entries: (E | undefined)[] = new Array<E | undefined>(OPEN_BATCH_ITEMS).fill(undefined);
  private readonly links: (L | undefined)[] = new Array<L | undefined>(OPEN_BATCH_ITEMS).fill(undefined);
  /** The array the queued frames lie in: the slab (copied in by add) or the caller's (addInPlace). */
  private source: Uint8Array = this.slab;

  constructor(private readonly host: OpenQueueHost<E, L>) {
    super(host);
  }

  /**
   * Queues the sealed datagram buf[offset, offset + length) (header already read, at least
   * SEALED_HEADER_SIZE + TAG_SIZE octets) to be opened under `key` and `counter`. False when it
   * cannot be queued (larger than the slab, or a flush is handing frames out): the caller then
   * opens it at once.
   */
  add(key: Uint8Array, counter: number, entry: E, link: L, buf: Uint8Array, offset: number, length: number): boolean {
    if (length < SEALED_HEADER_SIZE + TAG_SIZE) return false;
    if (this.count > 0 && this.source !== this.slab && !this.busy) this.flush();
    const at = this.reserve(length);
    if (at < 0) return false;
    copyOctets(buf, offset, this.slab, at, length);
    const i = this.commit(key, counter, at, length - SEALED_HEADER_SIZE, length);
    this.counters[i] = counter;
    this.entries[i] = entry;
    this.links[i] = link;
    return true;
  }

  /**
   * add() without the copy: the frame is opened where it lies, in `buf`, which the caller keeps
   * unchanged until flush() (msnld: the UDP socket's receive slab, flushed at the end of each
   * receive round). Frames from another array than the queued ones flush those first.
   */
  addInPlace(key: Uint8Array, counter: number, entry: E, link: L, buf: Uint8Array, offset: number, length: number): boolean {
    if (length < SEALED_HEADER_SIZE + TAG_SIZE || this.busy) return false;
    if (this.count > 0 && (this.source !== buf || this.count === OPEN_BATCH_ITEMS)) this.flush();
    this.source = buf;
    const i = this.commit(key, counter, offset, length - SEALED_HEADER_SIZE, 0);
    this.counters[i] = counter;
    this.entries[i] = entry;
    this.links[i] = link;
    return true;
  }

  /** Opens every queued frame with one AEAD call and hands them out in order. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.busy) return;
    const { desc, source, entries, links, counters, host } = this;
    host.aead.open(this.keys, source, desc, n);
    this.busy = true;
    host.joining?.(source);
    try {
      for (let i = 0; i < n; i++) {
        const at = i * AEAD_ITEM;
        const entry = entries[i] as E;
        const link = links[i] as L;
        entries[i] = undefined;
        links[i] = undefined;
        const sealed = desc[at + Desc.DATA_LENGTH]!;
        const result = desc[at + Desc.RESULT]!;
        host.opened(entry, link, counters[i]!, source, desc[at + Desc.AD_OFFSET]!, SEALED_HEADER_SIZE + sealed, result !== AEAD_FAILED && result === sealed - TAG_SIZE);
      }
    } finally {
      host.joining?.(null);
      for (let i = 0; i < n; i++) entries[i] = links[i] = undefined;
      this.source = this.slab;
      this.reset();
    }
  }
}
