// sd_notify: the notifier's message format, the addon's unix datagram (path and abstract '@'),
// and (root) msnld under NOTIFY_SOCKET sending READY=1 only once its control socket answers and
// ms0 exists. The test holds the notify socket through a python3 child, because node cannot
// bind a unix datagram socket; at each datagram that child checks, there and then, whether the
// control socket answers a `get=status` request and whether ms0 exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { notifierFromEnv } from '../../src/daemon/sd-notify.js';
import { loadNative } from '../../src/tun/native.js';
import { MSNLD, run } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

// argv: BIND_PATH (leading @ = abstract) [CONTROL_SOCKET]; prints "bound", then one JSON line per datagram.
const HOLDER = `
import json, os, socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + name[1:] if name.startswith('@') else name)
print('bound', flush=True)
s.settimeout(60)
while True:
    message = s.recv(4096).decode()
    control = 'none'
    if len(sys.argv) > 2:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(2)
        try:
            c.connect(sys.argv[2])
            c.sendall(b'get=status\\n\\n')
            reply = c.recv(65536).decode()
            control = 'answers' if 'protocol_version=1' in reply else 'silent'
        except Exception as e:
            control = 'refused: ' + str(e)
        c.close()
    print(json.dumps({'message': message, 'control': control, 'ms0': os.path.exists('/sys/class/net/ms0')}), flush=True)
`;

interface Seen {
  message: string;
  control: string;
  ms0: boolean;
}

/** Starts the holder and resolves once it is bound; `lines` collects what it saw. */
async function holder(argv: readonly string[], prefix: readonly string[] = []): Promise<{ child: ChildProcess; seen: Seen[] }> {
  const [command, ...rest] = [...prefix, 'python3', '-c', HOLDER, ...argv];
  const child = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Seen[] = [];
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => (line === 'bound' ? resolve() : seen.push(JSON.parse(line) as Seen)));
    child.on('exit', (code) => reject(new Error(`notify socket holder exited (${code})`)));
  });
  return { child, seen };
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('notifierFromEnv: none without NOTIFY_SOCKET; KEY=VALUE lines; the variable is not inherited; errors reported', () => {
  assert.equal(notifierFromEnv({}, () => assert.fail('sent'), () => undefined), undefined);
  assert.equal(notifierFromEnv({ NOTIFY_SOCKET: '' }, () => assert.fail('sent'), () => undefined), undefined);
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@sd' };
  const sent: Array<[string, string]> = [];
  const notifier = notifierFromEnv(env, (to, message) => void sent.push([to, message]), () => assert.fail('error'));
  assert.ok(notifier);
  assert.equal(env.NOTIFY_SOCKET, undefined);
  notifier.send({ READY: 1, STATUS: 'two\nlines' });
  assert.deepEqual(sent, [['@sd', 'READY=1\nSTATUS=two lines']]);
  const errors: string[] = [];
  const failing = notifierFromEnv({ NOTIFY_SOCKET: '/x' }, () => {
    throw new Error('ECONNREFUSED');
  }, (line) => errors.push(line));
  failing?.send({ READY: 1 });
  assert.deepEqual(errors, ['failed to notify systemd at /x: ECONNREFUSED']);
});

test('addon sendUnixDatagram reaches a path socket and an abstract @ socket; bad targets throw with errno or TypeError', async (t) => {
  const native = loadNative();
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-notify-'));
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const target of [path.join(dir, 'notify'), `@msnl-notify-test-${process.pid}`]) {
    const { child, seen } = await holder([target]);
    children.push(child);
    assert.equal(native.sendUnixDatagram(target, 'READY=1\nSTATUS=ok'), 17);
    await until(`the datagram at ${target}`, () => seen.length === 1, 5000);
    assert.equal(seen[0]?.message, 'READY=1\nSTATUS=ok');
  }
  assert.throws(() => native.sendUnixDatagram(path.join(dir, 'absent'), 'READY=1'), (e: NodeJS.ErrnoException) => e.syscall === 'sendto' && (e as { errno?: number }).errno === 2);
  for (const bad of ['', 'relative', '@', `/${'x'.repeat(200)}`]) {
    assert.throws(() => native.sendUnixDatagram(bad, 'READY=1'), TypeError, bad);
  }
  assert.throws(() => (native.sendUnixDatagram as (...args: unknown[]) => number)(1, 2), TypeError);
});

test('msnld under NOTIFY_SOCKET: READY=1 comes once the control socket answers and ms0 exists; STOPPING=1 on SIGTERM', async (t) => {
  if (!requireRoot(t)) return;
  const netns = `msnl-notify-${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-notify-'));
  const socket = path.join(dir, 'd.sock');
  const notify = `@msnl-notify-${process.pid}`;
  assert.equal(run(['ip', 'netns', 'add', netns]).code, 0);
  let holderChild: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  try {
    const held = await holder([notify, socket], ['ip', 'netns', 'exec', netns]);
    holderChild = held.child;
    daemon = spawn('ip', ['netns', 'exec', netns, process.execPath, MSNLD, '--foreground', '--db', path.join(dir, 'd.db'), '--socket', socket, '--listen', '127.0.0.1:7010'], {
      env: { ...process.env, NOTIFY_SOCKET: notify },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    daemon.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until('READY=1', () => held.seen.some((s) => s.message.split('\n').includes('READY=1')), 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; msnld said: ${stderr}`);
    });
    const ready = held.seen.find((s) => s.message.split('\n').includes('READY=1'))!;
    assert.equal(held.seen.indexOf(ready), 0, 'READY=1 is the first notification');
    assert.equal(ready.control, 'answers', 'the control socket answered when READY=1 arrived');
    assert.equal(ready.ms0, true, 'ms0 existed when READY=1 arrived');
    assert.match(ready.message, /^MAINPID=\d+$/m);
    daemon.kill('SIGTERM');
    await until('STOPPING=1', () => held.seen.some((s) => s.message === 'STOPPING=1'), 10_000);
    await until('msnld exits', () => daemon!.exitCode !== null, 10_000);
    assert.equal(daemon.exitCode, 0, stderr);
  } finally {
    if (daemon !== undefined && daemon.exitCode === null) daemon.kill('SIGKILL');
    holderChild?.kill();
    run(['ip', 'netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
