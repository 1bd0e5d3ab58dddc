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
