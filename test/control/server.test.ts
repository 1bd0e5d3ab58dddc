import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ControlClient, ControlClientError, describeSocketError } from '../../src/control/client.js';
import { Errno } from '../../src/control/protocol.js';
import { ControlServer, defaultSocketPath } from '../../src/control/server.js';
import { FakeHandler, SAMPLE_CONNECTION, SAMPLE_HEALTH, SAMPLE_INTERFACE, SAMPLE_STATUS } from './fake-handler.js';
import { makeStaleSocket, rawExchange, tempDir, withFakeServer } from './socket-helpers.js';

/** The socket in a directory listen() makes. */
function withServer(body: (socketPath: string, handler: FakeHandler, server: ControlServer) => Promise<void>): Promise<void> {
  return withFakeServer(body, {}, path.join('run', 'msnld.sock'));
}

test('socket path comes from MSNL_SOCKET, else the default', () => {
  assert.equal(defaultSocketPath({}), '/run/msnl/msnld.sock');
  assert.equal(defaultSocketPath({ MSNL_SOCKET: '/tmp/x.sock' }), '/tmp/x.sock');
  assert.equal(defaultSocketPath({ MSNL_SOCKET: '' }), '/run/msnl/msnld.sock');
});

test('the socket is created with its directory, mode 0600, and removed on close', async () => {
  let kept = '';
  await withServer(async (socketPath) => {
    kept = socketPath;
    const stat = fs.statSync(socketPath);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o777, 0o600);
  });
  assert.equal(fs.existsSync(kept), false);
});

test('the client gets every kind of row back as sent', async () => {
  await withServer(async (socketPath, handler) => {
    const client = new ControlClient(socketPath);
    assert.deepEqual(await client.status(), SAMPLE_STATUS);
    assert.deepEqual(await client.interfaces(), [SAMPLE_INTERFACE]);
    assert.deepEqual(await client.connections(), [SAMPLE_CONNECTION]);
    assert.deepEqual(await client.health(), [SAMPLE_HEALTH]);
    handler.connectionRows = [];
    assert.deepEqual(await client.connections(), []);
    await client.reload();
    assert.equal(handler.reloads, 1);
  });
});

test('handler errors come back as errno and message; plain throws are -EIO', async () => {
  await withServer(async (socketPath, handler) => {
    const client = new ControlClient(socketPath);
    await client.disconnect(7);
    assert.deepEqual(handler.disconnected, [7]);
    await assert.rejects(client.disconnect(99), (err: unknown) => err instanceof ControlClientError && err.kind === 'daemon' && err.errno === Errno.ENOENT && err.message === 'no such connection 99');
    handler.status = () => {
      throw new Error('database is locked');
    };
    await assert.rejects(client.status(), (err: unknown) => err instanceof ControlClientError && err.errno === Errno.EIO && err.message === 'database is locked');
    const raw = await rawExchange(socketPath, 'disconnect=99\n\n', 1);
    assert.equal(raw, 'protocol_version=1\nmessage=no such connection 99\nerrno=-2\n\n');
  });
});

test('pipelined requests on one connection are answered in order', async () => {
  await withServer(async (socketPath) => {
    const raw = await rawExchange(socketPath, 'get=status\nverbose=1\n\nreload=1\n\nget=nothing\n\n', 3);
    assert.equal(raw, [
      'protocol_version=1\nmessage=unknown key "verbose" for get\nerrno=-22\n\n',
      'protocol_version=1\nerrno=0\n\n',
      'protocol_version=1\nmessage=get "nothing" is not supported\nerrno=-95\n\n',
    ].join(''));
  });
});

test('ping replies stream in order; an unreachable address is an errno', async () => {
  await withServer(async (socketPath, handler) => {
    const client = new ControlClient(socketPath);
    const seen: unknown[] = [];
    await client.ping('128.232.65.43', 4, 10, (reply) => seen.push(reply));
    assert.deepEqual(seen, [
      { seq: 1, rtt_ms: 0.5, bytes: 64 },
      { seq: 2, rtt_ms: null, bytes: 64 },
      { seq: 3, rtt_ms: 1.5, bytes: 64 },
      { seq: 4, rtt_ms: 0.5, bytes: 64 },
    ]);
    assert.deepEqual(handler.pingCalls[0], { address: 0x80e8412b, count: 4, intervalMs: 10 });
    await assert.rejects(client.ping('0.0.0.0', 1, 10, () => undefined), (err: unknown) => err instanceof ControlClientError && err.errno === Errno.EHOSTUNREACH);
  });
});

test('a client that goes away aborts its endless ping', async () => {
  await withServer(async (socketPath, handler) => {
    const client = new ControlClient(socketPath);
    const stop = new AbortController();
    let replies = 0;
    await client.ping('10.0.0.1', 0, 10, () => {
      if (++replies === 3) stop.abort();
    }, stop.signal);
    assert.equal(replies, 3);
    for (let i = 0; i < 200 && !handler.pingAborted; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(handler.pingAborted, true);
  });
});

test('overlong input gets -EMSGSIZE and a closed connection; the daemon carries on', async () => {
  await withServer(async (socketPath) => {
    const raw = await rawExchange(socketPath, `get=${'x'.repeat(5000)}\n\n`, 1);
    assert.equal(raw, 'protocol_version=1\nmessage=line longer than 1024 bytes\nerrno=-90\n\n');
    const many = await rawExchange(socketPath, 'a=1\n'.repeat(40), 1);
    assert.match(many, /errno=-90\n\n$/);
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
  });
});

test('a second daemon on the same socket is refused; the first keeps serving', async () => {
  await withServer(async (socketPath) => {
    const second = new ControlServer(new FakeHandler(), socketPath);
    await assert.rejects(second.listen(), { message: `failed to listen on control socket ${socketPath}: in use by another msnld` });
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
  });
});

test('a stale socket is reported as not running by the client, left alone, then replaced by the server', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const server = new ControlServer(new FakeHandler(), socketPath);
  try {
    makeStaleSocket(socketPath);
    await assert.rejects(new ControlClient(socketPath).status(), { message: `msnld is not running (no control socket at ${socketPath})` });
    assert.ok(fs.lstatSync(socketPath).isSocket(), 'the client must not remove the stale socket');
    await server.listen();
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a regular file in the way is not removed', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  try {
    fs.writeFileSync(socketPath, 'keep me');
    await assert.rejects(new ControlServer(new FakeHandler(), socketPath).listen(), /a file that is not a socket is in the way/);
    assert.equal(fs.readFileSync(socketPath, 'utf8'), 'keep me');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('connection errors map to the documented messages', async () => {
  const missing = '/nonexistent/msnld.sock';
  await assert.rejects(new ControlClient(missing).status(), (err: unknown) => err instanceof ControlClientError && err.kind === 'not-running' && err.message === `msnld is not running (no control socket at ${missing})`);
  const eacces = Object.assign(new Error('connect EACCES'), { code: 'EACCES' });
  assert.equal(describeSocketError(eacces, '/run/msnl/msnld.sock').message, 'permission denied on /run/msnl/msnld.sock (run as root)');
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.equal(describeSocketError(refused, '/x.sock').kind, 'not-running');
});

test('a socket path over 107 octets is refused before anything is made', async () => {
  const dir = tempDir();
  try {
    const socketPath = path.join(dir, `${'s'.repeat(120 - dir.length)}.sock`);
    assert.ok(Buffer.byteLength(socketPath) > 107);
    await assert.rejects(new ControlServer(new FakeHandler(), socketPath).listen(), {
      message: `failed to listen on control socket ${socketPath}: path is longer than 107 octets`,
    });
    assert.deepEqual(fs.readdirSync(dir), [], 'no stray (truncated) socket file');
    const exact = path.join(dir, `${'e'.repeat(107 - dir.length - 1)}`);
    assert.equal(Buffer.byteLength(exact), 107);
    const server = new ControlServer(new FakeHandler(), exact);
    await server.listen();
    assert.deepEqual(await new ControlClient(exact).status(), SAMPLE_STATUS);
    await server.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a socket directory that cannot be made (under /proc) is an error at once, not a hang', async () => {
  const started = Date.now();
  await assert.rejects(new ControlServer(new FakeHandler(), '/proc/msnl-no-such/run/msnld.sock').listen(), /^Error: failed to listen on control socket \/proc\/msnl-no-such\/run\/msnld.sock: cannot create directory \/proc\/msnl-no-such: ENOENT/);
  assert.ok(Date.now() - started < 5000);
});
