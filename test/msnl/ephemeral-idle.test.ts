// An idle keyed endpoint (no connection, no other timer) renews the ephemerals it made ahead off
// the call path: HandshakeKeys asks for a tick at renewAt() (EPHEMERAL_RENEW_MS after the oldest),
// the endpoint includes it in nextDeadline(), and over ten periods of a fake clock, driven only by
// the wake-ups the endpoint asks for, it ticks about once a period, and a call at any time finds
// what was made ahead younger than EPHEMERAL_MAX_AGE_MS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { MemoryHub } from '../../src/msdl/memory.js';
import { EPHEMERAL_MAX_AGE_MS, EPHEMERAL_RENEW_MS } from '../../src/msnl/secure-keys.js';
import { FakeClock, makeNode } from './harness.js';

test('an idle keyed endpoint ticks about once an EPHEMERAL_RENEW_MS and keeps its ephemerals young', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 1, loss: 0, delayMs: 1 });
  const wakes: number[] = [];
  const idle: (() => void)[] = [];
  const runIdle = (): void => {
    for (let i = 0; i < 1000 && idle.length > 0; i++) idle.shift()!();
  };
  const peerKey = generateKeyPair().publicKey;
  const a = makeNode(hub, clock, 'a', 0x80e80001, 1, {}, { identity: generateKeyPair(), wake: (at) => wakes.push(at), scheduleIdle: (work) => void idle.push(work) });
  a.ep.preparePeers([peerKey]);
  runIdle();
  assert.ok(wakes.length > 0, 'made ahead: a tick is asked for');
  assert.equal(a.ep.nextDeadline(), clock.t + EPHEMERAL_RENEW_MS);
  // The shell: sleeps until the earliest wake asked for (a wake asked for later than a pending
  // one does not delay it), ticks, runs the work after the turn.
  const end = clock.t + 10 * EPHEMERAL_MAX_AGE_MS;
  let ticks = 0;
  let pending = Math.min(...wakes);
  while (pending <= end) {
    clock.t = pending;
    wakes.length = 0;
    a.ep.tick();
    ticks++;
    runIdle();
    const next = a.ep.nextDeadline();
    assert.ok(next > clock.t, 'the next deadline is ahead');
    assert.ok(wakes.includes(next) || wakes.some((w) => w <= next), 'and asked for');
    pending = Math.min(...wakes, next);
    assert.ok(pending - clock.t >= EPHEMERAL_RENEW_MS - 10_000, `no tick sooner than a period less the group (${pending - clock.t} ms)`);
  }
  assert.ok(ticks >= 10 && ticks <= Math.ceil((10 * EPHEMERAL_MAX_AGE_MS) / (EPHEMERAL_RENEW_MS - 10_000)), `${ticks} ticks in 10 periods`);
  const counters = a.ep.counters;
  assert.equal(counters.ephemeralsDropped, 3 * ticks, 'each tick renewed the spare, the initiation start and the response ephemeral');
  assert.ok(a.ep.nextDeadline() - clock.t <= EPHEMERAL_RENEW_MS);
});
