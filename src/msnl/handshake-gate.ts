// The two limits in front of the handshake's Diffie-Hellman work: the load meter (above
// handshakeLoadPerSecond initiations a second, an initiation needs a valid cookie) and a token
// bucket per underlay source. Both tables are bounded. Pure: the caller passes the clock reading.

import type { EndpointConfig } from './types.js';

const MAX_SOURCES = 4096;

export class HandshakeGate {
  private windowAt = -Infinity;
  private count = 0;
  private readonly sources = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly config: Pick<EndpointConfig, 'handshakeLoadPerSecond' | 'handshakeRatePerSecond' | 'handshakeBurst'>) {}

  /** Counts one initiation with a valid mac1; true when this second has seen more than the limit. */
  underLoad(now: number): boolean {
    if (now - this.windowAt >= 1000) {
      this.windowAt = now;
      this.count = 0;
    }
    return ++this.count > this.config.handshakeLoadPerSecond;
  }

  /** Takes a token from `source`'s bucket; false when it has none. */
  allow(source: string, now: number): boolean {
    const { handshakeRatePerSecond: rate, handshakeBurst: burst } = this.config;
    let bucket = this.sources.get(source);
    if (bucket === undefined) {
      if (this.sources.size >= MAX_SOURCES) {
        for (const [k, b] of this.sources) if (now - b.at >= (burst * 1000) / rate) this.sources.delete(k);
        if (this.sources.size >= MAX_SOURCES) this.sources.clear();
      }
      bucket = { tokens: burst, at: now };
      this.sources.set(source, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.sources.size;
  }
}
