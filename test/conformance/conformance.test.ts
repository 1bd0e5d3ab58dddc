// Root-only: msnld against the conformance peer (peer.ts), which knows the wire only from
// man/msnl.7. Each check of the peer is one subtest here, so a failure names the MUST it broke.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { requireRoot } from '../helpers/root.js';

test('msnld conforms to msnl(7), checked by a peer built from the page alone', async (t) => {
  if (!requireRoot(t)) return;
  const netns = `msnl-conf-${process.pid}`;
  assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0, 'namespace created');
  try {
    const run = spawnSync('ip', ['netns', 'exec', netns, process.execPath, path.join(__dirname, 'peer.js')], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    assert.notEqual(last, '', `the peer printed nothing (status ${run.status}): ${run.stderr}`);
    const checks = JSON.parse(last) as Array<{ name: string; ok: boolean; detail: string }>;
    assert.ok(checks.length >= 12, `only ${checks.length} checks ran`);
    for (const c of checks) await t.test(c.name, () => assert.ok(c.ok, c.detail));
  } finally {
    spawnSync('ip', ['netns', 'del', netns]);
  }
});
