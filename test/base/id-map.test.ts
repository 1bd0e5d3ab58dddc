import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdMap } from '../../src/base/id-map.js';

test('IdMap: an id above 2^31 and its signed 32-bit form are one key, whichever form stores or looks up', () => {
  const m = new IdMap<string>();
  m.set(0xfffffffe, 'a');
  assert.equal(m.get(-2), 'a');
  assert.equal(m.get(0xfffffffe), 'a');
  assert.ok(m.has(-2));
  m.set(-2, 'b');
  assert.equal(m.size, 1);
  assert.equal(m.get(0xfffffffe), 'b');
  m.set(7, 'c');
  assert.deepEqual([...m.values()].sort(), ['b', 'c']);
  assert.deepEqual([...m.entries()].map(([k]) => k).sort((x, y) => x - y), [-2, 7]);
  assert.equal(m.delete(0xfffffffe), true);
  assert.equal(m.delete(-2), false);
  assert.equal(m.get(0xfffffffe), undefined);
  assert.equal(m.size, 1);
});

test('IdMap: deleting while iterating its entries visits each remaining entry once', () => {
  const m = new IdMap<number>();
  for (let i = 0; i < 10; i++) m.set(0x80000000 + i, i);
  const seen: number[] = [];
  for (const [id, v] of m.entries()) {
    seen.push(v);
    if (v % 2 === 0) m.delete(id);
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...m.values()], [1, 3, 5, 7, 9]);
});
