import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineHeap, ownSlot } from '../../src/msnl/timers.js';

test('DeadlineHeap pops items in deadline order, only once due', () => {
  const heap = new DeadlineHeap<string>();
  assert.equal(heap.peekAt(), Infinity);
  assert.equal(heap.popDue(1e9), undefined);
  heap.set('c', 30);
  heap.set('a', 10);
  heap.set('b', 20);
  assert.equal(heap.size, 3);
  assert.equal(heap.peekAt(), 10);
  assert.equal(heap.popDue(9), undefined, 'nothing due before 10');
  assert.equal(heap.popDue(25), 'a');
  assert.equal(heap.popDue(25), 'b');
  assert.equal(heap.popDue(25), undefined);
  assert.equal(heap.at('c'), 30);
  assert.equal(heap.at('a'), undefined);
});

test('DeadlineHeap moves and deletes deadlines', () => {
  const heap = new DeadlineHeap<string>();
  for (const [k, at] of [['a', 5], ['b', 6], ['c', 7], ['d', 8]] as const) heap.set(k, at);
  heap.set('d', 1);
  assert.equal(heap.peekAt(), 1);
  heap.set('d', 100);
  assert.equal(heap.peekAt(), 5);
  assert.equal(heap.delete('a'), true);
  assert.equal(heap.delete('a'), false);
  assert.deepEqual([heap.popDue(1000), heap.popDue(1000), heap.popDue(1000), heap.popDue(1000)], ['b', 'c', 'd', undefined]);
  heap.set('x', 3);
  heap.clear();
  assert.equal(heap.size, 0);
  assert.equal(heap.peekAt(), Infinity);
});

for (const kind of ['a map', 'the items themselves'] as const) test(`DeadlineHeap (places kept in ${kind}) agrees with a sorted list over random sets, moves and deletes`, () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const items = Array.from({ length: 200 }, (_, i) => ({ i, heapIndex: -1 }));
  type Item = (typeof items)[number];
  const heap = kind === 'a map' ? new DeadlineHeap<Item>() : new DeadlineHeap<Item>(ownSlot);
  const model = new Map<Item, number>();
  for (let step = 0; step < 5000; step++) {
    const key = items[rand(200)]!;
    const op = rand(10);
    if (op < 6) {
      const at = rand(10_000);
      heap.set(key, at);
      model.set(key, at);
    } else if (op < 8) {
      assert.equal(heap.delete(key), model.delete(key));
    } else {
      const now = rand(10_000);
      const popped = heap.popDue(now);
      const min = Math.min(...model.values());
      if (popped === undefined) assert.ok(model.size === 0 || min > now, `nothing popped though ${min} <= ${now}`);
      else {
        assert.equal(model.get(popped), min, 'the earliest deadline comes first');
        assert.ok(min <= now);
        model.delete(popped);
      }
    }
    assert.equal(heap.size, model.size);
    assert.equal(heap.peekAt(), model.size === 0 ? Infinity : Math.min(...model.values()));
    if (kind !== 'a map') assert.equal(key.heapIndex >= 0, model.has(key), 'an item knows whether it is in the heap');
  }
  heap.clear();
  assert.ok(kind === 'a map' || items.every((item) => item.heapIndex === -1), 'clear() forgets every place');
});
