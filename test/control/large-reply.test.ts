// Issue 21: a reply of 100 000 connection rows, made lazily by the real DaemonControl and
// streamed by the real ControlServer, arrives whole and in order over the unix socket, while the
// daemon's memory grows by a bounded amount (it never holds the rows, only a chunk of text and a
// batch of ids). The table is bench/fake-connections.ts's: the manager's shape, no peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fakeDaemon } from '../../bench/fake-connections.js';
import { renderControl } from '../../bench/scale.js';
import { ControlClient } from '../../src/control/client.js';
import { ControlServer } from '../../src/control/server.js';
import { DaemonControl } from '../../src/daemon/control-handler.js';
import { tempDir } from './socket-helpers.js';

const MiB = 1 << 20;

test('100 000 connection rows arrive whole, by interface then id, with bounded daemon RSS growth', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const daemon = fakeDaemon(100_000);
  const control = new DaemonControl(daemon);
  // Counts the rows made so far: the client's pace, not the table's size, must drive it.
  let made = 0;
  const handler = Object.assign(Object.create(control) as DaemonControl<unknown>, {
    *connections() {
      for (const row of control.connections()) {
        made++;
        yield row;
      }
    },
  });
  const server = new ControlServer(handler, socketPath);
  try {
    await server.listen();
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    // The client keeps nothing but counts: the growth measured is the daemon side's.
    let count = 0;
    let previous = { interface: '', connection: -1 };
    const perInterface = new Map<string, number>();
    let ordered = true;
    let madeAtFirst = 0;
    try {
      await new ControlClient(socketPath, { timeoutMs: 30_000 }).eachConnection(undefined, (row) => {
        if (count === 0) madeAtFirst = made;
        count++;
        perInterface.set(row.interface, (perInterface.get(row.interface) ?? 0) + 1);
        const cmp = previous.interface.localeCompare(row.interface) || previous.connection - row.connection;
        if (cmp >= 0) ordered = false;
        previous = row;
      });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(count, 100_000);
    // A 64 KiB chunk is ~230 rows; the socket buffers hold a few chunks more. An array built first would be 100 000.
    assert.ok(madeAtFirst < 5000, `${madeAtFirst} rows made before the client had its first`);
    assert.ok(ordered, 'rows by interface, then ascending connection id, none twice');
    assert.deepEqual([...perInterface], [['ms0', 25_000], ['ms1', 25_000], ['ms2', 25_000], ['ms3', 25_000]]);
    const growth = (peak - before) / MiB;
    console.log(`100 000 rows: ${madeAtFirst} made when the first arrived; RSS ${(before / MiB).toFixed(0)} -> peak ${(peak / MiB).toFixed(0)} MiB (+${growth.toFixed(1)})`);
    // The rows as objects would be ~60 MiB and their text ~30 MiB; the server holds two 64 KiB
    // chunks and 8192 ids. Generous: GC timing and the client's garbage share this process.
    assert.ok(growth < 96, `RSS grew by ${growth.toFixed(1)} MiB`);
    // A filter is applied in msnld, on the lazily made rows.
    const ms2 = await new ControlClient(socketPath).connections({ interface: 'ms2', state: 'up' });
    assert.equal(ms2.length, 25_000);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection that goes during a long reply is shown at most once, and the reply still ends', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const daemon = fakeDaemon(30_000);
  const table = daemon.manager.connections() as Map<number, unknown>;
  const server = new ControlServer(new DaemonControl(daemon), socketPath, { chunkBytes: 4096 });
  try {
    await server.listen();
    const seen = new Set<number>();
    let repeated = 0;
    await new ControlClient(socketPath, { timeoutMs: 30_000 }).eachConnection(undefined, (row) => {
      if (seen.has(row.connection)) repeated++;
      seen.add(row.connection);
      // Churn while the reply is being streamed: drop a few connections not yet shown.
      if (seen.size % 1000 === 0) for (const id of [...table.keys()].slice(-5)) table.delete(id);
    });
    assert.equal(repeated, 0);
    assert.ok(seen.size > 29_000 && seen.size < 30_000, `${seen.size} rows`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the bench renders the control figures and their failures', () => {
  const text = renderControl({
    connShow: { connections: 100_000, connShowMs: 1500, connShowLines: 200_000, healthMs: 1400, healthLines: 100_000, rssBeforeMiB: 60, rssPeakMiB: 75, loopDelayMaxMs: 20 },
    abuse: { error: 'control-abuse.js failed (exit 2)' },
  });
  assert.match(text, /msnl conn show, 100,000 connections: 1500 ms/);
  assert.match(text, /status under abuse: fail: control-abuse.js failed/);
});
