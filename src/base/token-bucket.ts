// A token bucket with an injected clock: rate-limits ICMP errors written back into a TUN, resets
// answering unknown connections and connect requests per source, so a flood of bad traffic cannot
// become a flood of replies or of state.

export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param ratePerSecond tokens added per second
   * @param burst the most tokens the bucket holds
   * @param now the clock, in milliseconds
   */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token if there is one; false means the event must be dropped (and counted). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When (on the clock) the bucket next holds a whole token: now when it holds one already. */
  nextTokenAt(): number {
    const t = this.now();
    const tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    return tokens >= 1 ? t : t + Math.ceil(((1 - tokens) * 1000) / this.ratePerSecond);
  }
}
