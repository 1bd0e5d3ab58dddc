import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar } from '../../src/cli/progress.js';

test('the progress bar draws on a terminal and erases itself; it is silent otherwise', () => {
  const drawn: string[] = [];
  const bar = progressBar('importing', (s) => void drawn.push(s), true);
  bar.update(50, 200);
  bar.update(200, 200);
  bar.finish();
  assert.equal(drawn[0], `\rimporting [${'#'.repeat(8)}${' '.repeat(22)}] 25% 50/200`);
  assert.match(drawn[1] ?? '', /100% 200\/200$/);
  assert.equal(drawn[2], '\r\x1b[K');
  const silent: string[] = [];
  const off = progressBar('importing', (s) => void silent.push(s), false);
  off.update(1, 2);
  off.finish();
  assert.deepEqual(silent, []);
});
