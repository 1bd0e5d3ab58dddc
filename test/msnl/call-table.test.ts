import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallTable } from '../../src/msnl/call-table.js';
import { seededRandom } from '../../src/base/random.js';

const name = (k: readonly number[]): string => k.join(':');

test('CallTable answers as a Map keyed by the four numbers, also when keys share the first', () => {
  const random = seededRandom(7);
  const table = new CallTable<number>();
  const reference = new Map<string, number>();
  // Few first numbers, so many keys share one; the other three from small ranges too.
  const key = (): [number, number, number, number] => [random.u32() % 5, random.u32() % 3, random.u32() % 3, random.u32() % 2];
  for (let i = 0; i < 5000; i++) {
    const k = key();
    const op = random.u32() % 3;
    if (op === 0) {
      table.set(k[0], k[1], k[2], k[3], i);
      reference.set(name(k), i);
    } else if (op === 1) assert.equal(table.delete(...k), reference.delete(name(k)), `delete ${name(k)} at ${i}`);
    const probe = key();
    assert.equal(table.get(...probe), reference.get(name(probe)), `get ${name(probe)} at ${i}`);
    assert.equal(table.has(...probe), reference.has(name(probe)));
    assert.equal(table.size, reference.size);
  }
  assert.deepEqual([...table.values()].sort((a, b) => a - b), [...reference.values()].sort((a, b) => a - b));
});

test('CallTable expires from its head: set makes an entry the newest; expiry stops at the first one not due', () => {
  const table = new CallTable<number>();
  table.set(1, 10, 100, 0, 5); // until 5
  table.set(2, 20, 200, 0, 6);
  table.set(3, 30, 300, 0, 7);
  table.set(1, 10, 100, 0, 8); // set again: now the newest, until 8
  table.expireHead((until) => until <= 6);
  assert.equal(table.get(2, 20, 200), undefined, 'the oldest, due, went');
  assert.equal(table.get(3, 30, 300), 7, 'the next is not due: expiry stopped there');
  assert.equal(table.get(1, 10, 100), 8, 'the key set again lives on');
  assert.equal(table.size, 2);
  // Two keys sharing a first number sit where the newer was set; the older, due, goes when that
  // place is reached, never before its time.
  const shared = new CallTable<number>();
  shared.set(9, 1, 1, 0, 1);
  shared.set(4, 0, 0, 0, 2);
  shared.set(9, 2, 2, 0, 3);
  shared.expireHead((until) => until <= 2);
  assert.equal(shared.get(4, 0, 0), undefined);
  assert.equal(shared.get(9, 1, 1), undefined, 'reached with its newer neighbour: gone');
  assert.equal(shared.get(9, 2, 2), 3);
  assert.equal(shared.size, 1);
  shared.expireHead(() => true);
  assert.equal(shared.size, 0);
  assert.deepEqual([...shared.values()], []);
});
