import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUdpSocket } from '../../src/msdl/udp-batch.js';
import { UdpLoop } from '../../src/msdl/udp-loop.js';
import { waitFor } from '../helpers/wait.js';

const LOOPBACK = 0x7f000001;

interface Got {
  bytes: number[];
  address: number;
  port: number;
}

function open(loop: UdpLoop, port: number, got: Got[]): BatchUdpSocket {
  return BatchUdpSocket.open({
    address: LOOPBACK, port, native: loop.native, receiveBatch: 4, queueLength: 16, queueBytes: 1 << 16,
    onReceive: (slab, offset, length, address, from) => void got.push({ bytes: [...slab.subarray(offset, offset + length)], address, port: from }),
  });
}

test('sockets of one loop pass datagrams by port, in order, with the sender as source, over several receive batches', async () => {
  const loop = new UdpLoop();
  const gotA: Got[] = [];
  const gotB: Got[] = [];
  const a = open(loop, 7010, gotA);
  const b = open(loop, 7011, gotB);
  try {
    for (let i = 0; i < 10; i++) assert.equal(a.send(LOOPBACK, 7011, Uint8Array.of(i, 0xaa, i)), true);
    b.send(LOOPBACK, 7010, Uint8Array.of(9, 9));
    await waitFor('all eleven datagrams', () => gotB.length === 10 && gotA.length === 1, 2000);
    assert.deepEqual(gotB.map((g) => g.bytes), Array.from({ length: 10 }, (_, i) => [i, 0xaa, i]));
    assert.ok(gotB.every((g) => g.address === LOOPBACK && g.port === 7010));
    assert.deepEqual(gotA, [{ bytes: [9, 9], address: LOOPBACK, port: 7011 }]);
    assert.equal(b.counters.receiveBatches >= 3, true, 'ten datagrams take three batches of four');
  } finally {
    a.close();
    b.close();
  }
});

test('a datagram to a port nobody holds is dropped, a receiver keeps at most maxQueued, and a closed port is free again', async () => {
  const loop = new UdpLoop(3);
  const got: Got[] = [];
  const a = open(loop, 7010, []);
  const b = open(loop, 7011, got);
  assert.throws(() => open(loop, 7011, []), /port 7011 is in use/);
  a.send(LOOPBACK, 7999, Uint8Array.of(1));
  for (let i = 0; i < 5; i++) a.send(LOOPBACK, 7011, Uint8Array.of(i));
  await waitFor('three datagrams', () => got.length === 3, 2000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(got.map((g) => g.bytes[0]), [0, 1, 2]);
  b.close();
  a.send(LOOPBACK, 7011, Uint8Array.of(7));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(got.length, 3, 'nothing reaches a closed socket');
  const again = open(loop, 7011, got);
  a.send(LOOPBACK, 7011, Uint8Array.of(8));
  await waitFor('the datagram after the port was taken again', () => got.length === 4, 2000);
  assert.deepEqual(got[3]!.bytes, [8]);
  a.close();
  again.close();
});
