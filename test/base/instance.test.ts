// Per-namespace instances: the paths -n NETNS derives, and how msnl resolves them against
// --db/--socket and the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PATHS, instancePaths, netnsNameProblem } from '../../src/base/instance.js';
import { buildProgram } from '../../src/cli/main.js';
import { DEFAULT_DB_PATH } from '../../src/store/store.js';
import { DEFAULT_SOCKET_PATH } from '../../src/control/server.js';

test('instance paths: one database, socket and log per namespace; the defaults without one', () => {
  assert.deepEqual(instancePaths(undefined), DEFAULT_PATHS);
  assert.equal(DEFAULT_PATHS.db, DEFAULT_DB_PATH);
  assert.equal(DEFAULT_PATHS.socket, DEFAULT_SOCKET_PATH);
  const a = instancePaths('lab-a');
  const b = instancePaths('lab-b');
  assert.deepEqual(a, { db: '/var/lib/msnl/netns/lab-a/msnl.db', socket: '/run/msnl/netns/lab-a.sock', logFile: '/var/log/msnld-lab-a.log' });
  for (const key of ['db', 'socket', 'logFile'] as const) assert.notEqual(a[key], b[key]);
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'x'.repeat(65)]) assert.ok(netnsNameProblem(bad) !== undefined, bad);
  assert.equal(netnsNameProblem('ns_1.test-2'), undefined);
});

test('msnl -n NETNS: the instance paths unless --db/--socket say otherwise; before the environment', async () => {
  const resolve = async (args: string[], env: Record<string, string> = {}) => {
    const { program, context } = buildProgram({ env, stdout: () => undefined, stderr: () => undefined });
    program.exitOverride();
    program.command('noop').action(() => undefined);
    await program.parseAsync([...args, 'noop'], { from: 'user' });
    return { db: context.options().db, socket: context.options().socket };
  };
  assert.deepEqual(await resolve(['-n', 'lab-a']), { db: '/var/lib/msnl/netns/lab-a/msnl.db', socket: '/run/msnl/netns/lab-a.sock' });
  assert.deepEqual(await resolve(['--netns', 'lab-a'], { MSNL_DB: '/tmp/env.db', MSNL_SOCKET: '/tmp/env.sock' }), {
    db: '/var/lib/msnl/netns/lab-a/msnl.db', socket: '/run/msnl/netns/lab-a.sock',
  });
  assert.deepEqual(await resolve(['-n', 'lab-a', '--db', '/tmp/x.db']), { db: '/tmp/x.db', socket: '/run/msnl/netns/lab-a.sock' });
  assert.deepEqual(await resolve([], { MSNL_DB: '/tmp/env.db' }), { db: '/tmp/env.db', socket: DEFAULT_SOCKET_PATH });
});
