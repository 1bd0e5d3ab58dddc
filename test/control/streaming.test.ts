import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ControlClient } from '../../src/control/client.js';
import { Errno, encodeRequest, parseRequest, ProtocolError } from '../../src/control/protocol.js';
import type { ConnectionRow, HealthRow } from '../../src/control/rows.js';
import { SAMPLE_CONNECTION, SAMPLE_HEALTH } from './fake-handler.js';
import { withFakeServer } from './socket-helpers.js';

function connection(i: number): ConnectionRow {
  return { ...SAMPLE_CONNECTION, connection: i + 1, interface: `ms${i % 4}`, peer_ip: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`, state: i % 3 === 0 ? 'up' : 'open', rx_bytes: i };
}

test('a reply of over 20 MB arrives whole, past the 1 MiB unread-reply limit', async () => {
  await withFakeServer(async (socketPath, handler) => {
    handler.connectionRows = Array.from({ length: 100_000 }, (_, i) => connection(i));
    const client = new ControlClient(socketPath, { maxReplyBytes: 1 << 20 });
    let bytes = 0;
    const raw = await new Promise<number>((resolve, reject) => {
      const socket = net.connect(socketPath, () => socket.write(encodeRequest({ kind: 'get', what: 'connections' })));
      socket.on('data', (chunk) => {
        bytes += chunk.length;
        if (chunk.subarray(-3).toString() === '\n\n' || chunk.toString().endsWith('errno=0\n\n')) socket.end();
      });
      socket.on('end', () => resolve(bytes));
      socket.on('error', reject);
    });
    assert.ok(raw > 20_000_000, `the reply is ${raw} bytes`);
    const rows = await client.connections();
    assert.equal(rows.length, 100_000);
    assert.deepEqual(rows[99_999], connection(99_999));
    assert.deepEqual(rows[12_345], connection(12_345));
  });
});

test('conn and health filter by interface, peer and state in msnld', async () => {
  await withFakeServer(async (socketPath, handler) => {
    handler.connectionRows = Array.from({ length: 100 }, (_, i) => connection(i));
    handler.healthRows = [SAMPLE_HEALTH, { ...SAMPLE_HEALTH, connection: 8, interface: 'ms1', state: 'down' } as HealthRow];
    const client = new ControlClient(socketPath);
    const ms2 = await client.connections({ interface: 'ms2' });
    assert.equal(ms2.length, 25);
    assert.ok(ms2.every((row) => row.interface === 'ms2'));
    assert.deepEqual(await client.connections({ peer: '10.0.0.7' }), [connection(7)]);
    assert.equal((await client.connections({ interface: 'ms0', state: 'up' })).length, 9);
    assert.deepEqual((await client.health({ state: 'down' })).map((row) => row.connection), [8]);
    assert.deepEqual(await client.health({ interface: 'ms3' }), []);
  });
});

test('filters are checked: unknown keys, interfaces, peers and states are EINVAL', () => {
  assert.deepEqual(parseRequest('get=connections\ninterface=ms1\npeer=10.0.0.1\nstate=up\n'), { kind: 'get', what: 'connections', filter: { interface: 'ms1', peer: '10.0.0.1', state: 'up' } });
  for (const bad of ['get=connections\ninterface=eth0\n', 'get=health\npeer=10.0.0\n', 'get=health\nstate=open\n', 'get=connections\ncolour=red\n', 'get=status\ninterface=ms0\n']) {
    const parsed = parseRequest(bad);
    assert.ok(parsed instanceof ProtocolError, bad);
    assert.equal(parsed.errno, Errno.EINVAL, bad);
  }
  assert.equal(encodeRequest({ kind: 'get', what: 'health', filter: { peer: '10.0.0.1' } }), 'get=health\npeer=10.0.0.1\n\n');
});

test('a client that stops reading a long reply holds at most a few chunks and is dropped after the idle time', async () => {
  await withFakeServer(
    async (socketPath, handler, server) => {
      handler.connectionRows = Array.from({ length: 200_000 }, (_, i) => connection(i));
      const socket = net.connect(socketPath);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(encodeRequest({ kind: 'get', what: 'connections' }));
      socket.pause(); // never reads (so it never sees the close either)
      socket.on('error', () => undefined);
      const started = Date.now();
      while (server.connectionCount > 0 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(server.connectionCount, 0, 'msnld dropped the client that does not read');
      assert.ok(socket.readableLength + socket.bytesRead < 4 << 20, 'the rest of the reply was never queued');
      socket.destroy();
      // Meanwhile others are served.
      assert.equal((await new ControlClient(socketPath).connections({ peer: '10.0.0.1' })).length, 1);
    },
    { idleTimeoutMs: 300 },
  );
});
