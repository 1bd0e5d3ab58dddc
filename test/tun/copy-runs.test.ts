// The addon's copyRuns (src/tun/native/copy-runs.cc), which the reassembler joins opened segments
// with: the same octets as copying each run in JavaScript, for random runs; then random and
// hostile arguments (negative or huge fields, ranges past either array, counts past the table,
// fractions, wrong types): -1 or a TypeError, nothing copied, never a write outside `dst`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();
const copyRuns = addon.copyRuns!;

function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
}

test('copyRuns copies every run as a JavaScript copy of each would (seeded random, 2 000 tables)', () => {
  assert.equal(typeof copyRuns, 'function');
  const rand = seeded(0xc0ffee);
  const src = new Uint8Array(70_000);
  for (let i = 0; i < src.length; i++) src[i] = (i * 7 + (i >> 8)) & 0xff;
  for (let t = 0; t < 2_000; t++) {
    const dstSize = 1 + rand(66_000);
    const got = new Uint8Array(dstSize).fill(0x11);
    const want = got.slice();
    const count = rand(65);
    const runs = new Int32Array(3 * count + 3 * rand(3));
    for (let i = 0; i < count; i++) {
      const length = rand(Math.min(2_000, dstSize) + 1);
      const from = rand(src.length - length + 1);
      const to = rand(dstSize - length + 1);
      runs.set([from, to, length], 3 * i);
      want.set(src.subarray(from, from + length), to);
    }
    assert.equal(copyRuns(src, got, runs, count), count);
    assert.deepEqual(got, want, `table ${t}`);
  }
});

test('copyRuns refuses hostile runs and counts with -1 or a TypeError, copying nothing and writing nowhere else (seeded random, 20 000 tables)', () => {
  const rand = seeded(0xbad5eed);
  const whole = new Uint8Array(9_000);
  const src = new Uint8Array(3_000).fill(0x77);
  const edges = [0, 1, 2_999, 3_000, 3_001, 4_095, 4_096, 4_097, 0x7fffffff, -1, -2_147_483_648, 65_535, 65_536];
  const field = (): number => (rand(3) === 0 ? edges[rand(edges.length)]! : rand(5_000));
  for (let t = 0; t < 20_000; t++) {
    whole.fill(0x33);
    // dst is whole[2048, 6144): octets on either side must never change.
    const dst = whole.subarray(2_048, 6_144);
    const count = 1 + rand(4);
    const runs = new Int32Array(3 * count);
    for (let i = 0; i < runs.length; i++) runs[i] = field();
    let valid = true;
    for (let i = 0; i < count; i++) {
      const [from, to, length] = [runs[3 * i]!, runs[3 * i + 1]!, runs[3 * i + 2]!];
      if (from < 0 || to < 0 || length < 0 || from + length > src.length || to + length > dst.length) valid = false;
    }
    const r = copyRuns(src, dst, runs, count);
    assert.ok(whole.subarray(0, 2_048).every((b) => b === 0x33) && whole.subarray(6_144).every((b) => b === 0x33), `table ${t}: a write outside dst`);
    if (valid) assert.equal(r, count);
    else {
      assert.equal(r, -1, `table ${t}: ${Array.from(runs).join(',')}`);
      assert.ok(dst.every((b) => b === 0x33), `table ${t}: copied although refused`);
    }
  }
  const runs = new Int32Array([0, 0, 10]);
  for (const count of [-1, 2, 1.5, NaN, Infinity, 2 ** 53]) assert.equal(copyRuns(src, whole, runs, count), -1, `count ${count}`);
  const hostile: unknown[][] = [[], [src], [src, whole, new Uint32Array(3), 1], [src, whole, runs, '1'], [null, whole, runs, 1], [src, {}, runs, 1], [[1, 2], whole, runs, 1]];
  for (const args of hostile) assert.throws(() => (copyRuns as (...a: unknown[]) => number)(...args), TypeError);
  assert.equal(copyRuns(src, whole, runs, 0), 0);
});
