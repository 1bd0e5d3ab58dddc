// Root-only: the namespace topology removes what a killed run left behind, and only that.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Topology, run } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

test('namespaces of a run whose process is gone are swept; those of live processes stay', (t) => {
  if (!requireRoot(t)) return;
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  assert.ok(dead !== undefined && dead > 0);
  const stale = `msnl-test-${dead}-h1`;
  const live = `msnl-test-${process.pid}-h9`;
  try {
    assert.equal(run(['ip', 'netns', 'add', stale]).code, 0);
    assert.equal(run(['ip', 'netns', 'add', live]).code, 0);
    const swept = Topology.sweepStale();
    assert.ok(swept.includes(stale), `swept ${swept.join(' ')}`);
    const left = run(['ip', 'netns', 'list']).stdout;
    assert.doesNotMatch(left, new RegExp(`^${stale}\\b`, 'm'));
    assert.match(left, new RegExp(`^${live}\\b`, 'm'), 'a namespace of a live process is kept');
  } finally {
    run(['ip', 'netns', 'del', stale]);
    run(['ip', 'netns', 'del', live]);
  }
});
