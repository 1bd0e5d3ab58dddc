import { test } from 'node:test';
import assert from 'node:assert/strict';
// GroCoalescer's UDP runs: same-size datagrams of one flow with consecutive IP identifiers become
// one UDP_L4 super-packet, which the kernel (here fake-offload's segmentUdp) cuts back into exactly
// those datagrams.
import { GroCoalescer } from '../../src/tun/offload-coalesce.js';
import { VnetFlag, VnetGso, writeVnetHeader } from '../../src/tun/offload.js';
import { acceptFrame, segmentUdp } from '../../src/tun/fake-offload.js';
import { internetChecksum } from '../../src/abi/ipv4.js';

interface UdpSpec {
  id?: number;
  sport?: number;
  tos?: number;
  payload: Uint8Array;
  noChecksum?: boolean;
  fragment?: boolean;
}

function buildUdp(spec: UdpSpec): Buffer {
  const b = Buffer.alloc(28 + spec.payload.length);
  b[0] = 0x45;
  b[1] = spec.tos ?? 0;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(spec.id ?? 0, 4);
  b.writeUInt16BE(spec.fragment === true ? 0x2000 : 0x4000, 6);
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(0x0a000001, 12);
  b.writeUInt32BE(0x0a000002, 16);
  b.writeUInt16BE(internetChecksum(b, 0, 20), 10);
  b.writeUInt16BE(spec.sport ?? 5001, 20);
  b.writeUInt16BE(5201, 22);
  b.writeUInt16BE(8 + spec.payload.length, 24);
  b.set(spec.payload, 28);
  if (spec.noChecksum !== true) {
    const pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8 + spec.payload.length;
    const sum = internetChecksum(b, 20, 8 + spec.payload.length, pseudo);
    b.writeUInt16BE(sum === 0 ? 0xffff : sum, 26);
  }
  return b;
}

function pattern(n: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt * 7 + 3) & 0xff);
}

/** Datagrams of one flow, identifiers from id0 up. */
function run(count: number, size = 64, id0 = 100, spec: Partial<UdpSpec> = {}): Buffer[] {
  return Array.from({ length: count }, (_, i) => buildUdp({ ...spec, id: (id0 + i) & 0xffff, payload: pattern(size, i) }));
}

interface Written {
  header: Buffer;
  packet: Buffer;
}

const ZERO = Buffer.alloc(10);

function coalescer(maxPacket?: number): { c: GroCoalescer; writes: Written[] } {
  const writes: Written[] = [];
  const c = new GroCoalescer((h, b, o, l) => writes.push({ header: Buffer.from(h), packet: Buffer.from(b.subarray(o, o + l)) }) > 0, maxPacket);
  return { c, writes };
}

/** The datagrams a write stands for, as the kernel takes it (a UDP_L4 super-packet cut back). */
function expand(w: Written): Buffer[] {
  if (w.header.equals(ZERO)) return [w.packet];
  assert.equal(w.header[1], VnetGso.UDP_L4);
  const taken = acceptFrame(w.header, w.packet, 0, w.packet.length, 1500);
  assert.ok(typeof taken !== 'string', String(taken));
  return segmentUdp(w.packet, w.header.readUInt16LE(4));
}

function pushAll(c: GroCoalescer, packets: Buffer[]): void {
  for (const p of packets) c.push(p, 0, p.length);
  c.flush();
}

test('a run of same-size datagrams becomes one UDP_L4 super-packet that splits back into exactly them', () => {
  const input = [...run(39), buildUdp({ id: 139, payload: pattern(17, 39) })];
  const { c, writes } = coalescer();
  for (const p of input) c.push(p, 0, p.length);
  assert.equal(c.pending, false, 'the shorter last datagram closes the run');
  assert.equal(writes.length, 1);
  const { header, packet } = writes[0]!;
  const want = Buffer.alloc(10);
  writeVnetHeader(want, 0, VnetFlag.NEEDS_CSUM, VnetGso.UDP_L4, 28, 64, 20, 6);
  assert.deepEqual(header, want);
  assert.equal(packet.readUInt16BE(2), 28 + 39 * 64 + 17);
  assert.equal(packet.readUInt16BE(4), 100, 'the first identifier; the kernel counts up from it');
  assert.equal(internetChecksum(packet, 0, 20), 0);
  assert.equal(packet.readUInt16BE(24), 8 + 39 * 64 + 17);
  const pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8 + 39 * 64 + 17;
  assert.equal(packet.readUInt16BE(26), ((pseudo & 0xffff) + (pseudo >>> 16)) & 0xffff, 'the partial (pseudo-header) checksum');
  assert.deepEqual(expand(writes[0]!), input);
  assert.deepEqual(c.counters, { pushed: 40, merged: 40, superPackets: 1, singles: 0, runsRefused: 0 });
});

test('identifiers wrap; 64 datagrams close a run; maxPacket bounds it', () => {
  const input = run(70, 64, 65530);
  const { c, writes } = coalescer();
  pushAll(c, input);
  assert.deepEqual(writes.map((w) => expand(w).length), [64, 6]);
  assert.deepEqual(writes.flatMap(expand), input);
  const small = coalescer(28 + 3 * 64);
  pushAll(small.c, run(7));
  assert.deepEqual(small.writes.map((w) => expand(w).length), [3, 3, 1]);
  assert.deepEqual(small.writes.flatMap(expand), run(7));
});

test('what may not join flushes the run: an identifier gap, another flow or TOS, a larger datagram, TCP between', () => {
  const a = run(3);
  const gap = buildUdp({ id: 104, payload: pattern(64, 9) });
  const other = buildUdp({ id: 105, sport: 6000, payload: pattern(64, 10) });
  const tos = buildUdp({ id: 106, sport: 6000, tos: 0x10, payload: pattern(64, 11) });
  const larger = [buildUdp({ id: 200, payload: pattern(40) }), buildUdp({ id: 201, payload: pattern(64) })];
  const input = [...a, gap, other, tos, ...larger];
  const { c, writes } = coalescer();
  pushAll(c, input);
  // a0..a2 | gap alone | other alone | tos alone | 40 alone | 64 alone
  assert.deepEqual(writes.map((w) => (w.header.equals(ZERO) ? 1 : expand(w).length)), [3, 1, 1, 1, 1, 1]);
  assert.deepEqual(writes.flatMap(expand), input);
});

test('no checksum, a bad checksum, a fragment or a wrong UDP length never start or join a run: written as they came', () => {
  const good = run(4);
  const none = buildUdp({ id: 101, payload: pattern(64, 1), noChecksum: true });
  const bad = Buffer.from(good[2]!);
  bad[40] = bad[40]! ^ 0xff;
  const frag = buildUdp({ id: 103, payload: pattern(64, 3), fragment: true });
  const badLen = Buffer.from(good[3]!);
  badLen.writeUInt16BE(60, 24);
  for (const odd of [none, bad, frag, badLen]) {
    const { c, writes } = coalescer();
    pushAll(c, [good[0]!, odd, odd]);
    assert.deepEqual(writes, [good[0]!, odd, odd].map((packet) => ({ header: ZERO, packet })));
  }
  // A bad one in the middle of a run ends it, and is written on its own.
  const { c, writes } = coalescer();
  pushAll(c, [good[0]!, good[1]!, bad, good[3]!]);
  assert.deepEqual(writes.map((w) => (w.header.equals(ZERO) ? 1 : expand(w).length)), [2, 1, 1]);
  assert.deepEqual(writes.flatMap(expand), [good[0]!, good[1]!, bad, good[3]!]);
});

test('fuzz: mutated UDP runs never throw, and what is written stands for exactly what was pushed', () => {
  let state = 777;
  const rand = (n: number): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state % n;
  };
  const { c, writes } = coalescer();
  const pushed: Buffer[] = [];
  for (let n = 0; n < 3000; n++) {
    const p = buildUdp({ id: n & 0xffff, sport: 5000 + rand(2), payload: pattern(rand(4) === 0 ? rand(100) : 64, n) });
    const mutations = rand(3) === 0 ? 1 + rand(3) : 0;
    for (let m = 0; m < mutations; m++) p[rand(p.length)] = rand(256);
    const cut = rand(10) === 0 ? rand(p.length + 1) : p.length;
    const packet = p.subarray(0, cut);
    pushed.push(Buffer.from(packet));
    c.push(packet, 0, packet.length);
  }
  c.flush();
  assert.deepEqual(writes.flatMap(expand), pushed);
  assert.ok(c.counters.superPackets > 50, `runs were joined (${c.counters.superPackets})`);
});

test('a coalescer for a device without UDP_L4 writes every datagram on its own', () => {
  const writes: Written[] = [];
  const c = new GroCoalescer((h, b, o, l) => writes.push({ header: Buffer.from(h), packet: Buffer.from(b.subarray(o, o + l)) }) > 0, 65535, false);
  const input = run(5);
  pushAll(c, input);
  assert.deepEqual(writes, input.map((packet) => ({ header: ZERO, packet })));
});
