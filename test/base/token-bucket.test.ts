import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/base/token-bucket.js';

test('a token bucket allows its burst, then refills at its rate', () => {
  let now = 1000;
  const bucket = new TokenBucket(10, 3, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  now += 100; // one token at 10/s
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 60_000; // never more than the burst
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
});

test('nextTokenAt says when the next whole token is there', () => {
  let t = 1000;
  const bucket = new TokenBucket(10, 2, () => t);
  assert.equal(bucket.nextTokenAt(), 1000, 'a full bucket: now');
  assert.ok(bucket.take() && bucket.take());
  assert.equal(bucket.take(), false);
  assert.equal(bucket.nextTokenAt(), 1100, 'empty at 10 a second: 100 ms on');
  t = 1050;
  assert.equal(bucket.nextTokenAt(), 1100, 'half a token by now');
  t = 1100;
  assert.equal(bucket.nextTokenAt(), 1100);
  assert.equal(bucket.take(), true);
});
