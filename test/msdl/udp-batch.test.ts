import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { BatchUdpSocket, UdpSocketError, type BatchUdpOptions } from '../../src/msdl/udp-batch.js';
import { UV_READABLE, UV_WRITABLE, type NativeUdpSocket } from '../../src/msdl/udp-addon.js';
import { requireRoot } from '../helpers/root.js';
import { waitFor } from '../helpers/wait.js';

const LOOPBACK = 0x7f000001;


/** Datagram `size` bytes long whose content depends on size and a tag. */
function datagram(size: number, tag: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (size * 7 + i * 13 + tag) & 0xff;
  return b;
}

interface Received {
  bytes: Buffer;
  address: number;
  port: number;
}

function open(got: Received[], extra: Partial<BatchUdpOptions> = {}): BatchUdpSocket {
  return BatchUdpSocket.open({
    address: LOOPBACK,
    port: 0,
    onReceive: (slab, offset, length, address, port) => got.push({ bytes: Buffer.from(slab.subarray(offset, offset + length)), address, port }),
    ...extra,
  });
}

for (const plain of [false, true]) {
test(`two sockets on 127.0.0.1 exchange sizes 1..1472 both ways, in order, in batches${plain ? ' (no GSO/GRO)' : ''}`, async () => {
  const gotA: Received[] = [];
  const gotB: Received[] = [];
  const extra = plain ? { segmentation: false, coalescing: false } : {};
  const a = open(gotA, extra);
  const b = open(gotB, extra);
  try {
    const pa = a.local().port;
    const pb = b.local().port;
    assert.match(a.describe(), /^127\.0\.0\.1:\d+$/);
    const sizes = Array.from({ length: 1472 }, (_, i) => i + 1);
    // Chunks of 256 so the receive buffers never overflow even where SO_RCVBUF is capped.
    for (let from = 0; from < sizes.length; from += 256) {
      const chunk = sizes.slice(from, from + 256);
      for (const size of chunk) {
        assert.equal(a.send(LOOPBACK, pb, datagram(size, 1)), true);
        assert.equal(b.send(LOOPBACK, pa, datagram(size, 2)), true);
      }
      assert.equal(a.queued(), chunk.length, 'sends wait for the end of the burst');
      await waitFor(`chunk at ${from}`, () => gotA.length === from + chunk.length && gotB.length === from + chunk.length);
    }
    for (const [got, tag, port] of [[gotB, 1, pa], [gotA, 2, pb]] as const) {
      assert.equal(got.length, 1472);
      got.forEach((r, i) => {
        assert.equal(r.bytes.length, i + 1, `datagram ${i} in order`);
        assert.deepEqual(r.bytes, Buffer.from(datagram(i + 1, tag)));
        assert.equal(r.address, LOOPBACK);
        assert.equal(r.port, port);
      });
    }
    const total = (1472 * 1473) / 2;
    for (const s of [a, b]) {
      assert.equal(s.counters.datagramsSent, 1472);
      assert.equal(s.counters.bytesSent, total);
      assert.equal(s.counters.datagramsReceived, 1472);
      assert.equal(s.counters.bytesReceived, total);
      assert.ok(s.counters.sendBatches <= 12, `sends went out in batches (${s.counters.sendBatches} calls)`);
      assert.ok(s.counters.receiveBatches < 1472, `receives came in batches (${s.counters.receiveBatches} calls)`);
      assert.equal(s.counters.sendErrors + s.counters.queueDrops + s.counters.truncated, 0);
      assert.equal(s.queued(), 0);
      assert.equal(s.segmentation(), !plain);
    }
  } finally {
    a.close();
    b.close();
  }
});
}

test('runs of one size go out segmented (GSO), arrive coalesced (GRO) and are split back in order', async () => {
  const got: Received[] = [];
  const rx = open(got);
  const plainGot: Received[] = [];
  const plainRx = open(plainGot, { coalescing: false });
  const tx = open([]);
  try {
    const sizes = [...Array.from({ length: 150 }, () => 1000), 999, 17, ...Array.from({ length: 100 }, () => 64), 1472];
    let tag = 0;
    const sent = sizes.map((size) => datagram(size, tag++));
    for (const d of sent) tx.send(LOOPBACK, rx.local().port, d);
    for (const d of sent) tx.send(LOOPBACK, plainRx.local().port, d);
    await waitFor('every datagram at both receivers', () => got.length === sizes.length && plainGot.length === sizes.length);
    for (const list of [got, plainGot]) list.forEach((r, i) => assert.deepEqual(r.bytes, Buffer.from(sent[i] as Uint8Array), `datagram ${i}`));
    assert.ok(rx.counters.coalescedRuns > 0, 'the kernel coalesced runs for the GRO socket');
    assert.equal(plainRx.counters.coalescedRuns, 0);
    assert.equal(tx.counters.datagramsSent, 2 * sizes.length);
    assert.equal(tx.counters.sendErrors + tx.counters.queueDrops, 0);
    assert.equal(rx.counters.datagramsReceived, sizes.length);
    assert.equal(rx.counters.bytesReceived, sizes.reduce((x, y) => x + y, 0));
  } finally {
    rx.close();
    plainRx.close();
    tx.close();
  }
});

test('sendRun: a run written in place into the send slab leaves as its datagrams, in order; a refused fill queues nothing; no room drops and counts the run', async () => {
  const got: Received[] = [];
  const rx = open(got);
  const tx = open([], { queueLength: 64 });
  try {
    const port = rx.local().port;
    const runs = [[30, 1200, 700], [1, 900, 900], [5, 64, 17]] as const;
    const expected: Buffer[] = [];
    let tag = 0;
    for (const [count, stride, last] of runs) {
      const ds = Array.from({ length: count }, (_, i) => Buffer.from(datagram(i < count - 1 ? stride : last, tag++)));
      expected.push(...ds);
      assert.equal(tx.sendRun(LOOPBACK, port, count, stride, last, (slab, at) => {
        for (const d of ds) {
          d.copy(slab, at);
          at += d.length;
        }
        return true;
      }), true);
    }
    assert.equal(tx.sendRun(LOOPBACK, port, 3, 100, 100, () => false), false, 'a refused fill');
    assert.equal(tx.queued(), 36, 'nothing queued for the refused fill');
    const drops = tx.counters.queueDrops;
    tx.flush();
    assert.equal(tx.sendRun(LOOPBACK, port, 65, 100, 100, () => assert.fail('no room: fill is not called')), false);
    assert.equal(tx.counters.queueDrops, drops + 65);
    await waitFor('every datagram of the runs', () => got.length === expected.length);
    got.forEach((r, i) => assert.deepEqual(r.bytes, expected[i], `datagram ${i}`));
  } finally {
    rx.close();
    tx.close();
  }
});

test('onRoundEnd runs after each receive round, before the slab is reused: datagrams held by reference are intact until then', async () => {
  const held: { slab: Uint8Array; offset: number; length: number; copy: Buffer }[] = [];
  let rounds = 0, delivered = 0, intact = 0;
  const rx = BatchUdpSocket.open({
    address: LOOPBACK, port: 0, receiveRounds: 2,
    onReceive: (slab, offset, length) => {
      held.push({ slab, offset, length, copy: Buffer.from(slab.subarray(offset, offset + length)) });
      slab[offset] = slab[offset]! ^ 0xff; // the receiver may change them in place (opened sealed frames)
      delivered++;
    },
    onRoundEnd: () => {
      rounds++;
      for (const h of held) {
        if (h.slab[h.offset] === (h.copy[0]! ^ 0xff) && Buffer.compare(Buffer.from(h.slab.subarray(h.offset + 1, h.offset + h.length)), h.copy.subarray(1)) === 0) intact++;
      }
      held.length = 0;
    },
  });
  const tx = open([]);
  try {
    const sizes = [...Array.from({ length: 300 }, () => 1200), 17, ...Array.from({ length: 300 }, (_, i) => 20 + i)];
    for (const [i, size] of sizes.entries()) tx.send(LOOPBACK, rx.local().port, datagram(size, i));
    await waitFor('every datagram received', () => delivered === sizes.length);
    assert.equal(held.length, 0, 'every round ended with a call');
    assert.equal(intact, sizes.length, 'each datagram as it came (and as changed in place) at its round end');
    assert.ok(rounds >= 2 && rounds <= rx.counters.receiveBatches, `${rounds} rounds, ${rx.counters.receiveBatches} batches`);
  } finally {
    rx.close();
    tx.close();
  }
});

test('a datagram longer than a receive slot is dropped and counted as truncated', async () => {
  const got: Received[] = [];
  const small = open(got, { slotSize: 100, receiveBatch: 4 });
  const sender = open([]);
  try {
    const port = small.local().port;
    sender.send(LOOPBACK, port, datagram(100, 3));
    sender.send(LOOPBACK, port, datagram(101, 3));
    sender.send(LOOPBACK, port, datagram(5, 3));
    await waitFor('two datagrams and a truncation', () => got.length === 2 && small.counters.truncated === 1);
    assert.deepEqual(got.map((r) => r.bytes.length), [100, 5]);
  } finally {
    small.close();
    sender.close();
  }
});

test('close is idempotent; sends after close are dropped and counted', () => {
  const s = open([]);
  s.close();
  s.close();
  assert.equal(s.isClosed, true);
  assert.equal(s.send(LOOPBACK, 9, datagram(10, 0)), false);
  assert.equal(s.counters.queueDrops, 1);
  assert.throws(() => s.local(), /closed/);
});

test('a bad bind names the socket and the cause', () => {
  const s = open([]);
  try {
    const port = s.local().port;
    assert.throws(() => open([], { port }), (e: unknown) => e instanceof UdpSocketError && e.code === 'EADDRINUSE' && e.message === `failed to bind UDP socket 127.0.0.1:${port}: Address already in use [EADDRINUSE]`);
    assert.throws(() => open([], { address: 0xc0000201 }), /^UdpSocketError: failed to bind UDP socket 192\.0\.2\.1:0: .* \[EADDRNOTAVAIL\]$/);
    assert.throws(() => open([], { port: 70000 }), /failed to bind UDP socket 127\.0\.0\.1:70000: port must be 0\.\.65535/);
  } finally {
    s.close();
  }
});

/** A scripted native socket: takes `room` datagrams, then says EAGAIN until the test adds room. */
class ScriptedNative implements NativeUdpSocket {
  static last: ScriptedNative | undefined;
  room = 0;
  refuse = new Set<number>();
  sent: number[] = [];
  watching: boolean[] = [];
  closed = 0;
  constructor(_a: number | Uint8Array, _p: number, _r: number, _s: number, readonly callback: (status: number, events: number) => void) {
    ScriptedNative.last = this;
  }
  recvBatch(): number {
    return 0;
  }
  /** Errnos to report as refused GSO runs, one per sendBatch call. */
  gsoRefusals: number[] = [];
  sendBatch(slab: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, _a: Uint32Array, _p: Uint16Array, start: number, end: number, gsoStatus?: Int32Array): number {
    if (gsoStatus !== undefined) gsoStatus[0] = this.gsoRefusals.shift() ?? 0;
    let n = 0;
    for (let k = start; k < end && this.room > 0; k++) {
      const first = slab[offsets[k] as number] as number;
      if (this.refuse.has(first)) {
        if (n === 0) {
          this.refuse.delete(first);
          return -90; // EMSGSIZE
        }
        break;
      }
      assert.equal(lengths[k], 3);
      this.sent.push(first);
      this.room--;
      n++;
    }
    return n;
  }
  watchWritable(on: boolean): void {
    this.watching.push(on);
  }
  local(): { address: number; port: number } {
    return { address: LOOPBACK, port: 4242 };
  }
  bufferSizes(): { receive: number; send: number } {
    return { receive: 0, send: 0 };
  }
  segmented = true;
  setSegmentation(on: boolean): void {
    this.segmented = on;
  }
  segmentation(): boolean {
    return this.segmented;
  }
  setCoalescing(on: boolean): boolean {
    return on;
  }
  ref(): void {}
  close(): void {
    this.closed++;
  }
}

test('EAGAIN keeps the rest queued in order, waits for writable, and drops only on overflow', async () => {
  const errors: Error[] = [];
  const s = BatchUdpSocket.open({ address: LOOPBACK, port: 0, native: ScriptedNative, queueLength: 40, onReceive: () => undefined, onError: (e) => errors.push(e) });
  const fake = ScriptedNative.last as ScriptedNative;
  fake.room = 10;
  fake.refuse.add(5);
  for (let i = 0; i < 52; i++) s.send(0x0a000002, 7, Uint8Array.of(i, 0, 0));
  // 40 fit the queue; the 41st send forced a flush that freed 11 slots (one of them refused), the
  // queue refilled to 40 and the 52nd, with the socket blocked, was dropped.
  assert.equal(s.counters.datagramsSent, 10);
  assert.equal(s.counters.sendErrors, 1);
  assert.match(errors[0]?.message ?? '', /^failed to send datagram to 10\.0\.0\.2:7 from UDP socket 127\.0\.0\.1:4242: EMSGSIZE$/);
  assert.equal(s.isBlocked(), true);
  assert.deepEqual(fake.watching, [true]);
  assert.equal(s.queued(), 40);
  assert.equal(s.counters.queueDrops, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.counters.datagramsSent, 10, 'no flush while blocked');
  for (let round = 0; round < 10 && s.queued() > 0; round++) {
    fake.room = 8;
    fake.callback(0, UV_WRITABLE);
  }
  assert.equal(s.queued(), 0);
  assert.equal(s.isBlocked(), false);
  assert.deepEqual(fake.watching, [true, false]);
  const expected = Array.from({ length: 51 }, (_, i) => i).filter((i) => i !== 5);
  assert.deepEqual(fake.sent, expected, 'order preserved across the EAGAIN and compaction');
  assert.equal(s.counters.datagramsSent + s.counters.sendErrors + s.counters.queueDrops, 52);
  assert.equal(s.counters.sendBlocked, 1);
  fake.callback(0, UV_READABLE);
  s.close();
  s.close();
  assert.equal(fake.closed, 1);
});

test('too big on an IPv6 socket: told once per destination and flush, IPv6 by its octets, IPv4-mapped as IPv4', () => {
  const told: string[] = [];
  const any6 = new Uint8Array(16);
  const s = BatchUdpSocket.open({
    address: any6, port: 0, native: ScriptedNative, onReceive: () => undefined,
    onTooBig: (address, port, to6, off) => told.push(`${address} ${port} ${Buffer.from(to6.subarray(off, off + 16)).toString('hex')}`),
  });
  const fake = ScriptedNative.last as ScriptedNative;
  fake.room = 100;
  const a = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2]);
  const b = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 3]);
  // Tags 1..3 to a (refused), 4 to b (refused), 5 to 10.0.0.2 (IPv4-mapped, refused), 6 to a (sent).
  for (const tag of [1, 2, 3, 4, 5]) fake.refuse.add(tag);
  for (const tag of [1, 2, 3]) s.send6(a, 0, 7010, Uint8Array.of(tag, 0, 0));
  s.send6(b, 0, 7010, Uint8Array.of(4, 0, 0));
  s.send(0x0a000002, 7010, Uint8Array.of(5, 0, 0));
  s.send6(a, 0, 7010, Uint8Array.of(6, 0, 0));
  s.flush();
  assert.deepEqual(told, [
    `-1 7010 ${Buffer.from(a).toString('hex')}`,
    `-1 7010 ${Buffer.from(b).toString('hex')}`,
    `${0x0a000002} 7010 00000000000000000000ffff0a000002`,
  ]);
  assert.equal(s.counters.tooBig, 5);
  assert.deepEqual(fake.sent, [6]);
  s.close();
});

test('refused GSO runs: errnos about the path leave segmentation on; EIO turns it off at once, EINVAL after 8', () => {
  const E = constants.errno;
  const errors: Error[] = [];
  const s = BatchUdpSocket.open({ address: LOOPBACK, port: 0, native: ScriptedNative, onReceive: () => undefined, onError: (e) => errors.push(e) });
  const fake = ScriptedNative.last as ScriptedNative;
  fake.room = 1000;
  const sendOne = (errno: number): void => {
    fake.gsoRefusals.push(errno);
    s.send(0x0a000002, 7, Uint8Array.of(1, 0, 0));
    s.flush();
  };
  for (const errno of [E.ENETUNREACH, E.ENETDOWN, E.EHOSTUNREACH, E.EPERM, E.ENOBUFS, E.EAGAIN]) for (let i = 0; i < 20; i++) sendOne(errno);
  assert.equal(s.counters.gsoRefused, 120);
  assert.equal(s.segmentation(), true, 'errors about the path never turn GSO off');
  assert.equal(errors.length, 0);
  for (let i = 0; i < 7; i++) sendOne(E.EINVAL);
  assert.equal(s.segmentation(), true, 'seven EINVAL runs are not yet enough');
  sendOne(E.EINVAL);
  assert.equal(s.segmentation(), false, 'the eighth EINVAL turns GSO off');
  assert.match(errors[0]?.message ?? '', /^UDP socket 127\.0\.0\.1:4242: UDP GSO turned off: the route cannot segment \(EINVAL\)$/);
  fake.segmented = true;
  sendOne(E.EIO);
  assert.equal(s.segmentation(), false, 'EIO from the driver turns GSO off at once');
  assert.equal(fake.sent.length, 129, 'every datagram still went out');
  s.close();
});

/** Runs a fixture (udp-eagain-child by default) in a fresh namespace with a shaped veth; returns its JSON line. */
function inShapedNamespace(mode: string, burst: number, fixture = 'udp-eagain-child.js'): Record<string, unknown> {
  const ns = `msnl-udp-${process.pid}-${mode}`;
  const run = (args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`failed to run ip ${args.join(' ')}: ${r.stderr}`);
  };
  run(['netns', 'add', ns]);
  try {
    run(['-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    run(['-n', ns, 'link', 'set', 'v0', 'up']);
    run(['-n', ns, 'link', 'set', 'v1', 'up']);
    run(['-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'v0']);
    run(['-n', ns, 'neigh', 'add', '10.99.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'v0']);
    const tc = spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'tbf', 'rate', '100mbit', 'burst', '16kb', 'limit', '100kb'], { encoding: 'utf8' });
    if (tc.status !== 0) throw new Error(`failed to shape v0: ${tc.stderr}`);
    const child = path.join(__dirname, 'fixtures', fixture);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child, mode, String(burst)], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.notEqual(line, '', `child printed nothing (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    return JSON.parse(line) as Record<string, unknown>;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

test('a real EAGAIN (tiny SO_SNDBUF, shaped veth in a namespace): every datagram sent or counted, no hang', (t) => {
  if (!requireRoot(t)) return;
  const out = inShapedNamespace('eagain', 1000);
  assert.equal(out.timedOut, false);
  assert.equal(out.blockedAfterBurst, true, 'the burst met EAGAIN');
  assert.ok((out.queuedAfterBurst as number) > 0);
  assert.equal(out.queuedAtEnd, 0);
  assert.equal(out.sendBlocked, 1);
  assert.equal((out.datagramsSent as number) + (out.queueDrops as number) + (out.sendErrors as number), 1000);
  assert.equal(out.datagramsSent, out.accepted);
  assert.ok((out.datagramsSent as number) > 500, `most of the burst went out (${out.datagramsSent})`);
});

test('datagrams above the link MTU are never fragmented: refused as runs and plainly (EMSGSIZE, DF), counted as too big; segmentation turns off', (t) => {
  if (!requireRoot(t)) return;
  const out = inShapedNamespace('gso', 40);
  assert.equal(out.timedOut, false);
  assert.equal(out.datagramsSent, 0, 'a 2000-octet datagram on a 1500-octet link does not leave (no fragments)');
  assert.equal(out.sendErrors, 40);
  assert.equal(out.tooBig, 40, 'each is refused as too big');
  assert.equal(out.segmentation, false, 'eight GSO runs refused for their size turn segmentation off');
});

test('a link flap (veth down, then up) does not turn UDP GSO off: no route says nothing about segmentation', (t) => {
  if (!requireRoot(t)) return;
  type Phase = { segmentation: boolean; sent: number; sendErrors: number; gsoRefused: number };
  const out = inShapedNamespace('flap', 0, 'udp-flap-child.js') as { up: Phase; down: Phase; after: Phase; errors: string[] };
  assert.deepEqual(out.up, { segmentation: true, sent: 160, sendErrors: 0, gsoRefused: 0 });
  assert.equal(out.down.sent, 160, 'nothing goes out while the link is down');
  assert.equal(out.down.sendErrors, 160, 'every datagram sent while down is counted');
  assert.ok(out.down.gsoRefused >= 8, `the kernel refused GSO runs while down (${out.down.gsoRefused}), more than the old limit of 8`);
  assert.match(out.errors[0] ?? '', /ENETUNREACH|ENETDOWN/);
  assert.equal(out.down.segmentation, true);
  assert.equal(out.after.segmentation, true, 'segmentation is still on after the link returns');
  assert.equal(out.after.sent, 320, 'everything sent after the link returned went out');
});
