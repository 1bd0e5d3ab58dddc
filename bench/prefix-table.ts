// Benchmark of the immutable longest-prefix table: build time, lookups/s and heap with 1 000 000
// random prefixes, against a naive Map-per-length baseline (up to 33 Map probes per lookup).
// Run: npx tsc -p tsconfig.json && node dist/bench/prefix-table.js [prefix-count]
import { prefixMask } from '../src/abi/inet.js';
import { PrefixTable } from '../src/manager/prefix-table.js';
import { randomEntries, rate as rateOf, rng } from './lookups.js';

const count = Number(process.argv[2] ?? 1_000_000);
const next = rng(0x5eed);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const gc = (globalThis as { gc?: () => void }).gc;

const entries = randomEntries(count, next);

gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const external = process.memoryUsage().arrayBuffers;
let t0 = process.hrtime.bigint();
const table = PrefixTable.build(entries);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
gc?.();
const heapAfter = process.memoryUsage().heapUsed;

const probes = new Uint32Array(1 << 20);
for (let i = 0; i < probes.length; i++) probes[i] = next();

// One loop per implementation, so each call site stays monomorphic.
const rate = (rounds: number, run: () => number): { rate: number; check: number } => rateOf(rounds, probes.length, run);
const tableRound = (): number => {
  let check = 0;
  for (let i = 0; i < probes.length; i++) check = (check + (table.lookup(probes[i]!) ?? 0)) | 0;
  return check;
};
const indexRound = (): number => {
  let check = 0;
  for (let i = 0; i < probes.length; i++) check = (check + table.lookupIndex(probes[i]!)) | 0;
  return check;
};
rate(1, tableRound); // warm up
rate(1, indexRound);
const fast = rate(8, tableRound);
const fastIndex = rate(8, indexRound);

// Naive baseline: one Map per prefix length, probed from /32 down to /0.
t0 = process.hrtime.bigint();
const maps: Map<number, number>[] = Array.from({ length: 33 }, () => new Map());
for (const { prefix, value } of entries) maps[prefix.length]!.set(prefix.address, value);
const naiveBuildMs = Number(process.hrtime.bigint() - t0) / 1e6;
const masks = Array.from({ length: 33 }, (_, l) => prefixMask(l));
const naive = (a: number): number | undefined => {
  for (let l = 32; l >= 0; l--) {
    const v = maps[l]!.get((a & masks[l]!) >>> 0);
    if (v !== undefined) return v;
  }
  return undefined;
};
const naiveRound = (): number => {
  let check = 0;
  for (let i = 0; i < probes.length; i++) check = (check + (naive(probes[i]!) ?? 0)) | 0;
  return check;
};
rate(1, naiveRound);
const slow = rate(2, naiveRound);
let disagreements = 0;
for (let i = 0; i < 100_000; i++) if (naive(probes[i]!) !== table.lookup(probes[i]!)) disagreements++;

console.log(`prefixes:          ${count + 1} given, ${table.size} distinct, ${table.rangeCount} ranges`);
console.log(`build:             ${buildMs.toFixed(0)} ms`);
console.log(`heap of the table: ${mb(heapAfter - heapBefore)} on the JS heap + ${mb(table.byteLength)} typed arrays${gc ? "" : " (run with --expose-gc for an exact figure)"}`);
console.log(`heap used total:   ${mb(process.memoryUsage().heapUsed)}, rss ${mb(process.memoryUsage().rss)}`);
console.log(`lookups/s:         ${(fast.rate / 1e6).toFixed(1)} M`);
console.log(`lookupIndex/s:     ${(fastIndex.rate / 1e6).toFixed(1)} M (entry position only)`);
console.log(`naive Map/length:  ${(slow.rate / 1e6).toFixed(1)} M lookups/s, build ${naiveBuildMs.toFixed(0)} ms`);
console.log(`ratio:             ${(fast.rate / slow.rate).toFixed(1)}x`);
console.log(`disagreements:     ${disagreements} of 100000`);
if (disagreements !== 0) process.exitCode = 1;
