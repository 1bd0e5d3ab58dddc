// Root-only: msnld started the way an operator would, without --foreground, in a namespace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNL, MSNLD, run, sleep } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

test('msnld detaches, reports its pid, refuses a second copy, and exits 0 on SIGTERM', async (t) => {
  if (!requireRoot(t)) return;
  const netns = `msnl-msnld-${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-msnld-'));
  const files = ['--db', path.join(dir, 'd.db'), '--socket', path.join(dir, 'd.sock')];
  const start = (): ReturnType<typeof run> =>
    run(['ip', 'netns', 'exec', netns, process.execPath, MSNLD, ...files, '--log-file', path.join(dir, 'msnld.log'), '--listen', '127.0.0.1:7010'], 30_000);
  let pid: number | undefined;
  assert.equal(run(['ip', 'netns', 'add', netns]).code, 0);
  try {
    const first = start();
    assert.equal(first.code, 0, first.stderr);
    pid = Number(/started \(pid (\d+)\)/.exec(first.stdout)?.[1]);
    assert.ok(pid > 0, first.stdout);
    const status = run(['ip', 'netns', 'exec', netns, process.execPath, MSNL, ...files, '-j', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { pid: number }).pid, pid);
    // --listen overrides the stored listen address: host show says so, the address is not overridden.
    const show = run(['ip', 'netns', 'exec', netns, process.execPath, MSNL, ...files, 'host', 'show']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, 'address 0.0.0.0\nlisten 0.0.0.0:1994 (stored; msnld uses 127.0.0.1:7010 from its command line)\npublic-key (none)\n');
    const showJson = JSON.parse(run(['ip', 'netns', 'exec', netns, process.execPath, MSNL, ...files, '-j', 'host', 'show']).stdout) as Record<string, unknown>;
    assert.equal(showJson.listen_in_effect, '127.0.0.1:7010');
    assert.equal(showJson.msnl_address_in_effect, undefined);
    const second = start();
    assert.equal(second.code, 2);
    assert.match(second.stderr, new RegExp(`^Error: failed to start: msnld pid ${pid} already answers on `));
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && run(['kill', '-0', String(pid)]).code === 0; i++) await sleep(100);
    assert.notEqual(run(['kill', '-0', String(pid)]).code, 0, 'msnld exited after SIGTERM');
    pid = undefined;
    assert.match(readFileSync(path.join(dir, 'msnld.log'), 'utf8'), /SIGTERM: disconnecting every connection and exiting/);
  } finally {
    if (pid !== undefined) run(['kill', '-9', String(pid)]);
    run(['ip', 'netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
