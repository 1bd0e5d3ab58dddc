import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { warmUp } from '../../src/daemon/warmup.js';

test('the warm-up call completes, plain and keyed: call, packets both ways (one segmented), release', () => {
  assert.equal(warmUp(false), true);
  assert.equal(warmUp(true), true);
});

// msnld runs the warm-up before it opens its control socket, so a warm-up that never returns is a
// daemon that never starts. A JWK export of a fresh X25519 key once deadlocked Node.js 20 inside a
// garbage collection (src/crypto/primitives.ts) and hung about one warm-up loop of 300 in two.
test('300 warm-up calls in a row, keyed and plain, finish (no deadlock in key generation)', () => {
  const warmup = path.resolve(__dirname, '../../src/daemon/warmup.js');
  const script = `import { warmUp } from ${JSON.stringify(warmup)};
let ok = 0;
for (let i = 0; i < 300; i++) {
  const started = performance.now();
  if (warmUp(i % 2 === 0) && performance.now() >= started) ok++;
}
console.log(ok);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.equal(child.signal, null, `the warm-up loop did not finish in 60 s (hung): ${child.stderr}`);
  assert.equal(child.stdout.trim(), '300', child.stderr);
});
