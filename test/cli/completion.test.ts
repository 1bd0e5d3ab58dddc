// The shipped bash completion: valid bash, every object of msnl offered, and completions that
// work when bash runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { OBJECT_FILES, buildProgram } from '../../src/cli/main.js';

const FILE = path.resolve(__dirname, '../../../completions/msnl.bash');

function complete(line: string): string[] {
  const words = line.split(' ');
  const script = `source ${JSON.stringify(FILE)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _msnl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean).sort();
}

test('bash completion offers every object and the subcommands', () => {
  assert.equal(OBJECT_FILES.length > 0, true);
  const objects = buildProgram().program.commands.map((c) => c.name()).sort();
  const offered = complete('msnl ');
  for (const name of objects) assert.ok(offered.includes(name), `${name} is offered`);
  assert.deepEqual(complete('msnl ma'), ['map']);
  assert.deepEqual(complete('msnl --db x.db map f'), ['flush']);
  assert.deepEqual(complete('msnl route add 128.232.0.2 '), ['via']);
  assert.deepEqual(complete('msnl route add 128.232.0.2 via 192.0.2.2:1994 '), ['auth', 'key', 'mtu', 'priority', 'via']);
  assert.deepEqual(complete('msnl route add 128.232.0.2 via 192.0.2.2:1994 priority 10 '), ['auth', 'key', 'via']);
  assert.deepEqual(complete('msnl route add 128.232.0.2 via 192.0.2.2:1994 auth '), ['none']);
  assert.deepEqual(complete('msnl route add 128.232.0.2 via 192.0.2.2:1994 key K= '), ['mtu']);
  assert.deepEqual(complete('msnl ifconfig ms'), ['ms0', 'ms1', 'ms2', 'ms3']);
});
