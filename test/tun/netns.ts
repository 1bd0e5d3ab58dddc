// Runs test/tun/fixtures/ns-child.js inside a fresh network namespace and returns its JSON result.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

let counter = 0;

export function runInNetns(mode: string, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const ns = `msnl-tun-${process.pid}-${counter++}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`failed to create namespace ${ns}: ${add.stderr}`);
  try {
    const child = path.join(__dirname, 'fixtures', 'ns-child.js');
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child, mode], {
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, ...env },
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (line === '') throw new Error(`fixture ${mode} printed nothing (status ${run.status}, signal ${run.signal}): ${run.stderr}`);
    return JSON.parse(line) as Record<string, unknown>;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
