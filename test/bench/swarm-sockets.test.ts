import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { SwarmSockets } from '../../bench/swarm-sockets.js';
import { waitFor } from '../helpers/wait.js';

const LOOPBACK = 0x7f000001;

test('the swarm sockets: each its own port, connected to the target, batched both ways, each reply back to its socket', async () => {
  const server = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  const seen: string[] = [];
  // The target answers each datagram with its text reversed, to the port it came from.
  server.on('message', (bytes, from) => {
    seen.push(`${from.port}:${bytes.toString()}`);
    server.send(Buffer.from(bytes.toString().split('').reverse().join('')), from.port, from.address);
  });
  const got: string[] = [];
  let sockets: SwarmSockets | undefined;
  let base = 0;
  for (let attempt = 0; sockets === undefined && attempt < 5; attempt++) {
    base = 30_000 + Math.floor(Math.random() * 30_000);
    try {
      sockets = new SwarmSockets(LOOPBACK, base, 3, LOOPBACK, server.address().port, (index, buf, offset, length) =>
        got.push(`${index}:${Buffer.from(buf.subarray(offset, offset + length)).toString()}`));
    } catch (error) {
      assert.match((error as Error).message, /address already in use/i);
    }
  }
  assert.ok(sockets !== undefined);
  try {
    const frame = Buffer.from('xxabcxx');
    sockets.send(0, frame, 2, 3); // "abc": only the slice goes
    frame.write('zz');
    sockets.send(2, Buffer.from('hello'), 0, 5);
    sockets.send(1, Buffer.from('12'), 0, 2);
    await waitFor('three replies', () => got.length === 3, 5_000);
    assert.deepEqual(seen.sort(), [`${base}:abc`, `${base + 1}:12`, `${base + 2}:hello`].sort());
    assert.deepEqual(got.sort(), ['0:cba', '1:21', '2:olleh']);
    assert.equal(sockets.dropped[0], 0);
    // A second socket on a port of the set is refused: the ports are really held.
    const clash = dgram.createSocket('udp4');
    await assert.rejects(new Promise<void>((resolve, reject) => {
      clash.once('error', reject);
      clash.bind(base + 1, '127.0.0.1', () => resolve());
    }), /EADDRINUSE/);
    clash.close();
  } finally {
    sockets.close();
    server.close();
  }
  assert.throws(() => {
    sockets.send(0, Buffer.from('x'), 0, 1);
    sockets.flush();
  }, /closed UDP socket set/);
});
