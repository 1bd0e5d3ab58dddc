import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUp } from '../../src/daemon/warmup.js';

test('the warm-up call completes, plain and keyed: call, packets both ways (one segmented), release', () => {
  assert.equal(warmUp(false), true);
  assert.equal(warmUp(true), true);
});
