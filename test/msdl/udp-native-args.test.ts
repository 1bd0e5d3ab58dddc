// The addon's UdpSocket.recvBatch (src/tun/native/udp.cc) under hostile arguments for its `ages`
// array (receive times, SO_TIMESTAMPNS): a wrong type is a TypeError with nothing read; a short or
// empty array (which may have no data pointer at all) caps the batch, as an empty `segs` does; a view into a larger buffer is written only inside the view, and
// only while the kernel stamps; undefined reads without ages. Datagrams not read stay queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUdpSocket } from '../../src/msdl/udp-batch.js';
import { loadUdpSocket, NO_AGE, type NativeUdpSocket } from '../../src/msdl/udp-addon.js';

const LOOPBACK = 0x7f000001;
const BATCH = 8;
const SLOT = 2048;
const GUARD = 0xa5a5a5a5;

interface Arrays {
  slab: Uint8Array;
  sizes: Int32Array;
  addrs: Uint32Array;
  ports: Uint16Array;
  segs: Uint16Array;
}

function arrays(): Arrays {
  return { slab: new Uint8Array(BATCH * SLOT), sizes: new Int32Array(BATCH), addrs: new Uint32Array(BATCH), ports: new Uint16Array(BATCH), segs: new Uint16Array(BATCH) };
}

function withSockets(body: (rx: NativeUdpSocket, send: (count: number) => void) => void): void {
  const Native = loadUdpSocket();
  const rx = new Native(LOOPBACK, 0, 1 << 20, 1 << 20, () => undefined);
  const tx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, onReceive: () => undefined });
  const port = rx.local().port;
  let tag = 0;
  const send = (count: number): void => {
    for (let i = 0; i < count; i++) tx.send(LOOPBACK, port, Uint8Array.of(++tag));
    tx.flush(); // on loopback the datagrams are in rx's queue when sendmmsg returns
  };
  try {
    body(rx, send);
  } finally {
    rx.close();
    tx.close();
  }
}

/** Reads with `ages` until the queue is empty: the datagrams' first octets. */
function drain(rx: NativeUdpSocket, a: Arrays): number[] {
  const got: number[] = [];
  for (let n = rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs); n > 0; n = rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs)) {
    for (let i = 0; i < n; i++) got.push(a.slab[i * SLOT] as number);
  }
  return got;
}

test('recvBatch: an `ages` of the wrong type is a TypeError and reads nothing; undefined reads without ages', () => {
  withSockets((rx, send) => {
    assert.equal(rx.setReceiveTimes?.(true), true, 'the kernel stamps');
    send(3);
    const a = arrays();
    const hostile: unknown[] = [new Int32Array(BATCH), new Uint16Array(BATCH), new Float64Array(BATCH), new BigUint64Array(BATCH), new DataView(new ArrayBuffer(32)), new ArrayBuffer(32), Buffer.alloc(32), [1, 2, 3], 'ages', 7, {}, null, true];
    for (const ages of hostile) {
      assert.throws(() => (rx.recvBatch as (...args: unknown[]) => number)(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, ages), (e: unknown) => e instanceof TypeError && e.message === 'ages must be a Uint32Array', `refused: ${Object.prototype.toString.call(ages)}`);
    }
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, undefined), 3, 'undefined: read without ages');
    assert.deepEqual([a.slab[0], a.slab[SLOT], a.slab[2 * SLOT]], [1, 2, 3], 'nothing was read by the refused calls');
  });
});

test('recvBatch: a short `ages` caps the batch, an empty one reads nothing, and a view is written only inside itself and only while the kernel stamps', () => {
  withSockets((rx, send) => {
    const a = arrays();
    assert.equal(rx.setReceiveTimes?.(true), true);
    send(5);
    // A view of two words inside four: the words around it are guards.
    const backing = new Uint32Array([GUARD, GUARD, GUARD, GUARD]);
    const ages = new Uint32Array(backing.buffer, 4, 2);
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, ages), 2, 'capped at the view\'s length');
    assert.deepEqual([backing[0], backing[3]], [GUARD, GUARD], 'nothing written outside the view');
    for (const age of ages) assert.ok(age !== NO_AGE && age < 10_000_000, `stamped: ${age} us`);
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, new Uint32Array(0)), 0, 'an empty ages: nothing read');
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, new Uint16Array(0), ages), 0, 'an empty segs, likewise');
    const empty = new Uint32Array(backing.buffer, 8, 0);
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, empty), 0, 'an empty view: nothing read');
    const long = new Uint32Array(BATCH * 4).fill(GUARD);
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, long), 3, 'the three left, in one batch');
    assert.deepEqual([a.slab[0], a.slab[SLOT], a.slab[2 * SLOT]], [3, 4, 5], 'in order: none lost to the capped calls');
    assert.ok(long.subarray(0, 3).every((age) => age !== GUARD && age !== NO_AGE), 'the three read got ages');
    assert.ok(long.subarray(3).every((age) => age === GUARD), 'past the datagrams read: untouched');
    // Stamps off: ages still caps the batch but is never written.
    assert.equal(rx.setReceiveTimes?.(false), false);
    send(3);
    const off = new Uint32Array(2).fill(GUARD);
    assert.equal(rx.recvBatch(a.slab, SLOT, a.sizes, a.addrs, a.ports, a.segs, off), 2);
    assert.deepEqual([...off], [GUARD, GUARD], 'no receive times: not written');
    assert.deepEqual(drain(rx, a), [8]);
  });
});
