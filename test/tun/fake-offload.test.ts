// The fake TUN in offload mode: its kernel side speaks virtio_net_hdr frames as Linux does for an
// IFF_VNET_HDR device (fake-offload.ts), and the device hides them behind plain packets the same
// way KernelTun does (offload-framing.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { internetChecksum, onesComplementSum } from '../../src/abi/ipv4.js';
import { acceptFrame, kernelFrame } from '../../src/tun/fake-offload.js';
import { createFakeTun } from '../../src/tun/fake.js';
import { VNET_HDR_LEN, VnetFlag, VnetGso, writeVnetHeader } from '../../src/tun/offload.js';
import { pseudoHeaderSum, tcpPacket } from '../helpers/packets.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;

const pseudo = pseudoHeaderSum;

/** IPv4/TCP (20-octet header, ACK) with correct checksums. */
function tcp(seq: number, payload: Uint8Array, flags = 0x10): Buffer {
  return tcpPacket(SRC, DST, seq, payload, flags);
}

function udp(size: number, checksum: boolean): Buffer {
  const p = Buffer.alloc(size, 0x33);
  p[0] = 0x45;
  p.writeUInt16BE(size, 2);
  p.writeUInt16BE(0, 6);
  p[8] = 64;
  p[9] = 17;
  p.writeUInt16BE(0, 10);
  p.writeUInt32BE(SRC, 12);
  p.writeUInt32BE(DST, 16);
  p.writeUInt16BE(internetChecksum(p, 0, 20), 10);
  p.writeUInt16BE(size - 20, 24);
  p.writeUInt16BE(0, 26);
  if (checksum) p.writeUInt16BE(internetChecksum(p, 20, size - 20, pseudo(SRC, DST, 17, size - 20)), 26);
  return p;
}

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff));

test('the kernel side hands TCP over the MTU as a super-packet, and TCP/UDP with a partial checksum', () => {
  const big = tcp(1000, pattern(10_000));
  const frame = kernelFrame(big, 1500);
  assert.equal(frame.length, VNET_HDR_LEN + big.length);
  assert.deepEqual([frame[0], frame[1]], [VnetFlag.NEEDS_CSUM, VnetGso.TCPV4]);
  assert.deepEqual([frame.readUInt16LE(2), frame.readUInt16LE(4), frame.readUInt16LE(6), frame.readUInt16LE(8)], [40, 1460, 20, 16]);
  assert.equal(frame.readUInt16BE(VNET_HDR_LEN + 36), onesComplementSum(frame, 0, 0, pseudo(SRC, DST, 6, big.length - 20)), 'pseudo-header sum only');
  const small = kernelFrame(tcp(1, pattern(100)), 1500);
  assert.deepEqual([small[0], small[1]], [VnetFlag.NEEDS_CSUM, VnetGso.NONE]);
  const u = kernelFrame(udp(200, true), 1500);
  assert.deepEqual([u[0], u[1], u.readUInt16LE(6), u.readUInt16LE(8)], [VnetFlag.NEEDS_CSUM, VnetGso.NONE, 20, 6]);
  assert.ok(kernelFrame(udp(200, false), 1500).subarray(0, VNET_HDR_LEN).every((x) => x === 0), 'no UDP checksum: nothing to finish');
  const wrong = tcp(1, pattern(100));
  wrong[60] = wrong[60]! ^ 1;
  assert.ok(kernelFrame(wrong, 1500).subarray(0, VNET_HDR_LEN).every((x) => x === 0), 'a wrong checksum is left for the receiver');
});

test('the kernel side takes a joined super-packet whole with its checksum completed, and refuses what it would', () => {
  const whole = tcp(1, pattern(5000));
  const partial = Buffer.from(whole);
  partial.writeUInt16BE(onesComplementSum(partial, 0, 0, pseudo(SRC, DST, 6, whole.length - 20)), 36);
  const header = new Uint8Array(VNET_HDR_LEN);
  writeVnetHeader(header, 0, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 40, 1460, 20, 16);
  assert.deepEqual(acceptFrame(header, partial, 0, partial.length, 1500), whole);
  assert.equal(acceptFrame(new Uint8Array(VNET_HDR_LEN), whole, 0, whole.length, 1500), 'longer than the MTU');
  const udpGso = new Uint8Array(header);
  udpGso[1] = VnetGso.UDP;
  assert.equal(acceptFrame(udpGso, partial, 0, partial.length, 1500), 'unsupported GSO');
  const noGsoSize = new Uint8Array(header);
  noGsoSize[4] = noGsoSize[5] = 0;
  assert.equal(acceptFrame(noGsoSize, partial, 0, partial.length, 1500), 'gso_size 0');
});

test('an offloading fake cuts a super-packet to the segment limit, a few per read, firing again until all are read', async () => {
  const { device, peer } = createFakeTun('ms0', { mtu: 1500, offload: true });
  assert.equal(device.offload, true);
  device.setUp(true);
  const payload = pattern(30_000);
  assert.ok(peer.inject(tcp(7, payload, 0x18)));
  const bufs = [new Uint8Array(16 + 1500), new Uint8Array(16 + 1500)];
  const sizes = new Int32Array(2);
  const got: Buffer[] = [];
  const want = Math.ceil(payload.length / (1456 - 40));
  await new Promise<void>((resolve) => {
    // One readBatch per event: only the framing's own re-firing can bring the rest.
    device.onReadable(() => {
      const n = device.readBatch(bufs, sizes, 16, 1456);
      for (let i = 0; i < n; i++) got.push(Buffer.from(bufs[i]!.subarray(16, 16 + sizes[i]!)));
      if (got.length >= want) resolve();
    });
  });
  device.onReadable(null);
  assert.equal(got.length, want);
  let seq = 7;
  for (const [i, s] of got.entries()) {
    assert.ok(s.length <= 1456);
    assert.equal(internetChecksum(s, 20, s.length - 20, pseudo(SRC, DST, 6, s.length - 20)), 0, `segment ${i} TCP checksum`);
    assert.equal(s.readUInt32BE(24), seq);
    seq += s.length - 40;
  }
  assert.deepEqual(Buffer.concat(got.map((s) => s.subarray(40))), payload);
  assert.deepEqual(device.stats().offload, { superPacketsRead: 1, segmentsRead: want, superPacketsWritten: 0, segmentsJoined: 0, readDrops: 0, runsRefused: 0 });
  device.close();
});

test('an offloading fake joins a writeBatch of one flow into one super-packet; other packets pass as they are', () => {
  const { device, peer } = createFakeTun('ms0', { mtu: 1500, offload: true });
  device.setUp(true);
  const seen: Buffer[] = [];
  peer.onPacket((p) => seen.push(p));
  const segments = [0, 1, 2, 3].map((i) => tcp(100 + i * 1400, pattern(1400).fill(i, 0, 1)));
  const plain = udp(300, false);
  const bufs = [...segments, plain];
  const sizes = Int32Array.from(bufs.map((b) => b.length));
  assert.equal(device.writeBatch(bufs, sizes, 0), 5);
  assert.equal(seen.length, 2, 'one super-packet, then the UDP packet');
  assert.equal(seen[0]!.length, 40 + 4 * 1400);
  assert.deepEqual(seen[0]!.subarray(40), Buffer.concat(segments.map((s) => s.subarray(40))));
  assert.equal(internetChecksum(seen[0]!, 20, seen[0]!.length - 20, pseudo(SRC, DST, 6, seen[0]!.length - 20)), 0);
  assert.deepEqual(seen[1], plain);
  assert.equal(device.stats().offload?.superPacketsWritten, 1);
  assert.equal(device.stats().offload?.segmentsJoined, 4);
  assert.equal(device.stats().rxPackets, 2);
});

test('a run still pending when the device closes is dropped without a throw', async () => {
  const { device, peer } = createFakeTun('ms0', { mtu: 1500, offload: true });
  device.setUp(true);
  const segment = tcp(1, pattern(1000));
  assert.equal(device.write(segment, 0, segment.length), true);
  device.close();
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(peer.take().length, 0);
});
