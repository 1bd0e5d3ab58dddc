// Root-only: two msnld in two namespaces started with -n and no path options do not collide;
// each msnl -n reaches its own daemon and database (the derived paths are removed afterwards).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, rmdirSync } from 'node:fs';
import { MSNL, MSNLD, run, sleep } from '../../src/demo/topology.js';
import { instancePaths } from '../../src/base/instance.js';
import { requireRoot } from '../helpers/root.js';

interface Status {
  pid: number;
  db: string;
  socket: string;
  msnl_address: string | null;
}

test('msnld -n A and msnld -n B with no path options: two daemons, two databases, two sockets', async (t) => {
  if (!requireRoot(t)) return;
  const names = [`msnl-inst-${process.pid}-a`, `msnl-inst-${process.pid}-b`];
  const pids: number[] = [];
  try {
    for (const [i, name] of names.entries()) {
      assert.equal(run(['ip', 'netns', 'add', name]).code, 0);
      const set = run([process.execPath, MSNL, '-n', name, 'host', 'set', 'address', `128.232.0.${i + 1}`]);
      assert.equal(set.code, 0, set.stderr);
      const started = run([process.execPath, MSNLD, '-n', name, '--listen', '127.0.0.1:1994'], 30_000);
      assert.equal(started.code, 0, started.stderr);
      const pid = Number(/started \(pid (\d+)\)/.exec(started.stdout)?.[1]);
      assert.ok(pid > 0, started.stdout);
      pids.push(pid);
      assert.equal(run(['ip', 'netns', 'identify', String(pid)]).stdout.trim(), name, 'msnld runs inside its namespace');
    }
    for (const [i, name] of names.entries()) {
      const status = run([process.execPath, MSNL, '-n', name, '-j', 'status']);
      assert.equal(status.code, 0, status.stderr);
      const row = JSON.parse(status.stdout) as Status;
      assert.equal(row.pid, pids[i]);
      assert.equal(row.db, instancePaths(name).db);
      assert.equal(row.socket, instancePaths(name).socket);
      assert.equal(row.msnl_address, `128.232.0.${i + 1}`, 'each daemon reads its own database');
    }
    const again = run([process.execPath, MSNLD, '-n', names[0]!, '--listen', '127.0.0.1:1994'], 30_000);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already answers on .* \(another instance\? give it its own --socket and --db, or -n NETNS/);
  } finally {
    for (const pid of pids) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && run(['kill', '-0', String(pid)]).code === 0; i++) await sleep(100);
      if (run(['kill', '-0', String(pid)]).code === 0) run(['kill', '-9', String(pid)]);
    }
    for (const name of names) {
      run(['ip', 'netns', 'del', name]);
      const paths = instancePaths(name);
      rmSync(paths.db.replace(/\/msnl\.db$/, ''), { recursive: true, force: true });
      rmSync(paths.socket, { force: true });
      rmSync(paths.logFile, { force: true });
    }
    for (const dir of ['/var/lib/msnl/netns', '/run/msnl/netns']) {
      try {
        rmdirSync(dir); // only when empty: another instance may use it
      } catch {
        // not empty or absent
      }
    }
  }
});
