// AeadSlab: what SealQueue (secure-batch.ts) and OpenQueue (secure-open.ts) share: a slab the
// frames of one burst are packed into, the descriptor table and key table one AeadBatch call
// reads, the schedule of one flush per burst, and the reset after it. The subclasses say what
// goes into an item and what happens to it after the AEAD call. Nothing allocates per frame.

import { AEAD_FRONT, AEAD_ITEM, describe, type AeadBatch } from '../crypto/aead.js';
import { KEY_SIZE } from '../crypto/primitives.js';
import { SEALED_HEADER_SIZE } from './secure-wire.js';

/** Items per AEAD call at most, and the slab they are packed into. */
export const AEAD_SLAB_ITEMS = 256;
export const AEAD_SLAB_BYTES = 512 * 1024;
/** Where the first item starts: its data AEAD_FRONT octets into the slab (one ChaCha20 call each). */
const FIRST = AEAD_FRONT - SEALED_HEADER_SIZE;

export interface AeadSlabHost {
  readonly aead: AeadBatch;
  /** Runs `flush` once the current burst is over (msnld: queueMicrotask). */
  schedule(flush: () => void): void;
}

export abstract class AeadSlab {
  protected readonly keys = new Uint8Array(AEAD_SLAB_ITEMS * KEY_SIZE);
  protected readonly slab = new Uint8Array(AEAD_SLAB_BYTES);
  protected readonly desc = new Uint32Array(AEAD_SLAB_ITEMS * AEAD_ITEM);
  protected count = 0;
  /** True while flush() hands items out: an add() then is refused, not queued behind them. */
  protected busy = false;
  private used = FIRST;
  /** The key of the last item and where it sits in `keys` (a burst mostly keeps one key). */
  private lastKey: Uint8Array | null = null;
  private lastKeyAt = 0;
  private keysUsed = 0;
  private scheduled = false;
  private readonly task = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly slabHost: AeadSlabHost) {}

  /** Items waiting for flush(). */
  get pending(): number {
    return this.count;
  }

  /** Whether flush() is handing items out now (an add() then must not be queued behind them). */
  get flushing(): boolean {
    return this.busy;
  }

  /** Hands every queued item to the AEAD and then out, in order. */
  abstract flush(): void;

  /**
   * Room for an item of `size` octets (sealed header, frame and tag), flushing first when the
   * slab or the table is full: where it starts in the slab, or -1 when it fits no batch or a flush
   * is handing items out (the caller then does it at once).
   */
  protected reserve(size: number): number {
    if (FIRST + size > this.slab.length || this.busy) return -1;
    if (this.count === AEAD_SLAB_ITEMS || this.used + size > this.slab.length) this.flush();
    return this.used;
  }

  /**
   * Describes the item reserved at `at` (its data `dataLength` octets after the sealed header,
   * under `key` and `counter`), takes its `size` octets and schedules the flush of this burst.
   * Returns the item's index (for the subclass's own tables).
   */
  protected commit(key: Uint8Array, counter: number, at: number, dataLength: number, size: number): number {
    if (key !== this.lastKey) {
      this.lastKeyAt = this.keysUsed;
      this.keys.set(key, this.keysUsed);
      this.keysUsed += KEY_SIZE;
      this.lastKey = key;
    }
    describe(this.desc, this.count, this.lastKeyAt, counter, at, SEALED_HEADER_SIZE, at + SEALED_HEADER_SIZE, dataLength);
    this.used += size;
    if (!this.scheduled) {
      this.scheduled = true;
      this.slabHost.schedule(this.task);
    }
    return this.count++;
  }

  /** After a flush: the keys wiped, the slab and tables empty. */
  protected reset(): void {
    this.busy = false;
    this.keys.fill(0, 0, this.keysUsed);
    this.count = this.keysUsed = 0;
    this.used = FIRST;
    this.lastKey = null;
  }
}
