import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ascendingKeys, type KeyScan } from '../../src/base/ascending.js';

const scanOf = (keys: Iterable<number>): KeyScan => (visit) => {
  for (const key of keys) visit(key);
};

/** A repeatable pseudo-random u32 sequence (xorshift32). */
function randomKeys(count: number, seed: number): number[] {
  const keys = new Set<number>();
  let x = seed >>> 0 || 1;
  while (keys.size < count) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys.add(x >>> 0);
  }
  return [...keys];
}

test('ascendingKeys yields every key once, in order, for any batch size', () => {
  for (const [count, batch] of [[0, 4], [1, 1], [7, 3], [8, 4], [9, 4], [1000, 1], [5000, 64], [5000, 5000], [5000, 9000]] as const) {
    const keys = randomKeys(count, count * 31 + batch);
    const got = [...ascendingKeys(scanOf(keys), batch)];
    assert.deepEqual(got, [...keys].sort((a, b) => a - b), `count ${count} batch ${batch}`);
  }
});

test('ascendingKeys scans once per batch and keeps at most two batches of keys', () => {
  const keys = randomKeys(10_000, 7);
  let scans = 0;
  let visits = 0;
  const scan: KeyScan = (visit) => {
    scans++;
    for (const key of keys) {
      visits++;
      visit(key);
    }
  };
  assert.equal([...ascendingKeys(scan, 1000)].length, 10_000);
  assert.equal(scans, 11, 'ten full batches and one empty scan');
  assert.equal(visits, 110_000);
});

test('ascendingKeys over a collection that changes between batches: ascending, no repeats, new keys above it seen', () => {
  const live = new Set(randomKeys(3000, 99));
  const removedEarly = [...live].sort((a, b) => a - b)[2500]!;
  const added = Math.max(...live) + 1;
  const got: number[] = [];
  for (const key of ascendingKeys(scanOf(live), 100)) {
    got.push(key);
    if (got.length === 150) {
      live.delete(removedEarly); // gone before its batch: never yielded
      live.add(added); // above the batch being yielded: seen in order
      live.add(0); // below it: not yielded (already passed)
    }
  }
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, `ascending at ${i}`);
  assert.equal(new Set(got).size, got.length);
  assert.ok(!got.includes(removedEarly));
  assert.ok(!got.includes(0));
  assert.equal(got[got.length - 1], added);
  assert.equal(got.length, 3000, 'one removed, one added above the cursor');
});
