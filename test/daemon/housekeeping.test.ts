import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FAST_TURN_MS, Housekeeping, SLOW_TURN_MS } from '../../src/daemon/housekeeping.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('housekeeping: one turn a second; quarter-second turns only while wanted; a write to the database is polled at once; stop ends it all', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-housekeeping-'));
  const db = path.join(dir, 'msnl.db');
  writeFileSync(db, 'x');
  const seen = { second: 0, fast: 0, polls: 0 };
  let wanted = false;
  const hk = new Housekeeping({
    second: () => void seen.second++,
    fast: () => void seen.fast++,
    fastWanted: () => wanted,
    pollStore: () => void seen.polls++,
    storePath: db,
  });
  try {
    hk.start();
    await sleep(SLOW_TURN_MS * 2 + 300);
    assert.ok(seen.second >= 1 && seen.second <= 3, `${seen.second} slow turns in 2.3 s`);
    assert.equal(seen.fast, 0, 'no fast turn while none is wanted');
    assert.equal(seen.polls, seen.second, 'the store is polled on each slow turn, no more while nothing changed');
    // An idle daemon wakes about once a second.
    assert.ok(hk.wakeups <= 3, `${hk.wakeups} wake-ups`);
    // Another process commits: the WAL changes; one poll follows well before the next turn.
    const polls = seen.polls;
    writeFileSync(`${db}-wal`, 'commit');
    writeFileSync(db, 'y');
    for (let i = 0; i < 40 && seen.polls === polls; i++) await sleep(25);
    assert.ok(seen.polls > polls, 'a poll followed the write');
    writeFileSync(path.join(dir, 'unrelated'), 'z'); // another file in the directory: no poll
    wanted = true;
    hk.fastFollows();
    await sleep(FAST_TURN_MS * 4 + 100);
    assert.ok(seen.fast >= 3, `${seen.fast} fast turns while wanted`);
    wanted = false;
    await sleep(FAST_TURN_MS * 2);
    const fast = seen.fast;
    await sleep(FAST_TURN_MS * 3);
    assert.equal(seen.fast, fast, 'fast turns stop once no longer wanted');
    hk.stop();
    const after = { ...seen };
    writeFileSync(db, 'after stop');
    await sleep(SLOW_TURN_MS + 200);
    assert.deepEqual(seen, after, 'nothing runs after stop');
  } finally {
    hk.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('housekeeping: a store that cannot be watched is polled each second, and the error is reported once', async () => {
  const errors: string[] = [];
  let polls = 0;
  const hk = new Housekeeping({
    second: () => undefined,
    fast: () => undefined,
    fastWanted: () => false,
    pollStore: () => void polls++,
    storePath: path.join(tmpdir(), `msnl-no-such-dir-${process.pid}`, 'msnl.db'),
    onWatchError: (e) => errors.push(e.message),
  });
  try {
    hk.start();
    await sleep(SLOW_TURN_MS + 300);
    assert.equal(errors.length, 1, errors.join('; '));
    assert.ok(polls >= 1);
  } finally {
    hk.stop();
  }
});
