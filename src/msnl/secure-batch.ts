// SealQueue: sealed frames of a burst sealed together, by one AEAD call, instead of one call each.
// add() writes the sealed header and copies the frame into a slab at once (so the caller may reuse
// its buffer) with the key, counter and link the caller chose; flush() seals every queued item
// with one AeadBatch call and hands each datagram to `send` in the order they were added. The
// first add() of a burst schedules a flush (msnld: a microtask, so it runs after the current
// callback, before the UDP socket's own flush); a full slab flushes at once. Octets only: keys,
// counters and every decision stay with the caller (secure.ts). Nothing allocates per frame.

import { copyOctets } from '../abi/bytes.js';
import { AEAD_ITEM, Desc } from '../crypto/aead.js';
import { TAG_SIZE } from '../crypto/primitives.js';
import { AEAD_SLAB_BYTES, AEAD_SLAB_ITEMS, AeadSlab, type AeadSlabHost } from './aead-slab.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from './secure-wire.js';

/** Items per AEAD call at most, and the slab they are packed into. */
export const SEAL_BATCH_ITEMS = AEAD_SLAB_ITEMS;
export const SEAL_BATCH_BYTES = AEAD_SLAB_BYTES;

export interface SealQueueHost<L> extends AeadSlabHost {
  /** Sends one sealed datagram, buf[offset, offset + length); it must consume the octets before it returns. */
  send(link: L, buf: Uint8Array, offset: number, length: number): void;
  /** An item the AEAD refused (never expected: descriptors are built here): counted by the caller. */
  refused(): void;
}

export class SealQueue<L> extends AeadSlab {
  private readonly links: (L | undefined)[] = new Array<L | undefined>(SEAL_BATCH_ITEMS).fill(undefined);

  constructor(private readonly host: SealQueueHost<L>) {
    super(host);
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
    const at = this.reserve(size);
    if (at < 0) return false;
    writeSealedHeader(this.slab, at, receiver, counter);
    if (head !== null) this.slab.set(head, at + SEALED_HEADER_SIZE);
    copyOctets(buf, offset, this.slab, at + SEALED_HEADER_SIZE + headLength, length);
    this.links[this.commit(key, counter, at, frameLength, size)] = link;
    return true;
  }

  /** Seals every queued item with one AEAD call and sends them in order. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.busy) return;
    const { desc, slab, links, host } = this;
    host.aead.seal(this.keys, slab, desc, n);
    this.busy = true;
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
      for (let i = 0; i < n; i++) links[i] = undefined;
      this.reset();
    }
  }
}
