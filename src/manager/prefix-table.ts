// An immutable longest-prefix-match table, IPv4 address -> value. Built once from a list of
// prefixes and never changed: the daemon builds a new table and swaps the reference (tailscale's
// atomic filter pointer), so the packet path reads it without locks and without SQLite.
//
// Layout. The prefixes are flattened into the sorted, disjoint address ranges they induce (a
// nested prefix punches a hole into its parent), each range tagged with its longest matching entry:
// at most 2N+1 ranges in one interleaved Uint32Array (start, entry) so the final probe and its
// answer share a cache line. A direct index on the top k address bits (k = 8..20, about one range
// per bucket) gives the range holding each bucket's first address, and a binary search inside the
// bucket finishes the lookup. A bucket spans 2^(32-k) addresses, so a lookup costs one index read
// plus at most 32-k probes whatever the number of entries (in practice 0..2). Memory is 8 octets
// per range plus an index of at most 4 MiB; building is one sort and one linear sweep.

import { formatIpv4Prefix, prefixMask, type Ipv4Prefix } from '../abi/inet.js';

export interface PrefixEntry<T> {
  readonly prefix: Ipv4Prefix;
  readonly value: T;
}

const MIN_INDEX_BITS = 8;
const MAX_INDEX_BITS = 20;
/** POW2[k] = 2^k for k = 0..32. */
const POW2 = Float64Array.from({ length: 33 }, (_, k) => 2 ** k);

function validPrefix(prefix: Ipv4Prefix): boolean {
  const { address, length } = prefix;
  return (
    Number.isInteger(length) && length >= 0 && length <= 32 &&
    Number.isInteger(address) && address >= 0 && address <= 0xffffffff &&
    ((address & ~prefixMask(length)) >>> 0) === 0
  );
}

/** Stable LSD radix sort of positions by (address, length): length, then low 16, then high 16 bits. */
function sortPrefixes(addr: Float64Array, len: Uint8Array): Uint32Array {
  const n = addr.length;
  let from = new Uint32Array(n);
  let to = new Uint32Array(n);
  for (let i = 0; i < n; i++) from[i] = i;
  const counts = new Uint32Array(0x10000 + 1);
  const pass = (key: (i: number) => number, buckets: number): void => {
    counts.fill(0, 0, buckets + 1);
    for (let k = 0; k < n; k++) counts[key(from[k]!) + 1]!++;
    for (let b = 0; b < buckets; b++) counts[b + 1]! += counts[b]!;
    for (let k = 0; k < n; k++) {
      const i = from[k]!;
      to[counts[key(i)]!++] = i;
    }
    const swap = from;
    from = to;
    to = swap;
  };
  pass((i) => len[i]!, 33);
  pass((i) => addr[i]! % 0x10000, 0x10000);
  pass((i) => Math.floor(addr[i]! / 0x10000), 0x10000);
  return from;
}

export class PrefixTable<T> {
  /**
   * The ranges, interleaved for locality: ranges[2r] is the first address of range r (ascending,
   * ranges[0] = 0, the ranges cover the whole space) and ranges[2r + 1] is 1 + the entry index of
   * its longest match, 0 when no prefix covers it.
   */
  private readonly ranges: Uint32Array;
  /** index[b]: the range holding address b << shift; index[2^bits]: the last range. */
  private readonly index: Uint32Array;
  private readonly shift: number;
  /** values[i] is entries()[i].value, kept dense so a lookup touches one array. */
  private readonly values: readonly T[];
  private readonly list: readonly PrefixEntry<T>[];

  private constructor(ranges: Uint32Array, index: Uint32Array, shift: number, list: readonly PrefixEntry<T>[]) {
    this.ranges = ranges;
    this.index = index;
    this.shift = shift;
    this.list = list;
    this.values = list.map((entry) => entry.value);
  }

  /**
   * Builds a table. When two entries have the same prefix, the later one wins. Throws RangeError on
   * a malformed prefix (host bits set, length outside 0..32): the store validates rows, so that is
   * a bug in the caller, not input to count and drop.
   */
  static build<T>(entries: Iterable<PrefixEntry<T>>): PrefixTable<T> {
    const kept = dedupeSorted(Array.from(entries));
    const { starts, slots, count } = sweepRanges(kept.addr, kept.len, kept.entries.length);
    const { ranges, index, shift } = indexRanges(starts, slots, count);
    return new PrefixTable(ranges, index, shift, kept.entries);
  }

  /** A table with no entries. */
  static empty<T>(): PrefixTable<T> {
    return PrefixTable.build<T>([]);
  }

  /** Number of distinct prefixes. */
  get size(): number {
    return this.list.length;
  }

  /** Number of address ranges the prefixes induce (for memory accounting). */
  get rangeCount(): number {
    return this.ranges.length >>> 1;
  }

  /** Octets held in typed arrays (the ranges and the index). */
  get byteLength(): number {
    return this.ranges.byteLength + this.index.byteLength;
  }

  /** The distinct entries, sorted by address then length. */
  entries(): readonly PrefixEntry<T>[] {
    return this.list;
  }

  /** Position in entries() of the longest prefix containing `address`, or -1. Does not allocate. */
  lookupIndex(address: number): number {
    const a = address >>> 0;
    const ranges = this.ranges;
    const b = a >>> this.shift;
    let lo = this.index[b]!;
    let hi = this.index[b + 1]!;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (ranges[2 * mid]! <= a) lo = mid;
      else hi = mid - 1;
    }
    return ranges[2 * lo + 1]! - 1;
  }

  /** The value of the longest prefix containing `address`. Does not allocate. */
  lookup(address: number): T | undefined {
    const slot = this.lookupIndex(address);
    return slot < 0 ? undefined : this.values[slot];
  }

  /** The longest matching entry (prefix and value). Does not allocate. */
  lookupEntry(address: number): PrefixEntry<T> | undefined {
    const slot = this.lookupIndex(address);
    return slot < 0 ? undefined : this.list[slot];
  }
}

/**
 * Validates the entries and sorts them by (address, length), keeping the last of each run of equal
 * prefixes; copies them out in sorted order so the sweep reads sequentially. A parent sorts before
 * the prefixes it contains.
 */
function dedupeSorted<T>(input: readonly PrefixEntry<T>[]): { entries: PrefixEntry<T>[]; addr: Float64Array; len: Uint8Array } {
  const n = input.length;
  const addr = new Float64Array(n);
  const len = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const prefix = input[i]!.prefix;
    if (!validPrefix(prefix)) {
      throw new RangeError(`prefix table entry ${i} has a malformed prefix ${formatIpv4Prefix(prefix)} (${prefix.address}/${prefix.length})`);
    }
    addr[i] = prefix.address;
    len[i] = prefix.length;
  }
  const order = sortPrefixes(addr, len);
  const entries: PrefixEntry<T>[] = [];
  const keptAddr = new Float64Array(n);
  const keptLen = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const j = k + 1 < n ? order[k + 1]! : -1;
    if (j >= 0 && addr[j] === addr[i] && len[j] === len[i]) continue;
    keptAddr[entries.length] = addr[i]!;
    keptLen[entries.length] = len[i]!;
    entries.push(input[i]!);
  }
  return { entries, addr: keptAddr, len: keptLen };
}

/**
 * Sweeps the sorted prefixes with a stack of open (enclosing) ones and emits a range whenever the
 * longest match changes: starts[r] is the first address of range r, slots[r] the entry index of its
 * longest match or -1.
 */
function sweepRanges(keptAddr: Float64Array, keptLen: Uint8Array, m: number): { starts: Uint32Array; slots: Int32Array; count: number } {
  const starts = new Uint32Array(2 * m + 1);
  const slots = new Int32Array(2 * m + 1);
  let count = 0;
  const emit = (start: number, slot: number): void => {
    if (count > 0 && slots[count - 1] === slot) return;
    if (count > 0 && starts[count - 1] === start) {
      slots[count - 1] = slot;
      if (count > 1 && slots[count - 2] === slot) count--;
      return;
    }
    starts[count] = start;
    slots[count] = slot;
    count++;
  };
  const stackEnd = new Float64Array(33);
  const stackSlot = new Int32Array(33);
  let depth = 0;
  let cursor = 0; // next address not yet assigned to a range, may reach 2^32
  const closeUntil = (limit: number): void => {
    while (depth > 0 && stackEnd[depth - 1]! < limit) {
      const topEnd = stackEnd[depth - 1]!;
      if (cursor <= topEnd) {
        emit(cursor, stackSlot[depth - 1]!);
        cursor = topEnd + 1;
      }
      depth--;
    }
  };
  for (let k = 0; k < m; k++) {
    const address = keptAddr[k]!;
    const length = keptLen[k]!;
    closeUntil(address);
    if (cursor < address) emit(cursor, depth > 0 ? stackSlot[depth - 1]! : -1);
    cursor = address;
    stackEnd[depth] = address + POW2[32 - length]! - 1;
    stackSlot[depth] = k;
    depth++;
  }
  closeUntil(Infinity);
  if (cursor <= 0xffffffff) emit(cursor, -1);
  return { starts, slots, count };
}

/** Interleaves the ranges and indexes them on the top address bits, about one range per bucket (8..20 bits: 1 KiB..4 MiB). */
function indexRanges(starts: Uint32Array, slots: Int32Array, count: number): { ranges: Uint32Array; index: Uint32Array; shift: number } {
  const bits = Math.min(MAX_INDEX_BITS, Math.max(MIN_INDEX_BITS, Math.ceil(Math.log2(count))));
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const ranges = new Uint32Array(2 * count);
  for (let r = 0; r < count; r++) {
    ranges[2 * r] = starts[r]!;
    ranges[2 * r + 1] = slots[r]! + 1;
  }
  const index = new Uint32Array(buckets + 1);
  const bucketSize = 2 ** shift;
  let r = 0;
  for (let b = 0; b < buckets; b++) {
    const first = b * bucketSize;
    while (r + 1 < count && starts[r + 1]! <= first) r++;
    index[b] = r;
  }
  index[buckets] = count - 1;
  return { ranges, index, shift };
}
