import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { warmUp, warmUpInTurns } from '../../src/daemon/warmup.js';
import { startWarmUp, warmDaemons } from '../../src/daemon/warm-daemons.js';
import { createLogger } from '../../src/base/logger.js';

test('the warm-up calls complete, plain and keyed: whole calls through manager and tunnels on ms0..ms3, nothing left open', () => {
  for (const keyed of [false, true]) {
    // Enough calls for every interface, keyed and plain, whatever the machine's load.
    const done = warmUp(keyed, { calls: 8, budgetMs: 60_000 });
    assert.equal(done.calls, 8, `keyed ${keyed}`);
    assert.equal(done.ok, true, `keyed ${keyed}: every call carried its two pings and was released`);
  }
});

test('the warm-up is bounded by its call count and by its time budget', () => {
  assert.equal(warmUp(false, { calls: 3, budgetMs: 60_000 }).calls, 3);
  const timed = warmUp(false, { calls: 1_000_000, budgetMs: 30 });
  assert.ok(timed.calls < 1_000_000, 'stopped by the budget, not the count');
  // The call running when the budget ends finishes: generous bound on a loaded machine.
  assert.ok(timed.ms < 30 + 2000, `took ${timed.ms} ms`);
  assert.equal(warmUp(false, { calls: 0, budgetMs: 100 }).ok, false, 'no call made is not a completed warm-up');
});

test('in turns of the event loop: the loop runs between calls, and stopped() ends it', async () => {
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  try {
    const done = await warmUpInTurns(false, { calls: 20, budgetMs: 60_000 }, () => false);
    assert.equal(done.calls, 20);
    assert.equal(done.ok, true);
    assert.ok(turns > 0, 'timers ran between the calls');
  } finally {
    clearInterval(ticker);
  }
  let calls = 0;
  const early = await warmUpInTurns(true, { calls: 1000, budgetMs: 60_000 }, () => ++calls > 3);
  assert.equal(early.calls, 3);
  // eachTurn (msnld: an empty log line and Daemon.pollNow) runs once after each call.
  let each = 0;
  const counted = await warmUpInTurns(false, { calls: 5, budgetMs: 60_000 }, () => false, () => void each++);
  assert.equal(counted.calls, 5);
  assert.equal(each, 5);
});

test('msnld\'s warm-up passes its eachTurn on: one run per warm-up call, as its log line counts them', async () => {
  const lines: string[] = [];
  let each = 0;
  await startWarmUp(false, createLogger('verbose', (line) => lines.push(line)), 1, () => void each++).done;
  const calls = Number(/warm-up: (\d+) calls/.exec(lines[0] ?? '')?.[1]);
  assert.ok(calls > 0, lines[0]);
  assert.equal(each, calls);
});

test('msnld\'s warm-up logs what it did, and stop() ends it at once with nothing left behind', async () => {
  const lines: string[] = [];
  const log = createLogger('verbose', (line) => lines.push(line));
  await startWarmUp(false, log).stop();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /warm-up: \d+ calls .*whole daemons: not run \(stopping\)/);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left');
  const running = startWarmUp(true, log);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await running.stop();
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /warm-up: \d+ calls \(keyed and plain\)/);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left');
});

test('the whole-daemon warm-up pings through two daemons on ms0..ms3, plain and keyed, and leaves no timer, socket or handle', async () => {
  const before = new Set(process.getActiveResourcesInfo());
  for (const keyed of [false, true]) {
    const done = await warmDaemons(keyed, 20_000);
    assert.equal(done.replies, 4, `keyed ${keyed}: one reply per interface`);
  }
  await new Promise((resolve) => setImmediate(resolve));
  const left = process.getActiveResourcesInfo().filter((r) => !before.has(r));
  assert.deepEqual(left, [], 'no new kind of resource left active');
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left');
});

test('whole-daemon rounds hang up between rounds and call again, keyed rounds switching the routes to plain and back', async () => {
  for (const keyed of [false, true]) {
    const done = await warmDaemons(keyed, 20_000, () => false, 3);
    assert.equal(done.replies, 12, `keyed ${keyed}: one reply per interface and round`);
    assert.equal(done.connections, 12, `keyed ${keyed}: a new connection per interface and round`);
  }
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left');
});

test('the whole-daemon warm-up stops its daemons when its budget ends first', async () => {
  const done = await warmDaemons(false, 0);
  assert.ok(done.replies <= 4);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left');
});

// msnld runs the warm-up before it opens its control socket, so a warm-up that never returns is a
// daemon that never starts. A JWK export of a fresh X25519 key once deadlocked Node.js 20 inside a
// garbage collection (src/crypto/primitives.ts) and hung about one warm-up loop of 300 in two.
test('300 warm-ups in a row, keyed and plain, finish (no deadlock in key generation)', () => {
  const warmup = path.resolve(__dirname, '../../src/daemon/warmup.js');
  const script = `import { warmUp } from ${JSON.stringify(warmup)};
let ok = 0;
for (let i = 0; i < 300; i++) {
  if (warmUp(i % 2 === 0, { calls: 1, budgetMs: 10000 }).ok) ok++;
}
console.log(ok);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  assert.equal(child.signal, null, `the warm-up loop did not finish in 120 s (hung): ${child.stderr}`);
  assert.equal(child.stdout.trim(), '300', child.stderr);
});
