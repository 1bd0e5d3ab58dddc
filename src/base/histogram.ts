// A fixed-bucket histogram of observations (Prometheus' cumulative `le` buckets are derived when
// rendered). Pure and allocation-free per observation.

export class Histogram {
  /** Observations per bucket: counts[i] holds those <= bounds[i] and > bounds[i-1]; the last, the rest. */
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) throw new Error('histogram bounds must increase');
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts, one per bound then +Inf (Prometheus `le` buckets). */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (const n of this.counts) out.push((total += n));
    return out;
  }
}
