// Token buckets per source, in bounded memory: work a source may cause (here, connect requests
// reaching the manager) is limited before any state is made for it. Sources are compared as map
// keys, so the underlays hand out one canonical link object per underlay endpoint. When the table
// is full, the oldest source is forgotten, so a flood from forged sources costs a bounded table
// and the global bucket behind it, never unbounded memory.

import { TokenBucket } from './token-bucket.js';

export class SourceLimiter<K> {
  private readonly buckets = new Map<K, TokenBucket>();
  private readonly total: TokenBucket;

  /**
   * @param perSource sustained rate and burst allowed to one source
   * @param overall sustained rate and burst allowed to all sources together
   * @param maxSources how many sources are remembered at once
   */
  constructor(
    private readonly perSource: { readonly ratePerSecond: number; readonly burst: number },
    overall: { readonly ratePerSecond: number; readonly burst: number },
    private readonly maxSources: number,
    private readonly now: () => number,
  ) {
    this.total = new TokenBucket(overall.ratePerSecond, overall.burst, now);
  }

  /** Takes one token for `source` (and one from the overall bucket); false: drop and count. */
  allow(source: K): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      bucket = new TokenBucket(this.perSource.ratePerSecond, this.perSource.burst, this.now);
      this.buckets.set(source, bucket);
    }
    return bucket.take() && this.total.take();
  }

  /** How many sources are remembered (for tests and status). */
  get size(): number {
    return this.buckets.size;
  }
}
