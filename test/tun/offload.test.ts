import { test } from 'node:test';
import assert from 'node:assert/strict';
// The pure core of TUN offload: GsoSplitter (read side) and GroCoalescer (write side).
import { GroCoalescer } from '../../src/tun/offload-coalesce.js';
import { GsoSplitter, OffloadDrop, VNET_HDR_LEN, VnetFlag, VnetGso, writeVnetHeader } from '../../src/tun/offload.js';
import { internetChecksum } from '../../src/abi/ipv4.js';
import { ipv4HeaderChecksumOk } from '../../src/tunnel/ipv4-packet.js';

type Emit = (b: Uint8Array, o: number, l: number) => void;

/**
 * GsoSplitter driven to the end of one frame, every packet into one scratch buffer at `headroom`
 * (a caller buffer of maxPacket octets: plain packets longer than that are cut, or TOO_BIG).
 */
class CallbackSplitter {
  private readonly splitter = new GsoSplitter();
  private readonly scratch: Uint8Array;
  constructor(private readonly headroom: number) {
    this.scratch = new Uint8Array(headroom + 65535);
  }
  split(buf: Uint8Array, off: number, len: number, maxPacket: number, emit: Emit): number {
    const code = this.splitter.load(buf, off, len, maxPacket, maxPacket);
    if (code < 0) return code;
    for (let n = this.splitter.next(this.scratch, this.headroom); n > 0; n = this.splitter.next(this.scratch, this.headroom)) emit(this.scratch, this.headroom, n);
    return code;
  }
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
const CWR = 0x80;

interface TcpSpec {
  src?: number;
  dst?: number;
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  id?: number;
  ttl?: number;
  tos?: number;
  df?: boolean;
  tsval?: number;
  payload: Uint8Array;
}

/** An IPv4/TCP packet with a timestamps option (NOP NOP TS: 32-octet TCP header) and correct checksums. */
function buildTcp(spec: TcpSpec): Buffer {
  const tcpHdr = 32;
  const total = 20 + tcpHdr + spec.payload.length;
  const p = Buffer.alloc(total);
  p[0] = 0x45;
  p[1] = spec.tos ?? 0;
  p.writeUInt16BE(total, 2);
  p.writeUInt16BE(spec.id ?? 0x1000, 4);
  p.writeUInt16BE(spec.df === false ? 0 : 0x4000, 6);
  p[8] = spec.ttl ?? 64;
  p[9] = 6;
  p.writeUInt32BE(spec.src ?? 0x0a4d0002, 12);
  p.writeUInt32BE(spec.dst ?? 0x0a090007, 16);
  p.writeUInt16BE(internetChecksum(p, 0, 20), 10);
  p.writeUInt16BE(spec.sport ?? 40000, 20);
  p.writeUInt16BE(spec.dport ?? 5201, 22);
  p.writeUInt32BE((spec.seq ?? 1000) >>> 0, 24);
  p.writeUInt32BE((spec.ack ?? 77777) >>> 0, 28);
  p[32] = (tcpHdr / 4) << 4;
  p[33] = spec.flags ?? ACK;
  p.writeUInt16BE(spec.window ?? 502, 34);
  p[40] = 1;
  p[41] = 1;
  p[42] = 8;
  p[43] = 10;
  p.writeUInt32BE(spec.tsval ?? 123456, 44);
  p.writeUInt32BE(654321, 48);
  Buffer.from(spec.payload).copy(p, 52);
  p.writeUInt16BE(internetChecksum(p, 20, total - 20, pseudoSum(p)), 36);
  return p;
}

function pseudoSum(p: Uint8Array): number {
  const b = Buffer.from(p.buffer, p.byteOffset, p.length);
  const total = b.readUInt16BE(2);
  const ihl = (b[0]! & 15) * 4;
  return b.readUInt16BE(12) + b.readUInt16BE(14) + b.readUInt16BE(16) + b.readUInt16BE(18) + b[9]! + total - ihl;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksums of an emitted IPv4/TCP or UDP packet are all complete and correct. */
function checksumsOk(p: Buffer): boolean {
  const ihl = (p[0]! & 15) * 4;
  return ipv4HeaderChecksumOk(p, 0) && internetChecksum(p, ihl, p.length - ihl, pseudoSum(p)) === 0;
}

function pattern(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt + (i >> 8)) & 0xff;
  return out;
}

/** What a TSO read from the TUN gives: vnet header + super-packet with only the pseudo-header sum in its checksum field. */
function tsoRead(p: Buffer, gsoSize: number): Buffer {
  const out = Buffer.alloc(VNET_HDR_LEN + p.length);
  writeVnetHeader(out, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 52, gsoSize, 20, 16);
  p.copy(out, VNET_HDR_LEN);
  out.writeUInt16BE(fold(pseudoSum(p)), VNET_HDR_LEN + 36);
  return out;
}

function splitAll(seg: CallbackSplitter, read: Buffer, maxPacket: number): { code: number; out: Buffer[] } {
  const out: Buffer[] = [];
  const code = seg.split(read, 0, read.length, maxPacket, (b, o, l) => out.push(Buffer.from(b.subarray(o, o + l))));
  return { code, out };
}

const SUPER_PAYLOAD = pattern(64000);
const SUPER = buildTcp({ payload: SUPER_PAYLOAD, seq: 0xfffff000, flags: ACK | PSH, id: 0xfff0 });

function checkSegments(out: Buffer[], original: Buffer, maxPacket: number, size: number): void {
  let seq = original.readUInt32BE(24);
  const parts: Buffer[] = [];
  out.forEach((s, i) => {
    const last = i === out.length - 1;
    assert.ok(s.length <= maxPacket, `segment ${i} is ${s.length} octets`);
    assert.ok(checksumsOk(s), `segment ${i} checksums`);
    assert.equal(s.readUInt16BE(2), s.length);
    assert.equal(s.readUInt16BE(4), (original.readUInt16BE(4) + i) & 0xffff);
    assert.equal(s.readUInt32BE(24), seq);
    if (!last) assert.equal(s.length - 52, size);
    const flags = original[33]!;
    const want = (i === 0 ? flags : flags & ~CWR) & (last ? 0xff : ~(FIN | PSH));
    assert.equal(s[33], want, `segment ${i} flags`);
    // Everything else in the headers is copied.
    assert.deepEqual(s.subarray(12, 24), original.subarray(12, 24));
    assert.deepEqual(s.subarray(28, 33), original.subarray(28, 33));
    assert.deepEqual(s.subarray(34, 36), original.subarray(34, 36));
    assert.deepEqual(s.subarray(38, 52), original.subarray(38, 52));
    seq = (seq + s.length - 52) >>> 0;
    parts.push(s.subarray(52));
  });
  assert.deepEqual(Buffer.concat(parts), original.subarray(52));
}

test('a 64000-octet TSO super-packet splits into segments of at most 1456 octets with full checksums', () => {
  const p = buildTcp({ payload: SUPER_PAYLOAD, seq: 0xfffff000, flags: ACK | PSH | FIN | CWR, id: 0xfff0 });
  const seg = new CallbackSplitter(16);
  const { code, out } = splitAll(seg, tsoRead(p, 1448), 1456);
  // 1456 - 52 octets of headers = 1404 per segment (less than gso_size 1448).
  assert.equal(code, Math.ceil(64000 / 1404));
  assert.equal(out.length, code);
  checkSegments(out, p, 1456, 1404);
  // Each packet goes where the caller asks, one at a time, and the splitter says when it is done.
  const splitter = new GsoSplitter();
  const bufs = Array.from({ length: code + 1 }, () => new Uint8Array(16 + 1500).fill(0xee));
  assert.equal(splitter.load(tsoRead(p, 1448), 0, p.length + 10, 1456, 1500), code);
  let i = 0;
  while (splitter.pending) assert.ok(splitter.next(bufs[i++]!, 16) > 0);
  assert.equal(i, code);
  assert.equal(splitter.next(bufs[i]!, 16), 0, 'nothing after the last');
  assert.ok(bufs.every((b) => b.subarray(0, 16).every((x) => x === 0xee)), 'the headroom stays untouched');
  assert.deepEqual(Buffer.from(bufs[1]!.subarray(16, 16 + 1456)), out[1]);
});

test('loading the next frame drops what was left of the last one; clear() forgets it', () => {
  const splitter = new GsoSplitter();
  const buf = new Uint8Array(16 + 1500);
  assert.ok(splitter.load(tsoRead(SUPER, 1448), 0, SUPER.length + 10, 1456, 1500) > 2);
  assert.ok(splitter.next(buf, 16) > 0);
  const p = buildTcp({ payload: pattern(100), flags: ACK | PSH });
  const plain = Buffer.concat([Buffer.alloc(10), p]);
  assert.equal(splitter.load(plain, 0, plain.length, 1456, 1500), 1);
  assert.equal(splitter.next(buf, 16), p.length);
  assert.deepEqual(Buffer.from(buf.subarray(16, 16 + p.length)), p);
  assert.equal(splitter.pending, false);
  assert.ok(splitter.load(tsoRead(SUPER, 1448), 0, SUPER.length + 10, 1456, 1500) > 2);
  splitter.clear();
  assert.equal(splitter.pending, false);
  assert.equal(splitter.next(buf, 16), 0);
});

test('a plain packet longer than the caller buffer: TCP is cut to fit it, anything else is TOO_BIG', () => {
  const splitter = new GsoSplitter();
  const udp = Buffer.alloc(10 + 1500);
  udp[10] = 0x45;
  udp.writeUInt16BE(1500, 12);
  udp[10 + 9] = 17;
  udp.writeUInt16BE(internetChecksum(udp, 10, 20), 20);
  assert.equal(splitter.load(udp, 0, udp.length, 65535, 1400), OffloadDrop.TOO_BIG);
  assert.equal(splitter.load(udp, 0, udp.length, 1400, 1500), 1, 'the segment limit applies to super-packets only');
});

test('segments and checksums are the same wherever the read sits in its buffer (word-aligned or not)', () => {
  const read = tsoRead(SUPER, 1448);
  for (let shift = 0; shift < 8; shift++) {
    // A fresh ArrayBuffer each time, so the copy lands at every alignment of source and scratch.
    const at = Buffer.from(new ArrayBuffer(read.length + 16), 0, read.length + 16);
    read.copy(at, shift);
    const out: Buffer[] = [];
    const code = new CallbackSplitter(16 + (shift & 3)).split(at, shift, read.length, 1456, (b, o, l) => out.push(Buffer.from(b.subarray(o, o + l))));
    assert.equal(code, out.length, `shift ${shift}`);
    checkSegments(out, SUPER, 1456, 1456 - 52);
  }
});

test('with maxPacket 65535 the segments use gso_size; ECN in gso_type is accepted', () => {
  const read = tsoRead(SUPER, 1448);
  read[1] = VnetGso.TCPV4 | VnetGso.ECN;
  const { code, out } = splitAll(new CallbackSplitter(0), read, 65535);
  assert.equal(code, Math.ceil(64000 / 1448));
  checkSegments(out, SUPER, 65535, 1448);
});

test('a non-GSO 1500-octet TCP packet is split in two for maxPacket 1456, copied out whole when it fits', () => {
  const p = buildTcp({ payload: pattern(1448, 3), flags: ACK | PSH });
  const read = Buffer.alloc(10 + p.length);
  p.copy(read, 10);
  const { code, out } = splitAll(new CallbackSplitter(16), read, 1456);
  assert.equal(code, 2);
  checkSegments(out, p, 1456, 1404);
  const whole: Buffer[] = [];
  assert.equal(new CallbackSplitter(16).split(read, 0, read.length, 1500, (b, o, l) => whole.push(Buffer.from(b.subarray(o, o + l)))), 1);
  assert.deepEqual(whole, [p]);
});

test('a NEEDS_CSUM packet without GSO gets its checksum completed in place (UDP and TCP)', () => {
  const udp = Buffer.from('450000271c464000401100000a4d00020a0900079c4000350013000068656c6c6f206d736e6c21', 'hex');
  udp.writeUInt16BE(internetChecksum(udp, 0, 20), 10);
  const read = Buffer.alloc(10 + udp.length);
  writeVnetHeader(read, 0, VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 20, 6);
  udp.copy(read, 10);
  read.writeUInt16BE(fold(pseudoSum(udp)), 10 + 26);
  const { code, out } = splitAll(new CallbackSplitter(16), read, 1456);
  assert.equal(code, 1);
  assert.ok(checksumsOk(out[0]!));
  assert.notEqual(read.readUInt16BE(36), fold(pseudoSum(udp)));
  assert.deepEqual(read.subarray(10), out[0]);

  const tcp = buildTcp({ payload: pattern(101) });
  const tread = tsoRead(tcp, 0);
  tread[1] = VnetGso.NONE;
  const t = splitAll(new CallbackSplitter(16), tread, 1456);
  assert.equal(t.code, 1);
  assert.deepEqual(t.out[0], tcp);
});

test('a UDP checksum that comes out 0 is sent as 0xffff', () => {
  // Search payloads two octets long for one whose checksum is zero (bounded loop).
  const udp = Buffer.from('4500001e00004000401100000a0000010a00000204d2162e000a00000000', 'hex');
  udp.writeUInt16BE(internetChecksum(udp, 0, 20), 10);
  let found = false;
  for (let v = 0; v <= 0xffff && !found; v++) {
    udp.writeUInt16BE(v, 28);
    udp.writeUInt16BE(0, 26);
    if (internetChecksum(udp, 20, 10, pseudoSum(udp)) !== 0) continue;
    found = true;
    const read = Buffer.alloc(10 + udp.length);
    writeVnetHeader(read, 0, VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 20, 6);
    udp.copy(read, 10);
    read.writeUInt16BE(fold(pseudoSum(udp)), 36);
    assert.equal(new CallbackSplitter(0).split(read, 0, read.length, 1456, () => {}), 1);
    assert.equal(read.readUInt16BE(36), 0xffff);
  }
  assert.ok(found);
});

test('malformed and unsupported reads return negative codes and emit nothing', () => {
  const seg = new CallbackSplitter(16);
  // 1052 octets: fits maxPacket, so without GSO it is not split (and its csum fields count).
  const good = tsoRead(buildTcp({ payload: pattern(1000) }), 400);
  const cases: Array<[string, (b: Buffer) => Buffer, number]> = [
    ['truncated', (b) => b.subarray(0, 40), OffloadDrop.MALFORMED],
    ['shorter than a vnet header', (b) => b.subarray(0, 6), OffloadDrop.MALFORMED],
    ['total length mismatch', (b) => (b.writeUInt16BE(b.length - 11, 12), b), OffloadDrop.MALFORMED],
    ['IHL < 5', (b) => ((b[10] = 0x44), b), OffloadDrop.MALFORMED],
    ['TCP data offset beyond the packet', () => tsoRead(buildTcp({ payload: pattern(4) }), 400).fill(0xf0, 42, 43), OffloadDrop.MALFORMED],
    ['TCP data offset < 5', (b) => ((b[42] = 0x40), b), OffloadDrop.MALFORMED],
    ['gso_type UDP', (b) => ((b[1] = VnetGso.UDP), b), OffloadDrop.UNSUPPORTED_GSO],
    ['gso_type TCPV6', (b) => ((b[1] = VnetGso.TCPV6), b), OffloadDrop.UNSUPPORTED_GSO],
    ['TCPV4 gso on a UDP packet', (b) => ((b[19] = 17), b), OffloadDrop.UNSUPPORTED_GSO],
    ['TCPV4 gso on a fragment', (b) => ((b[16] = 0x20), b), OffloadDrop.UNSUPPORTED_GSO],
    ['gso_size 0', (b) => (b.writeUInt16LE(0, 4), b), OffloadDrop.MALFORMED],
    ['csum offset beyond the packet', (b) => ((b[1] = 0), b.writeUInt16LE(b.length, 8), b), OffloadDrop.MALFORMED],
    ['csum start before the transport header', (b) => ((b[1] = 0), b.writeUInt16LE(4, 6), b), OffloadDrop.MALFORMED],
  ];
  for (const [name, mutate, want] of cases) {
    const read = mutate(Buffer.from(good));
    let emitted = 0;
    assert.equal(seg.split(read, 0, read.length, 1456, () => emitted++), want, name);
    assert.equal(emitted, 0, name);
  }
  // maxPacket too small for the headers.
  assert.equal(seg.split(good, 0, good.length, 52, () => {}), OffloadDrop.TOO_BIG);
  // Offsets out of range.
  assert.equal(seg.split(good, 5, good.length, 1456, () => {}), OffloadDrop.MALFORMED);
  assert.equal(seg.split(good, -1, 20, 1456, () => {}), OffloadDrop.MALFORMED);
});

test('fuzz: 20 000 random and mutated reads never throw; random ones are dropped', () => {
  let state = 0x2545f491;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const seg = new CallbackSplitter(16);
  const base = tsoRead(buildTcp({ payload: pattern(4000) }), 1448);
  const buf = Buffer.alloc(base.length);
  let dropped = 0;
  for (let n = 0; n < 20000; n++) {
    const mutated = n % 2 === 1;
    let len: number;
    if (mutated) {
      base.copy(buf);
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) buf[Math.floor(rand() * 80)] = Math.floor(rand() * 256);
      len = rand() < 0.2 ? Math.floor(rand() * base.length) : base.length;
    } else {
      len = Math.floor(rand() * 200);
      for (let i = 0; i < len; i++) buf[i] = Math.floor(rand() * 256);
    }
    let emitted = 0;
    const max = 100 + Math.floor(rand() * 1500);
    const code = seg.split(buf, 0, len, max, (b, o, l) => {
      emitted++;
      assert.ok(o >= 0 && l >= 20 && o + l <= b.length);
    });
    if (code < 0) dropped++;
    assert.equal(emitted, code < 0 ? 0 : code);
    if (!mutated) assert.ok(code < 0, `random buffer ${n} was accepted`);
  }
  assert.ok(dropped >= 10000);
});

interface Written {
  header: Buffer;
  packet: Buffer;
}

function coalescer(maxPacket?: number): { c: GroCoalescer; writes: Written[] } {
  const writes: Written[] = [];
  const c = new GroCoalescer((h, b, o, l) => writes.push({ header: Buffer.from(h), packet: Buffer.from(b.subarray(o, o + l)) }) > 0, maxPacket);
  return { c, writes };
}

const ZERO = Buffer.alloc(10);

test('the segments of a super-packet coalesce into exactly that super-packet, and split back the same', () => {
  const { out: segments } = splitAll(new CallbackSplitter(16), tsoRead(SUPER, 1448), 65535);
  assert.equal(segments.length, 45);
  const { c, writes } = coalescer();
  for (const s of segments) c.push(s, 0, s.length);
  // The last segment carries PSH and is short: the run closes without a flush call.
  assert.equal(c.pending, false);
  c.flush();
  assert.equal(writes.length, 1);
  const { header, packet } = writes[0]!;
  const want = Buffer.alloc(10);
  writeVnetHeader(want, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 52, 1448, 20, 16);
  assert.deepEqual(header, want);
  assert.equal(header.readUInt16LE(4), 1448);
  assert.equal(packet.readUInt16BE(2), 20 + 32 + 64000);
  assert.ok(ipv4HeaderChecksumOk(packet, 0));
  assert.equal(packet[33], ACK | PSH);
  assert.equal(packet.readUInt16BE(36), fold(packet.readUInt16BE(12) + packet.readUInt16BE(14) + packet.readUInt16BE(16) + packet.readUInt16BE(18) + 6 + 32 + 64000));
  assert.deepEqual(Buffer.concat([header, packet]), tsoRead(SUPER, 1448));
  assert.deepEqual(c.counters, { pushed: 45, merged: 45, superPackets: 1, singles: 0, runsRefused: 0 });

  const again = splitAll(new CallbackSplitter(16), Buffer.concat([header, packet]), 65535);
  assert.equal(again.code, 45);
  assert.deepEqual(again.out, segments);
});

/** Consecutive segments of one flow, 1448 octets each unless told. */
function flow(count: number, spec: Partial<TcpSpec> = {}, seq0 = 5000, size = 1448): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(buildTcp({ ...spec, seq: seq0 + i * size, id: 100 + i, payload: pattern(size, i) }));
  return out;
}

function pushAll(c: GroCoalescer, packets: Buffer[]): void {
  for (const p of packets) c.push(p, 0, p.length);
  c.flush();
}

/** The segments a written packet stands for (a super-packet split again, a single as is). */
function expand(w: Written): Buffer[] {
  if (w.header.equals(ZERO)) return [w.packet];
  const read = Buffer.concat([w.header, w.packet]);
  const r = splitAll(new CallbackSplitter(0), read, 65535);
  assert.ok(r.code > 1);
  return r.out;
}

test('interleaved flows, a seq gap, a different ack, a SYN and a non-TCP packet each flush in order', () => {
  const a = flow(6);
  const b = flow(2, { sport: 40001 });
  const otherAck = buildTcp({ seq: 5000 + 2 * 1448, id: 200, ack: 99, payload: pattern(1448) });
  const syn = buildTcp({ flags: SYN, seq: 1, payload: new Uint8Array(0), sport: 40002 });
  const udp = Buffer.from('450000200000400040110000' + '0a4d00020a090007' + '04d2162e000c0000' + '01020304', 'hex');
  const input = [a[0]!, a[1]!, b[0]!, b[1]!, a[2]!, a[4]!, a[5]!, syn, udp, otherAck];
  const { c, writes } = coalescer();
  pushAll(c, input);
  const kinds = writes.map((w) => (w.header.equals(ZERO) ? 1 : expand(w).length));
  // a0+a1 | b0+b1 | a2 alone (a3 missing) | a4+a5 | SYN | UDP | the other ack alone
  assert.deepEqual(kinds, [2, 2, 1, 2, 1, 1, 1]);
  assert.deepEqual(writes.flatMap(expand), input);
  assert.deepEqual(c.counters, { pushed: 10, merged: 6, superPackets: 3, singles: 4, runsRefused: 0 });
});

test('a different ack after a run flushes the run, then starts anew', () => {
  const a = flow(3);
  const changed = buildTcp({ seq: 5000 + 3 * 1448, id: 103, ack: 88888, payload: pattern(1448) });
  const after = buildTcp({ seq: 5000 + 4 * 1448, id: 104, ack: 88888, payload: pattern(1448) });
  const { c, writes } = coalescer();
  pushAll(c, [...a, changed, after]);
  assert.deepEqual(writes.map((w) => w.header[1]), [VnetGso.TCPV4, VnetGso.TCPV4]);
  assert.deepEqual(writes.flatMap(expand), [...a, changed, after]);
});

test('a run of one is written as it came with an all-zero header', () => {
  const [p] = flow(1);
  const { c, writes } = coalescer();
  c.push(p!, 0, p!.length);
  assert.equal(c.pending, true);
  c.flush();
  assert.equal(c.pending, false);
  assert.deepEqual(writes, [{ header: ZERO, packet: p }]);
  assert.deepEqual(c.counters, { pushed: 1, merged: 0, superPackets: 0, singles: 1, runsRefused: 0 });
});

test('a segment that would pass maxPacket starts a new run; 64 segments close a run', () => {
  const a = flow(4);
  const { c, writes } = coalescer(3000);
  pushAll(c, a);
  assert.deepEqual(writes.map((w) => w.packet.length), [1500 + 1448, 1500 + 1448]);
  assert.deepEqual(writes.flatMap(expand), a);

  const small = flow(70, {}, 1, 10);
  const many = coalescer();
  pushAll(many.c, small);
  assert.deepEqual(many.writes.map((w) => w.packet.length), [52 + 640, 52 + 60]);
  assert.deepEqual(many.writes.flatMap(expand), small);
});

test('a shorter segment closes the run; a larger one, PSH first, or a bad checksum does not join', () => {
  const short = buildTcp({ seq: 5000 + 2 * 1448, id: 102, payload: pattern(500) });
  const a = flow(2);
  const { c, writes } = coalescer();
  for (const p of [...a, short]) c.push(p, 0, p.length);
  assert.equal(c.pending, false);
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.header.readUInt16LE(4), 1448);

  const big = flow(2, {}, 5000, 1000);
  const larger = buildTcp({ seq: 7000, id: 300, payload: pattern(1200) });
  const pshFirst = buildTcp({ seq: 9999, flags: ACK | PSH, payload: pattern(100) });
  const x = coalescer();
  pushAll(x.c, [...big, larger, pshFirst]);
  // big0+big1 | larger alone (does not join, and nothing follows) | PSH alone (closes at once)
  assert.deepEqual(x.writes.map((w) => (w.header.equals(ZERO) ? 1 : 2)), [2, 1, 1]);
  assert.deepEqual(x.writes.flatMap(expand), [...big, larger, pshFirst]);

  const corrupt = (p: Buffer): Buffer => ((p[60] = p[60]! ^ 0xff), p);
  const start = buildTcp({ seq: 20000, payload: pattern(100) });
  const bad = corrupt(buildTcp({ seq: 20100, payload: pattern(100, 1) }));
  const badFirst = corrupt(buildTcp({ seq: 20200, payload: pattern(100, 2) }));
  const next = buildTcp({ seq: 20300, payload: pattern(100, 3) });
  const badIp = buildTcp({ seq: 20400, payload: pattern(100, 4), ttl: 9 });
  badIp[8] = 64;
  const last = buildTcp({ seq: 20500, payload: pattern(100, 5) });
  const y = coalescer();
  pushAll(y.c, [start, bad, badFirst, next, badIp, last]);
  // No corrupt segment joins or starts a run: six singles, bytes unchanged.
  assert.deepEqual(y.writes, [start, bad, badFirst, next, badIp, last].map((packet) => ({ header: ZERO, packet })));
});

test('valid (authenticated) segments are not summed: they join runs on their headers, and one alone is written DATA_VALID', () => {
  const corrupt = (p: Buffer): Buffer => ((p[60] = p[60]! ^ 0xff), p);
  const segs = flow(3).map((p, i) => (i === 1 ? corrupt(p) : p));
  const { c, writes } = coalescer();
  for (const p of segs) c.push(p, 0, p.length, true);
  c.flush();
  // The corrupt middle one joins: its octets were vouched for by the AEAD, not by its checksum.
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.header[0], VnetFlag.NEEDS_CSUM);
  const hdrs = segs[0]!.length - 1448;
  assert.equal(writes[0]!.packet.length, hdrs + 3 * 1448);
  assert.deepEqual(writes[0]!.packet.subarray(hdrs + 1448, hdrs + 2 * 1448), segs[1]!.subarray(hdrs));

  const alone = buildTcp({ seq: 9000, flags: ACK | PSH, payload: pattern(100) });
  const lone = coalescer();
  lone.c.push(alone, 0, alone.length, true);
  lone.c.push(alone, 0, alone.length);
  assert.deepEqual(lone.writes.map((w) => w.header[0]), [VnetFlag.DATA_VALID, 0]);
  assert.deepEqual(lone.writes[0]!.packet, alone);

  // A run of one started valid is written DATA_VALID; a plain segment after a valid start is still summed.
  const [first, second] = flow(2, {}, 30000);
  const mixed = coalescer();
  mixed.c.push(first!, 0, first!.length, true);
  mixed.c.push(corrupt(second!), 0, second!.length);
  assert.deepEqual(mixed.writes.map((w) => w.header[0]), [VnetFlag.DATA_VALID, 0]);
});

test('garbage pushed into the coalescer never throws and is written as it came', () => {
  let state = 12345;
  const { c, writes } = coalescer();
  const buf = Buffer.alloc(120);
  for (let n = 0; n < 2000; n++) {
    for (let i = 0; i < buf.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      buf[i] = state >>> 24;
    }
    if (n % 3 === 0) buf.set(flow(1, {}, n, 68)[0]!.subarray(0, 40));
    c.push(buf, 0, buf.length);
  }
  c.flush();
  assert.equal(writes.length, 2000);
});

test('push() says when the device refused a packet written at once; refused runs are counted', () => {
  let accept = false;
  const c = new GroCoalescer(() => accept);
  const syn = buildTcp({ flags: SYN, seq: 1, payload: new Uint8Array(0) });
  assert.equal(c.push(syn, 0, syn.length), false, 'a SYN is written at once, and refused');
  const run = [0, 1, 2].map((i) => buildTcp({ seq: 1000 + i * 1000, payload: pattern(1000, i) }));
  for (const p of run) assert.equal(c.push(p, 0, p.length), true, 'taken into the run');
  c.flush();
  assert.equal(c.counters.runsRefused, 1);
  accept = true;
  assert.equal(c.push(syn, 0, syn.length), true);
});
