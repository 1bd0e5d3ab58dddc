// Random sources for the pure core. The endpoint takes one by injection so tests are repeatable;
// the daemon passes cryptoRandom() so transaction and connection ids are hard to guess.

import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
}

/** A deterministic generator (mulberry32) for tests and the in-memory links. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    u32(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
  };
}

/** A uniform float in [0, 1) from a random source. */
export function randomUnit(random: RandomSource): number {
  return random.u32() / 0x100000000;
}

/** Random numbers from the operating system, drawn 256 at a time: the first 256 when it is made,
 *  so a daemon's first call (a transaction and a connection id) does not wait for the draw. */
export function cryptoRandom(): RandomSource {
  const pool = randomFillSync(new Uint32Array(256));
  let next = 0;
  return {
    u32(): number {
      if (next === pool.length) {
        randomFillSync(pool);
        next = 0;
      }
      return pool[next++]!;
    },
  };
}
