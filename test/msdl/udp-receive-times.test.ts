// BatchUdpSocket's receive times (udp-receive.ts): the kernel stamps datagrams (SO_TIMESTAMPNS)
// from open and from the first receivedAgo() until nobody asked for an idle period, so the data path between
// calls pays nothing for them. The first datagram to ask gets NaN (unknown: it came unstamped, and
// msnl's two receive-time rules then answer it as one received just now); the ones after it get
// their age. Checked on a real socket and, for the switching itself, on a scripted native socket.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUdpSocket } from '../../src/msdl/udp-batch.js';
import { NO_AGE, UV_READABLE, type NativeUdpSocket } from '../../src/msdl/udp-addon.js';

const LOOPBACK = 0x7f000001;

function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // the loop blocked: datagrams wait in the queue
}

test('receivedAgo: NaN for the datagram that turns receive times on again, then how long each waited in the receive queue; NaN outside onReceive or with receive times off', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const ages: number[] = [];
  const plainAges: number[] = [];
  const rx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, onReceive: () => ages.push(rx.receivedAgo()) });
  const off = BatchUdpSocket.open({ address: LOOPBACK, port: 0, receiveTimes: false, onReceive: () => plainAges.push(off.receivedAgo()) });
  const tx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, onReceive: () => undefined });
  // On loopback a flushed datagram is in the receiver's queue when sendmmsg returns: pollNow reads it.
  const deliver = (to: BatchUdpSocket, octet: number): void => {
    tx.send(LOOPBACK, to.local().port, Uint8Array.of(octet));
    tx.flush();
  };
  try {
    for (let i = 0; i < 3; i++) mock.timers.tick(1000); // on at open, off after two idle checks
    deliver(rx, 1);
    deliver(off, 1);
    rx.pollNow();
    off.pollNow();
    assert.equal(ages.length, 1);
    assert.ok(Number.isNaN(ages[0]!), 'the first came unstamped: unknown');
    assert.deepEqual(plainAges.map(Number.isNaN), [true], 'no receive times asked: unknown');
    // The kernel's switch for stamping datagrams on arrival flips a moment later (deferred work);
    // until then a datagram is stamped when it is read (age about 0). Wait for it to flip.
    for (let tries = 0; tries < 100 && !(ages.at(-1)! >= 15); tries++) {
      deliver(rx, 9);
      block(20);
      rx.pollNow();
    }
    assert.ok(ages.at(-1)! >= 15, `stamped on arrival: ${ages.at(-1)} ms`);
    const before = ages.length;
    deliver(rx, 2);
    block(300);
    rx.pollNow();
    assert.equal(ages.length, before + 1);
    assert.ok(ages.at(-1)! >= 250 && ages.at(-1)! < 10_000, `waited ${ages.at(-1)} ms`);
    assert.ok(Number.isNaN(rx.receivedAgo()), 'outside onReceive: unknown');
    deliver(rx, 3);
    rx.pollNow();
    assert.equal(ages.length, before + 2);
    assert.ok(ages.at(-1)! >= 0 && ages.at(-1)! < 250, `read at once: ${ages.at(-1)} ms`);
  } finally {
    rx.close();
    off.close();
    tx.close();
    mock.timers.reset();
  }
});

/** A native socket whose receive queue the test fills; it records how receive times are switched and
 *  whether recvBatch was given an ages array. */
class StampingNative implements NativeUdpSocket {
  static last: StampingNative | undefined;
  queue: number[] = [];
  switches: boolean[] = [];
  /** The next socket made refuses receive times. */
  static refuse = false;
  readonly refuse = StampingNative.refuse;
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

test('receive times are on at open, go off after an idle period, on again at the first receivedAgo (that datagram and the rest of its round: NaN), stay on while asked; data alone never turns them on', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  // Octets >= 100 are "connect requests" that ask; the rest are data that never does.
  const { socket, fake, seen } = scripted((octet) => octet >= 100);
  try {
    assert.deepEqual(fake.switches, [true], 'on at open');
    mock.timers.tick(20);
    assert.deepEqual(fake.switches, [true], 'the first check: on');
    fake.queue.push(0);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.agesPassed, [true], 'read with them while on');
    fake.agesPassed = [];
    mock.timers.tick(20);
    assert.deepEqual(fake.switches, [true, false], 'off after a whole idle period (data does not count)');
    fake.switches = [];
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
  StampingNative.refuse = true;
  const { socket, fake, seen } = scripted(() => true);
  StampingNative.refuse = false;
  try {
    fake.queue.push(101, 102, 103, 104, 105, 106);
    fake.callback(0, UV_READABLE);
    assert.deepEqual(fake.switches, [true], 'asked once, at open');
    assert.ok(fake.agesPassed.every((passed) => !passed), 'no round read ages');
    assert.ok(seen.length === 6 && seen.every(([, age]) => Number.isNaN(age)), 'all unknown');
  } finally {
    socket.close();
  }
});
