import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, MemoryUnderlay, type MemoryPeer } from '../../src/msdl/memory.js';

class Clock {
  t = 0;
  now(): number {
    return this.t;
  }
}

function trace(seed: number): string[] {
  const clock = new Clock();
  const hub = new MemoryHub({ clock, seed, loss: 0.2, duplicate: 0.1, reorder: 0.3, delayMs: 2 });
  const a = hub.attach('a');
  const b = hub.attach('b');
  const got: string[] = [];
  b.onReceive((bytes, from: MemoryPeer) => got.push(`${from.name}:${bytes[0]}@${clock.t}`));
  a.onReceive(() => undefined);
  for (let i = 0; i < 200; i++) {
    a.send(hub.peer('b'), new Uint8Array([i & 0xff]));
    clock.t += 1;
    hub.deliverDue();
  }
  for (let i = 0; i < 100 && hub.inFlight > 0; i++) {
    clock.t = hub.nextDeliveryAt();
    hub.deliverDue();
  }
  return got;
}

test('the memory hub is deterministic per seed and applies loss, duplication and reordering', () => {
  const one = trace(7);
  assert.deepEqual(trace(7), one);
  assert.notDeepEqual(trace(8), one);
  const values = one.map((s) => Number(s.split(':')[1]!.split('@')[0]));
  assert.ok(values.length > 120 && values.length < 200, `delivered ${values.length}`);
  assert.ok(new Set(values).size < 200, 'some lost');
  assert.ok(new Set(values).size < values.length, 'some duplicated');
  assert.ok(values.some((v, i) => i > 0 && v < values[i - 1]!), 'some reordered');
  assert.ok(one.every((s) => s.startsWith('a:')), 'the sender is named by its canonical link');
});

test('the memory link copies on send, refuses oversize, and stops after close', async () => {
  const clock = new Clock();
  const hub = new MemoryHub({ clock, seed: 1, maxDatagram: 10 });
  const a = hub.attach('a');
  const b = hub.attach('b');
  const got: number[][] = [];
  b.onReceive((bytes) => got.push([...bytes]));
  const buf = new Uint8Array([1, 2, 3]);
  a.send(hub.peer('b'), buf);
  a.send(hub.peer('b'), new Uint8Array(11));
  buf[0] = 9;
  clock.t = 5;
  hub.deliverDue();
  assert.deepEqual(got, [[1, 2, 3]]);
  assert.equal(a.counters.oversize, 1);
  assert.equal(hub.peer('a'), a.self);
  assert.throws(() => hub.attach('a'), /failed to attach memory node/);
  await b.close();
  a.send(hub.peer('b'), buf);
  clock.t = 10;
  hub.deliverDue();
  assert.equal(hub.stats.noSuchNode, 1);
  assert.equal(got.length, 1);
});

test('the memory underlay names nodes HOST:PORT, passes (buf, offset, length) and canonical links', async () => {
  const clock = new Clock();
  const underlay = new MemoryUnderlay(new MemoryHub({ clock, seed: 3 }));
  const got: Array<{ text: string; from: MemoryPeer }> = [];
  const a = await underlay.open('192.0.2.1', 1994, (buf, offset, length, from) => got.push({ text: Buffer.from(buf.subarray(offset, offset + length)).toString(), from }));
  const b = await underlay.open('2001:db8::2', 1994, () => undefined);
  assert.equal(a.describe(), '192.0.2.1:1994');
  assert.equal(b.describe(), '[2001:db8::2]:1994');
  const reused = Buffer.from('xhellox');
  b.send(underlay.link('192.0.2.1', 1994), reused, 1, 5);
  reused.write('ZZZZZZZ');
  clock.t = 5;
  underlay.hub.deliverDue();
  assert.deepEqual(got.map((g) => g.text), ['hello']);
  assert.equal(got[0]?.from, underlay.link('2001:db8::2', 1994));
  assert.ok(underlay.same(got[0]!.from, underlay.link('2001:db8::2', 1994)));
  assert.ok(!underlay.same(got[0]!.from, underlay.link('192.0.2.1', 1994)));
  await a.close();
  await b.close();
});
