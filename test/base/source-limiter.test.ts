import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceLimiter } from '../../src/base/source-limiter.js';

test('a source limiter holds each source to its burst, and all of them to the overall one', () => {
  const now = 1000;
  const limiter = new SourceLimiter<string>({ ratePerSecond: 1, burst: 2 }, { ratePerSecond: 1, burst: 5 }, 100, () => now);
  assert.deepEqual([limiter.allow('a'), limiter.allow('a'), limiter.allow('a')], [true, true, false]);
  assert.deepEqual([limiter.allow('b'), limiter.allow('b'), limiter.allow('c'), limiter.allow('d')], [true, true, true, false], 'the overall burst of 5 is spent');
});

test('a source limiter remembers at most maxSources, and a source seen lately keeps its bucket', () => {
  const now = 1000;
  const limiter = new SourceLimiter<number>({ ratePerSecond: 1, burst: 1 }, { ratePerSecond: 1, burst: 1e9 }, 64, () => now);
  assert.equal(limiter.allow(-1), true);
  for (let i = 0; i < 10_000; i++) {
    limiter.allow(i);
    assert.ok(limiter.size <= 64, `${limiter.size} sources remembered after ${i + 1}`);
    // -1 comes back every 16 new sources, within half the limit: its bucket (spent) is kept.
    if (i % 16 === 0) assert.equal(limiter.allow(-1), false, `source -1 was forgotten after ${i + 1} others`);
  }
  assert.ok(limiter.size >= 32, 'at least the newest half is remembered');
  // A source not seen for more than maxSources others is forgotten: a fresh bucket.
  for (let i = 20_000; i < 20_064; i++) limiter.allow(i);
  assert.equal(limiter.allow(-1), true);
});
