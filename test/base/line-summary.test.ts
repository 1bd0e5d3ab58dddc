// A storm of per-connection lines: the first perSecond of each second one by one, the rest counted
// by kind and summarised in one line when the second ends (by the timer, or by the next line);
// texts of counted lines are never built; perSecond 0 logs every line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSummary } from '../../src/base/line-summary.js';

function harness(perSecond: number): { lines: string[]; timers: Array<{ ms: number; run: () => void }>; clock: { t: number }; s: LineSummary; built: { n: number } } {
  const lines: string[] = [];
  const timers: Array<{ ms: number; run: () => void }> = [];
  const clock = { t: 5_000 };
  const s = new LineSummary({ write: (l) => void lines.push(l), now: () => clock.t, perSecond, after: (ms, run) => void timers.push({ ms, run }) });
  return { lines, timers, clock, s, built: { n: 0 } };
}

test('past perSecond lines are counted by kind and summarised when the second ends', () => {
  const { lines, timers, clock, s, built } = harness(3);
  const text = (what: string) => () => (built.n++, what);
  for (let i = 0; i < 5; i++) s.line('connections up', text(`connection ${i} up`));
  clock.t += 200;
  for (let i = 0; i < 4; i++) s.line('connections down: released by peer (reason 0: normal)', text(`connection ${i} down`));
  assert.deepEqual(lines, ['connection 0 up', 'connection 1 up', 'connection 2 up']);
  assert.equal(built.n, 3, 'the texts of counted lines are not built');
  assert.equal(timers.length, 1, 'one timer for the second');
  assert.equal(timers[0]!.ms, 1000);
  clock.t = 6_000;
  timers[0]!.run();
  assert.equal(lines.length, 4);
  assert.equal(lines[3], '6 more in the last 1.0 s, beyond 3 lines a second: 2 connections up, 4 connections down: released by peer (reason 0: normal)');
  // The next second starts afresh: its first lines are logged again.
  clock.t = 6_100;
  s.line('connections up', text('connection 9 up'));
  assert.equal(lines[4], 'connection 9 up');
});

test('a line after the second ended summarises what was counted before it is logged, even before the timer ran', () => {
  const { lines, clock, s } = harness(1);
  s.line('connections up', () => 'a');
  s.line('connections up', () => 'b');
  clock.t += 1_500;
  s.line('connections up', () => 'c');
  assert.deepEqual(lines, ['a', '1 more in the last 1.5 s, beyond 1 lines a second: 1 connections up', 'c']);
  s.summarise();
  assert.equal(lines.length, 3, 'nothing counted, nothing written');
});

test('perSecond 0: every line, no summary', () => {
  const { lines, timers, s } = harness(0);
  for (let i = 0; i < 100; i++) s.line('connections up', () => `up ${i}`);
  assert.equal(lines.length, 100);
  assert.equal(timers.length, 0);
});
