import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUdpSocket } from '../../src/msdl/udp-batch.js';
import { UdpLoop } from '../../src/msdl/udp-loop.js';
import { waitFor } from '../helpers/wait.js';

const LOOPBACK = 0x7f000001;

test('flushLone sends a lone queued datagram at once, outside a receive round; two queued wait for the end of the burst', async () => {
  const loop = new UdpLoop();
  const a = BatchUdpSocket.open({ address: LOOPBACK, port: 7010, native: loop.native, onReceive: () => undefined });
  try {
    a.send(LOOPBACK, 7011, Uint8Array.of(1));
    assert.equal(a.queued(), 1);
    a.flushLone();
    assert.equal(a.queued(), 0, 'sent now');
    a.send(LOOPBACK, 7011, Uint8Array.of(2));
    a.send(LOOPBACK, 7011, Uint8Array.of(3));
    a.flushLone();
    assert.equal(a.queued(), 2, 'two are a burst: they wait for its end');
    await waitFor('the burst flushed', () => a.queued() === 0, 2000);
  } finally {
    a.close();
  }
});

test('inside a receive round flushLone sends an answer at once when the round held one datagram, not when it held several', async () => {
  const loop = new UdpLoop();
  const left: number[][] = [];
  let b: BatchUdpSocket | undefined;
  // b answers each datagram and asks for it to go out at once; what was left queued is noted.
  b = BatchUdpSocket.open({
    address: LOOPBACK, port: 7011, native: loop.native, receiveBatch: 8,
    onReceive: (slab, offset) => {
      b!.send(LOOPBACK, 7010, Uint8Array.of(slab[offset]!));
      b!.flushLone();
      left.push([slab[offset]!, b!.queued()]);
    },
  });
  const got: number[] = [];
  const a = BatchUdpSocket.open({ address: LOOPBACK, port: 7010, native: loop.native, onReceive: (slab, offset) => void got.push(slab[offset]!) });
  try {
    a.send(LOOPBACK, 7011, Uint8Array.of(1));
    await waitFor('the lone answer', () => got.length === 1, 2000);
    assert.deepEqual(left, [[1, 0]], 'a round of one: the answer left at once');
    for (const n of [2, 3, 4]) a.send(LOOPBACK, 7011, Uint8Array.of(n));
    await waitFor('three answers', () => got.length === 4, 2000);
    assert.deepEqual(left.slice(1), [[2, 1], [3, 2], [4, 3]], 'a round of three keeps one flush for all');
    assert.deepEqual(got, [1, 2, 3, 4]);
  } finally {
    a.close();
    b.close();
  }
});

test('pollNow receives what waits at once, as a readable event would, and nothing (no error counted) when nothing waits', async () => {
  const loop = new UdpLoop();
  const got: number[] = [];
  const b = BatchUdpSocket.open({ address: LOOPBACK, port: 7011, native: loop.native, onReceive: (slab, offset) => void got.push(slab[offset]!) });
  const a = BatchUdpSocket.open({ address: LOOPBACK, port: 7010, native: loop.native, onReceive: () => undefined });
  try {
    b.pollNow();
    assert.deepEqual(got, [], 'nothing waited');
    a.send(LOOPBACK, 7011, Uint8Array.of(7));
    a.flushLone();
    assert.deepEqual(got, [], 'the readable event comes on a later turn');
    b.pollNow();
    assert.deepEqual(got, [7], 'received now, without a turn of the event loop');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(got, [7], 'the readable event that follows finds nothing more');
    assert.equal(b.counters.receiveErrors, 0);
    assert.equal(b.counters.receiveBatches, 1);
  } finally {
    a.close();
    b.close();
  }
  b.pollNow();
  assert.deepEqual(got, [7], 'a closed socket receives nothing');
});
