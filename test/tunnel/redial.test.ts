import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedialSchedule } from '../../src/tunnel/redial.js';

test('redial backs off exponentially up to 10 s and never double-calls a peer', () => {
  const s = new RedialSchedule();
  let ref = 0;
  const makeRef = (): number => ++ref;
  s.add(7, 0);
  s.add(7, 100); // adding again keeps the first loss time
  assert.deepEqual(s.due(499, makeRef), []);
  assert.deepEqual(s.due(500, makeRef), [7]);
  assert.deepEqual(s.due(600, makeRef), [], 'a call is under way');
  assert.equal(s.calling(7), true);
  const gaps: number[] = [];
  let now = 500;
  for (let i = 0; i < 8; i++) {
    s.failed(7, now);
    const entry = s.list()[0]!;
    gaps.push(entry.dueAt - now);
    now = entry.dueAt;
    assert.deepEqual(s.due(now, makeRef), [7]);
  }
  assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
  assert.equal(s.list()[0]!.since, 0);
  s.failed(7, now);
  assert.equal(s.calling(7), false);
  s.delete(7);
  assert.equal(s.has(7), false);
});
