import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeGate } from '../../src/msnl/handshake-gate.js';

test('the load meter trips above the limit within one second and resets the next', () => {
  const gate = new HandshakeGate({ handshakeLoadPerSecond: 3, handshakeRatePerSecond: 20, handshakeBurst: 20 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => gate.underLoad(1000)), [false, false, false, true, true]);
  assert.equal(gate.underLoad(2000), false);
});

test('per-source buckets: a burst, then the sustained rate; other sources are not affected; the table is bounded', () => {
  const gate = new HandshakeGate({ handshakeLoadPerSecond: 100, handshakeRatePerSecond: 10, handshakeBurst: 5 });
  const allowed = Array.from({ length: 8 }, () => gate.allow('a', 0)).filter(Boolean).length;
  assert.equal(allowed, 5);
  assert.equal(gate.allow('b', 0), true);
  assert.equal(gate.allow('a', 50), false);
  assert.equal(gate.allow('a', 100), true, 'one token back after 100 ms at 10/s');
  for (let i = 0; i < 10_000; i++) gate.allow(`src${i}`, 1000 + i);
  assert.ok(gate.size <= 4096);
});
