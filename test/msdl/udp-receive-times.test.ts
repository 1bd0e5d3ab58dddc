// BatchUdpSocket's receive times (udp-receive.ts): the kernel stamps datagrams (SO_TIMESTAMPNS)
// only from the first receivedAgo() until nobody asked for an idle period, so the data path between
// calls pays nothing for them. The first datagram to ask gets NaN (unknown: it came unstamped, and
// msnl's two receive-time rules then answer it as one received just now); the ones after it get
// their age. Checked on a real socket and, for the switching itself, on a scripted native socket.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUdpSocket } from '../../src/msdl/udp-batch.js';
import { NO_AGE, UV_READABLE, type NativeUdpSocket } from '../../src/msdl/udp-addon.js';
import { waitFor } from '../helpers/wait.js';

const LOOPBACK = 0x7f000001;

function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // the loop blocked: datagrams wait in the queue
}

test('receivedAgo: NaN for the datagram that turns receive times on, then how long each waited in the receive queue; NaN outside onReceive or with receive times off', async () => {
  const ages: number[] = [];
  const plainAges: number[] = [];
  const rx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, onReceive: () => ages.push(rx.receivedAgo()) });
  const off = BatchUdpSocket.open({ address: LOOPBACK, port: 0, receiveTimes: false, onReceive: () => plainAges.push(off.receivedAgo()) });
  const tx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, onReceive: () => undefined });
  try {
    tx.send(LOOPBACK, rx.local().port, Uint8Array.of(1));
    tx.send(LOOPBACK, off.local().port, Uint8Array.of(1));
    await waitFor('both received', () => ages.length === 1 && plainAges.length === 1);
    assert.ok(Number.isNaN(ages[0]!), 'the first came unstamped: unknown');
    assert.ok(Number.isNaN(plainAges[0]!), 'no receive times asked: unknown');
    tx.send(LOOPBACK, rx.local().port, Uint8Array.of(2));
    await Promise.resolve(); // the send queue's flush (a microtask) has run: it is in the kernel
    block(300);
    await waitFor('the second received', () => ages.length === 2);
    assert.ok(ages[1]! >= 250 && ages[1]! < 10_000, `waited ${ages[1]} ms`);
    assert.ok(Number.isNaN(rx.receivedAgo()), 'outside onReceive: unknown');
    tx.send(LOOPBACK, rx.local().port, Uint8Array.of(3));
    await waitFor('the third received', () => ages.length === 3);
    assert.ok(ages[2]! >= 0 && ages[2]! < 250, `read at once: ${ages[2]} ms`);
  } finally {
    rx.close();
    off.close();
    tx.close();
  }
});

/** A native socket whose receive queue the test fills; it records how receive times are switched and
 *  whether recvBatch was given an ages array. */
class StampingNative implements NativeUdpSocket {
  static last: StampingNative | undefined;
  queue: number[] = [];
  switches: boolean[] = [];
  refuse = false;
  stamps = false;
  agesPassed: boolean[] = [];
  constructor(_a: number | Uint8Array, _p: number, _r: number, _s: number, readonly callback: (status: number, events: number) => void) {
    StampingNative.last = this;
  }
  recvBatch(slab: Uint8Array, slotSize: number, sizes: Int32Array, addrs: Uint32Array, ports: Uint16Array, segs?: Uint16Array, ages?: Uint32Array): number {
    this.agesPassed.push(ages !== undefined);
    let n = 0;
    while (n < sizes.length && this.queue.length > 0) {
      slab[n * slotSize] = this.queue.shift()!;
      sizes[n] = 1;
      addrs[n] = LOOPBACK;
      ports[n] = 9;
      if (segs !== undefined) segs[n] = 0;
      // Like udp.cc: ages are written only while the kernel stamps (3 ms each here).
      if (ages !== undefined && this.stamps) ages[n] = 3000;
      n++;
    }
    return n;
  }
  sendBatch(): number {
    return 0;
  }
  setReceiveTimes(on: boolean): boolean {
    this.switches.push(on);
    this.stamps = on && !this.refuse;
    return this.stamps;
  }
  watchWritable(): void {}
  local(): { address: number; port: number } {
    return { address: LOOPBACK, port: 4242 };
  }
  bufferSizes(): { receive: number; send: number } {
    return { receive: 0, send: 0 };
  }
  setSegmentation(): void {}
  segmentation(): boolean {
    return false;
  }
  setCoalescing(on: boolean): boolean {
    return on;
  }
  ref(): void {}
  close(): void {}
}

function scripted(ask: (octet: number) => boolean, idleMs = 20): { socket: BatchUdpSocket; fake: StampingNative; seen: Array<[number, number]> } {
  const seen: Array<[number, number]> = [];
  const socket = BatchUdpSocket.open({
    address: LOOPBACK,
    port: 0,
    native: StampingNative,
    receiveBatch: 4,
    receiveTimesIdleMs: idleMs,
    onReceive: (slab, offset) => {
      const octet = slab[offset] as number;
      seen.push([octet, ask(octet) ? socket.receivedAgo() : NO_AGE]);
    },
  });
  return { socket, fake: StampingNative.last!, seen };
}

test('receive times go on at the first receivedAgo (that datagram and the rest of its round: NaN), stay on while asked, and go off after an idle period; data alone never turns them on', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  // Octets >= 100 are "connect requests" that ask; the rest are data that never does.
  const { socket, fake, seen } = scripted((octet) => octet >= 100);
  try {
    assert.deepEqual(fake.switches, [], 'off at open');
    fake.queue.push(1, 2, 3, 4, 5, 6);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.agesPassed, [false, false], 'data rounds read no receive times');
    assert.deepEqual(fake.switches, [], 'data never turns them on');
    fake.queue.push(101, 102, 7, 103, 104, 105);
    fake.agesPassed = [];
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.switches, [true], 'on at the first request');
    assert.deepEqual(fake.agesPassed, [false, true], 'the round that turned them on had none; the next has them');
    const asked = seen.filter(([o]) => o >= 100).map(([o, age]) => [o, Number.isNaN(age) ? 'NaN' : Math.round(age)]);
    assert.deepEqual(asked.slice(0, 3), [[101, 'NaN'], [102, 'NaN'], [103, 'NaN']], 'unstamped: unknown');
    for (const [, age] of asked.slice(3)) assert.ok(typeof age === 'number' && age >= 3, `stamped: ${age} ms`);
    // Asked again within each idle period (20 ms): stays on.
    for (let i = 0; i < 5; i++) {
      mock.timers.tick(15);
      fake.queue.push(110 + i);
      fake.callback(0, UV_READABLE);
    }
    assert.deepEqual(fake.switches, [true], 'still on while requests keep coming');
    mock.timers.tick(20);
    assert.deepEqual(fake.switches, [true], 'a request in the last period: still on');
    fake.agesPassed = [];
    fake.queue.push(8);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.agesPassed, [true], 'data in the meantime is read with them');
    mock.timers.tick(20);
    assert.deepEqual(fake.switches, [true, false], 'off after a whole idle period (data does not count)');
    fake.agesPassed = [];
    fake.queue.push(9);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.agesPassed, [false], 'data after the calls reads no receive times again');
    fake.queue.push(120, 121);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.switches, [true, false, true], 'the next burst turns them on again');
    socket.close();
    mock.timers.tick(100);
    assert.deepEqual(fake.switches, [true, false, true], 'closing stops the idle check');
  } finally {
    socket.close();
    mock.timers.reset();
  }
});

test('a kernel that refuses receive times is asked once: every receivedAgo is NaN and no round reads ages', () => {
  const { socket, fake, seen } = scripted(() => true);
  fake.refuse = true;
  try {
    fake.queue.push(101, 102, 103, 104, 105, 106);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.switches, [true], 'asked once');
    assert.ok(fake.agesPassed.every((passed) => !passed), 'no round read ages');
    assert.ok(seen.length === 6 && seen.every(([, age]) => Number.isNaN(age)), 'all unknown');
  } finally {
    socket.close();
  }
});
