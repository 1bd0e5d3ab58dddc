import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WakeTimer } from '../../src/daemon/wake-timer.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('WakeTimer runs once at the earliest time asked for, keeps a minimum gap, and sleeps when nothing is asked', async () => {
  const runs: number[] = [];
  const timer = new WakeTimer(() => runs.push(Date.now()), Date.now, 300, 60_000);
  try {
    const t0 = Date.now();
    timer.arm(t0 + 300);
    timer.arm(t0 + 30); // earlier: wins
    timer.arm(t0 + 200); // later than the armed one: nothing changes
    assert.equal(runs.length, 0, 'nothing runs before start');
    timer.start();
    await sleep(150);
    assert.equal(runs.length, 1, 'one run for the three asks');
    assert.ok((runs[0] as number) - t0 >= 29, 'not before the time asked');
    timer.arm(Date.now()); // due now, but within the minimum gap of the last run
    await sleep(10);
    assert.equal(runs.length, 1, 'the minimum gap holds');
    await sleep(250);
    assert.equal(runs.length, 2);
    assert.ok((runs[1] as number) - (runs[0] as number) >= 299, `gap ${(runs[1] as number) - (runs[0] as number)} ms`);
    await sleep(200);
    assert.equal(runs.length, 2, 'nothing asked: no runs');
    timer.arm(Date.now() + 20);
    timer.stop();
    await sleep(100);
    assert.equal(runs.length, 2, 'stopped: no runs');
    assert.equal(timer.runs, 2);
  } finally {
    timer.stop();
  }
});

test('WakeTimer still runs after maxSleepMs when a run asked for nothing', async () => {
  let runs = 0;
  const timer = new WakeTimer(() => runs++, Date.now, 1, 40);
  timer.start();
  timer.arm(Date.now());
  await sleep(20);
  assert.equal(runs, 1);
  await sleep(150);
  assert.ok(runs >= 2, `housekeeping runs went on (${runs})`);
  timer.stop();
});
