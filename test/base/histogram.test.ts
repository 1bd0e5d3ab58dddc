import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../../src/base/histogram.js';

test('Histogram: observations fall in the first bucket whose bound they do not exceed; cumulative adds up; non-finite values are ignored', () => {
  const h = new Histogram([1, 10, 100]);
  for (const v of [0, 1, 1.5, 10, 11, 1000, NaN, Infinity]) h.observe(v);
  assert.deepEqual(h.cumulative(), [2, 4, 5, 6]);
  assert.equal(h.count, 6);
  assert.equal(h.sum, 1023.5);
  assert.throws(() => new Histogram([1, 1]), /bounds must increase/);
});
