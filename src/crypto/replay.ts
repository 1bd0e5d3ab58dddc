// The receive side's sliding replay window over 64-bit frame counters, as RFC 6479 describes it:
// a ring of 32-bit blocks; moving the window forward clears whole blocks, so both the check and
// the update are O(1) with no shifting. A counter is accepted once, and only while it is within
// REPLAY_WINDOW of the highest counter accepted. Counters are JS numbers (exact below 2^53; the
// session stops using a key long before). Check first, authenticate, then accept: a frame that
// fails authentication never moves the window.

const BLOCK_BITS = 32;
const RING_BLOCKS = 128;
const BLOCK_MASK = RING_BLOCKS - 1;

/** Frames this far behind the newest accepted one are still accepted once (4064). */
export const REPLAY_WINDOW = (RING_BLOCKS - 1) * BLOCK_BITS;

export class ReplayWindow {
  private readonly ring = new Uint32Array(RING_BLOCKS);
  /** The highest counter accepted so far (0 before any). */
  private last = 0;

  /** True when `counter` has not been seen and is not too old (does not record it). */
  check(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    if (counter > this.last) return true;
    if (this.last - counter > REPLAY_WINDOW) return false;
    const block = Math.floor(counter / BLOCK_BITS) & BLOCK_MASK;
    return (this.ring[block]! & (1 << counter % BLOCK_BITS)) === 0;
  }

  /** Records `counter` (after authentication); false when it was a replay or too old after all. */
  accept(counter: number): boolean {
    if (!this.check(counter)) return false;
    const index = Math.floor(counter / BLOCK_BITS);
    if (counter > this.last) {
      const current = Math.floor(this.last / BLOCK_BITS);
      const diff = Math.min(index - current, RING_BLOCKS);
      for (let i = 1; i <= diff; i++) this.ring[(current + i) & BLOCK_MASK] = 0;
      this.last = counter;
    }
    this.ring[index & BLOCK_MASK]! |= 1 << counter % BLOCK_BITS;
    return true;
  }

  /** The highest counter accepted. */
  get highest(): number {
    return this.last;
  }
}
