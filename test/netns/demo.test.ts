// Root-only: `npm run demo` as a new user runs it, exit status, verdict, and nothing left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PACKAGE_ROOT, run } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

test('the demo pings every interface of every pair, shows every tunnel up, and leaves nothing behind', async (t) => {
  if (!requireRoot(t)) return;
  const result = run([process.execPath, path.join(PACKAGE_ROOT, 'dist', 'src', 'demo', 'main.js')], 240_000);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /verdict: PASS: 12\/12 pings answered, 8\/8 tunnels of h1 up/);
  assert.equal((result.stdout.match(/: ok, rtt /g) ?? []).length, 12, 'every ping is reported successful');
  assert.doesNotMatch(result.stdout, /FAILED/);
  const health = result.stdout.split('\n').filter((line) => / state (up|half|down) auth (key|none) tx /.test(line));
  assert.equal(health.length, 8);
  for (const line of health) assert.match(line, / state up auth key tx proven rx proven /);
  assert.doesNotMatch(run(['ip', 'netns', 'list']).stdout, /msnl-demo-/, 'no namespace is left');
  assert.doesNotMatch(run(['pgrep', '-af', 'daemon/main.js --foreground']).stdout, /msnl-demo-/, 'no msnld is left');
});
