// Longest-prefix lookups with a large random table: the generator and the timing loop shared by
// bench/prefix-table.ts (the detailed script) and the msnl benchmark (one figure).
import { prefixMask } from '../src/abi/inet.js';
import { PrefixTable, type PrefixEntry } from '../src/manager/prefix-table.js';
import { seededRandom } from '../src/base/random.js';

/** A fixed, seedable sequence (src/msnl/random.ts) so every run looks up the same prefixes. */
export function rng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.u32();
}

/** Random prefixes with lengths 8..32, weighted like a routing table (half of them /24..32), plus 0/0. */
export function randomEntries(count: number, next: () => number): PrefixEntry<number>[] {
  const entries: PrefixEntry<number>[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = next() % 2 === 0 ? 24 + (next() % 9) : 8 + (next() % 17);
    entries[i] = { prefix: { address: (next() & prefixMask(length)) >>> 0, length }, value: i };
  }
  entries.push({ prefix: { address: 0, length: 0 }, value: -1 });
  return entries;
}

/** Runs `round` (which looks up every probe once) `rounds` times; lookups per second. */
export function rate(rounds: number, probes: number, round: () => number): { rate: number; check: number } {
  const start = process.hrtime.bigint();
  let check = 0;
  for (let r = 0; r < rounds; r++) check = (check + round()) | 0;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { rate: (rounds * probes) / seconds, check };
}

export interface LookupFigures {
  readonly buildMs: number;
  /** One rate per timed round (each round looks up 2^20 addresses). */
  readonly lookupsPerSecond: number[];
  readonly distinct: number;
}

/** Builds a table of `count` random prefixes and times lookups of 2^20 random addresses. */
export function measurePrefixLookups(count: number, rounds = 4): LookupFigures {
  const next = rng(0x5eed);
  const entries = randomEntries(count, next);
  const t0 = process.hrtime.bigint();
  const table = PrefixTable.build(entries);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const probes = new Uint32Array(1 << 20);
  for (let i = 0; i < probes.length; i++) probes[i] = next();
  const round = (): number => {
    let check = 0;
    for (let i = 0; i < probes.length; i++) check = (check + (table.lookup(probes[i]!) ?? 0)) | 0;
    return check;
  };
  rate(1, probes.length, round); // warm up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) rates.push(rate(1, probes.length, round).rate);
  return { buildMs, lookupsPerSecond: rates, distinct: table.size };
}
