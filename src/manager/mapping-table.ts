// The mapping table: IPv4 prefix -> MSNL address, longest prefix first, changed in place one entry
// at a time. Where PrefixTable (routes) is rebuilt whole on every change, this one takes a one-row
// edit in O(1), so a `map add` next to a million mappings costs what it costs next to ten.
//
// Layout. One open-addressing hash table over (network, length) in four typed arrays (linear
// probing, backward-shift deletion, so no tombstones): 10 octets a slot, at most 0.7 full, about
// 20 MiB for 1 000 000 entries and no JavaScript object per entry. A lookup probes the lengths that
// are present, longest first (a count per length keeps that list), usually one to three of them.
// Pure: no I/O, no clock. Marks support a mark-and-sweep full re-read (Reconciler): every set()
// during marking marks its entry, and the unmarked ones are those the re-read did not see.

import { prefixMask } from '../abi/inet.js';

const EMPTY = 0xff;
const MIN_BITS = 4;
const MAX_LOAD = 0.7;
const MASK = Uint32Array.from({ length: 33 }, (_, length) => prefixMask(length) >>> 0);

function slotOf(network: number, length: number, bits: number): number {
  return Math.imul((network ^ Math.imul(length + 1, 0x27d4eb2d)) | 0, 0x9e3779b1) >>> (32 - bits);
}

export class MappingTable {
  private bits = MIN_BITS;
  private networks = new Uint32Array(1 << MIN_BITS);
  private lengths = new Uint8Array(1 << MIN_BITS).fill(EMPTY);
  private values = new Uint32Array(1 << MIN_BITS);
  private marks = new Uint8Array(1 << MIN_BITS);
  private count = 0;
  private marking = false;
  /** The current marking round: a slot is marked when marks[slot] === epoch (no clearing per round). */
  private epoch = 0;
  /** Entries per prefix length, and the lengths present, longest first. */
  private readonly perLength = new Uint32Array(33);
  private order = new Uint8Array(0);

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Octets held in the typed arrays. */
  get byteLength(): number {
    return this.networks.byteLength + this.lengths.byteLength + this.values.byteLength + this.marks.byteLength;
  }

  /** MSNL address of the longest prefix containing `address`, or undefined. Does not allocate. */
  lookup(address: number): number | undefined {
    const a = address >>> 0;
    const order = this.order;
    const mask = this.networks.length - 1;
    for (let i = 0; i < order.length; i++) {
      const length = order[i]!;
      const network = (a & MASK[length]!) >>> 0;
      for (let slot = slotOf(network, length, this.bits); ; slot = (slot + 1) & mask) {
        const l = this.lengths[slot]!;
        if (l === EMPTY) break;
        if (l === length && this.networks[slot] === network) return this.values[slot];
      }
    }
    return undefined;
  }

  /** The value stored for exactly this prefix, or undefined. */
  get(network: number, length: number): number | undefined {
    const slot = this.find(network >>> 0, length);
    return slot < 0 ? undefined : this.values[slot];
  }

  /** Adds or replaces one entry (marked when a sweep is under way). The prefix must be valid. */
  set(network: number, length: number, value: number): void {
    const n = network >>> 0;
    if (!Number.isInteger(length) || length < 0 || length > 32 || ((n & ~MASK[length]!) >>> 0) !== 0) {
      throw new RangeError(`mapping table entry ${n}/${length} is not a valid prefix`);
    }
    let slot = this.find(n, length);
    if (slot < 0) {
      if ((this.count + 1) > this.networks.length * MAX_LOAD) this.resize(this.bits + 1);
      const mask = this.networks.length - 1;
      slot = slotOf(n, length, this.bits);
      while (this.lengths[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.networks[slot] = n;
      this.lengths[slot] = length;
      this.count++;
      if (this.perLength[length]!++ === 0) this.reorder();
    }
    this.values[slot] = value >>> 0;
    this.marks[slot] = this.marking ? this.epoch : 0;
  }

  /** Removes one entry; false when there was none. */
  delete(network: number, length: number): boolean {
    let hole = this.find(network >>> 0, length);
    if (hole < 0) return false;
    const mask = this.networks.length - 1;
    // Backward shift: pull later members of the probe run into the hole unless they would move
    // before their home slot.
    for (let j = (hole + 1) & mask; this.lengths[j] !== EMPTY; j = (j + 1) & mask) {
      const home = slotOf(this.networks[j]!, this.lengths[j]!, this.bits);
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      this.networks[hole] = this.networks[j]!;
      this.lengths[hole] = this.lengths[j]!;
      this.values[hole] = this.values[j]!;
      this.marks[hole] = this.marks[j]!;
      hole = j;
    }
    this.lengths[hole] = EMPTY;
    this.count--;
    if (--this.perLength[length]! === 0) this.reorder();
    this.shrinkIfSparse();
    return true;
  }

  /** Removes every entry and gives the memory back. */
  clear(): void {
    this.allocate(MIN_BITS);
    this.count = 0;
    this.perLength.fill(0);
    this.order = new Uint8Array(0);
  }

  /** Makes room for `entries` entries at once, so filling the table never rehashes on the way. */
  reserve(entries: number): void {
    let bits = this.bits;
    while (entries > (1 << bits) * MAX_LOAD && bits < 31) bits++;
    if (bits > this.bits) this.resize(bits);
  }

  /** Starts a mark-and-sweep: from now on set() marks what it touches. */
  startMarking(): void {
    if (++this.epoch > 255) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    this.marking = true;
  }

  /** Number of slots, for sweeping in ranges. */
  get slots(): number {
    return this.lengths.length;
  }

  /**
   * Appends the entries in slots [from, to) that no set() touched since startMarking (they are not
   * removed). Call over every range before deleting any of them: a delete moves entries between
   * slots. The table must not change between the calls (the caller may yield in between).
   */
  collectUnmarked(from: number, to: number, into: { networks: number[]; lengths: number[] }): void {
    const end = Math.min(to, this.lengths.length);
    for (let slot = Math.max(0, from); slot < end; slot++) {
      const length = this.lengths[slot]!;
      if (length === EMPTY || this.marks[slot] === this.epoch) continue;
      into.networks.push(this.networks[slot]!);
      into.lengths.push(length);
    }
  }

  /** Ends marking: set() no longer marks. */
  stopMarking(): void {
    this.marking = false;
  }

  /** Every entry, in no particular order (tests, dumps). */
  *entries(): IterableIterator<{ network: number; length: number; value: number }> {
    for (let slot = 0; slot < this.lengths.length; slot++) {
      const length = this.lengths[slot]!;
      if (length !== EMPTY) yield { network: this.networks[slot]!, length, value: this.values[slot]! };
    }
  }

  private find(network: number, length: number): number {
    const mask = this.networks.length - 1;
    for (let slot = slotOf(network, length, this.bits); ; slot = (slot + 1) & mask) {
      const l = this.lengths[slot]!;
      if (l === EMPTY) return -1;
      if (l === length && this.networks[slot] === network) return slot;
    }
  }

  private reorder(): void {
    const present: number[] = [];
    for (let length = 32; length >= 0; length--) if (this.perLength[length]! > 0) present.push(length);
    this.order = Uint8Array.from(present);
  }

  private shrinkIfSparse(): void {
    if (this.bits > MIN_BITS && this.count < (1 << this.bits) * MAX_LOAD * 0.125) this.resize(this.bits - 1);
  }

  private allocate(bits: number): void {
    this.bits = bits;
    this.networks = new Uint32Array(1 << bits);
    this.lengths = new Uint8Array(1 << bits).fill(EMPTY);
    this.values = new Uint32Array(1 << bits);
    this.marks = new Uint8Array(1 << bits);
  }

  private resize(bits: number): void {
    const { networks, lengths, values, marks } = this;
    this.allocate(bits);
    const mask = this.networks.length - 1;
    for (let old = 0; old < lengths.length; old++) {
      const length = lengths[old]!;
      if (length === EMPTY) continue;
      let slot = slotOf(networks[old]!, length, bits);
      while (this.lengths[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.networks[slot] = networks[old]!;
      this.lengths[slot] = length;
      this.values[slot] = values[old]!;
      this.marks[slot] = marks[old]!;
    }
  }
}
