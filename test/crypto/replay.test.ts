import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPLAY_WINDOW, ReplayWindow } from '../../src/crypto/replay.js';

test('the replay window holds at least 2048 frames', () => {
  assert.ok(REPLAY_WINDOW >= 2048);
});

test('each counter is accepted once; in-window reordering is fine; too old is refused', () => {
  const w = new ReplayWindow();
  assert.equal(w.accept(0), true);
  assert.equal(w.accept(0), false);
  assert.equal(w.accept(5), true);
  assert.equal(w.accept(3), true);
  assert.equal(w.accept(3), false);
  assert.equal(w.accept(5), false);
  assert.equal(w.check(4), true);
  assert.equal(w.accept(5 + REPLAY_WINDOW + 100), true);
  assert.equal(w.check(4), false, 'fell out of the window');
  assert.equal(w.accept(100 + REPLAY_WINDOW), true, 'just inside');
  assert.equal(w.accept(99), false, 'just outside');
  assert.equal(w.check(-1), false);
  assert.equal(w.check(2 ** 53), false);
  assert.equal(w.check(1.5), false);
});

test('check does not record: only accept moves the window', () => {
  const w = new ReplayWindow();
  assert.equal(w.check(1_000_000), true);
  assert.equal(w.accept(10), true);
  assert.equal(w.highest, 10);
});

test('a long jump clears stale bits (a counter a ring turn later is new)', () => {
  const w = new ReplayWindow();
  for (let i = 0; i < 5000; i++) assert.equal(w.accept(i), true);
  const far = 5000 + 4096 * 3;
  assert.equal(w.accept(far), true);
  for (let i = far - REPLAY_WINDOW + 1; i < far; i += 97) assert.equal(w.accept(i), true, `counter ${i}`);
});

test('random order against a model set', () => {
  const w = new ReplayWindow();
  const seen = new Set<number>();
  let highest = -1;
  let x = 12345;
  for (let i = 0; i < 20000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const c = Math.max(0, i * 4 - (x % 6000));
    const expected = !seen.has(c) && (highest < 0 || c > highest || highest - c <= REPLAY_WINDOW);
    assert.equal(w.accept(c), expected, `counter ${c}`);
    if (expected) {
      seen.add(c);
      highest = Math.max(highest, c);
    }
  }
});
