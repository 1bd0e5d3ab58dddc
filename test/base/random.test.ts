import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoRandom, randomUnit, seededRandom } from '../../src/base/random.js';

test('cryptoRandom gives unsigned 32-bit integers from its first draw on and past a refill of its pool', () => {
  const random = cryptoRandom();
  const seen = new Set<number>();
  for (let i = 0; i < 600; i++) {
    const x = random.u32();
    assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, `${x} is a u32`);
    seen.add(x);
  }
  // 600 draws of 32 bits: a repeat is about a 4e-5 chance, all equal is a broken pool.
  assert.ok(seen.size >= 599, `${seen.size} distinct of 600`);
});

test('seededRandom repeats for a seed, and randomUnit stays in [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const xs = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.u32()), xs);
  for (let i = 0; i < 100; i++) {
    const u = randomUnit(a);
    assert.ok(u >= 0 && u < 1);
  }
});
