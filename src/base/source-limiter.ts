// Token buckets per source, in bounded memory: work a source may cause (here, connect requests
// reaching the manager) is limited before any state is made for it. Sources are compared as map
// keys, so the underlays hand out one canonical link object per underlay endpoint. When the table
// is full, the oldest sources are forgotten, so a flood from forged sources costs a bounded table
// and the global bucket behind it, never unbounded memory.

import { TokenBucket } from './token-bucket.js';

export class SourceLimiter<K> {
  /** The sources seen lately, and those seen in the generation before (looked up second, moved
   *  to `buckets` when seen again). When `buckets` reaches half the limit the older generation is
   *  dropped whole: O(1) per source, where evicting the oldest one at a time from one Map costs a
   *  walk over the holes its deletions leave (V8 skips them on every `keys().next()`), several
   *  microseconds per new source once thousands are flooding in. */
  private buckets = new Map<K, TokenBucket>();
  private older = new Map<K, TokenBucket>();
  private readonly total: TokenBucket;
  private readonly generation: number;

  /**
   * @param perSource sustained rate and burst allowed to one source
   * @param overall sustained rate and burst allowed to all sources together
   * @param maxSources how many sources are remembered at once (at least the newest half of them)
   */
  constructor(
    private readonly perSource: { readonly ratePerSecond: number; readonly burst: number },
    overall: { readonly ratePerSecond: number; readonly burst: number },
    maxSources: number,
    private readonly now: () => number,
  ) {
    this.total = new TokenBucket(overall.ratePerSecond, overall.burst, now);
    this.generation = Math.max(1, Math.floor(maxSources / 2));
  }

  /** Takes one token for `source` (and one from the overall bucket); false: drop and count. */
  allow(source: K): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      bucket = this.older.get(source);
      if (bucket !== undefined) this.older.delete(source);
      else bucket = new TokenBucket(this.perSource.ratePerSecond, this.perSource.burst, this.now);
      if (this.buckets.size >= this.generation) {
        this.older = this.buckets;
        this.buckets = new Map();
      }
      this.buckets.set(source, bucket);
    }
    return bucket.take() && this.total.take();
  }

  /** How many sources are remembered (for tests and status). */
  get size(): number {
    return this.buckets.size + this.older.size;
  }
}
