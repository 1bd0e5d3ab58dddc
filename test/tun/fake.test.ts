import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeTun, FakeAddrEventSource } from '../../src/tun/fake.js';
import type { AddrEvent } from '../../src/tun/addr-events.js';

function ipv4(len: number, marker: number): Buffer {
  const b = Buffer.alloc(len);
  b[0] = 0x45;
  b.writeUInt16BE(len, 2);
  b[len - 1] = marker;
  return b;
}

test('injected packets are read in batches at the headroom offset, one packet per slot', async () => {
  const { device, peer } = createFakeTun('ms0');
  device.setUp(true);
  assert.equal(peer.inject(ipv4(40, 1)), true);
  assert.equal(peer.inject(ipv4(60, 2)), true);
  assert.equal(peer.inject(ipv4(80, 3)), true);
  const bufs = [Buffer.alloc(100), Buffer.alloc(100)];
  const sizes = new Int32Array(2);
  const reads: number[][] = [];
  await new Promise<void>((resolve) => {
    device.onReadable(() => {
      const n = device.readBatch(bufs, sizes, 16);
      reads.push(Array.from(sizes.subarray(0, n)));
      assert.equal(bufs[0]![16 + sizes[0]! - 1], reads.flat().length - n + 1);
      if (peer.pending === 0) resolve();
    });
  });
  assert.deepEqual(reads, [[40, 60], [80]]);
  assert.equal(device.stats().txPackets, 3);
  device.close();
});

test('written packets reach the peer; non-IP, oversize and down writes are dropped and counted', () => {
  const { device, peer } = createFakeTun('ms1', { mtu: 4470 });
  assert.equal(device.write(ipv4(40, 7), 0, 40), false, 'down');
  device.setUp(true);
  const seen: Buffer[] = [];
  peer.onPacket((p) => seen.push(p));
  const head = Buffer.alloc(8 + 40);
  ipv4(40, 9).copy(head, 8);
  assert.equal(device.write(head, 8, 40), true);
  assert.equal(device.write(Buffer.alloc(40), 0, 40), false, 'version 0 is not IP');
  const sizes = Int32Array.from([40, 5000]);
  assert.equal(device.writeBatch([ipv4(40, 1), ipv4(5000, 2)], sizes, 0), 1, 'oversize packet dropped');
  assert.equal(seen.length, 2);
  assert.equal(seen[0]![39], 9);
  assert.equal(device.stats().writeDrops, 3);
  assert.equal(device.stats().rxPackets, 2);
  peer.onPacket(null);
  device.write(ipv4(20, 5), 0, 20);
  assert.equal(peer.take().length, 1);
  assert.equal(peer.take().length, 0);
});

test('configuration reads back, address changes are announced, and a closed device refuses work', () => {
  const events = new FakeAddrEventSource();
  const got: AddrEvent[] = [];
  events.onEvent((ev) => got.push(ev));
  const { device, peer } = createFakeTun('ms2', { mtu: 9180, ifindex: 7, addrEvents: events });
  assert.equal(device.getMtu(), 9180);
  device.setMtu(1400);
  assert.equal(device.getMtu(), 1400);
  assert.throws(() => device.setMtu(10), /ms2: failed to set MTU 10/);
  assert.equal(device.isUp(), false);
  device.setUp(true);
  assert.equal(device.flags().pointToPoint, true);
  assert.equal(device.isUp(), true);
  device.setAddress(0x0a000001, 32, 0x0a000002);
  assert.deepEqual(device.getAddress(), { address: 0x0a000001, prefixLength: 32, peer: 0x0a000002 });
  device.removeAddress();
  assert.equal(device.getAddress(), undefined);
  assert.deepEqual(got.map((e) => e.kind), ['added', 'removed']);
  assert.deepEqual(got[0], { kind: 'added', ifname: 'ms2', ifindex: 7, address: 0x0a000001, prefixLength: 32, peer: 0x0a000002 });
  device.close();
  assert.equal(device.closed, true);
  assert.equal(peer.inject(ipv4(40, 1)), false);
  assert.throws(() => device.readBatch([Buffer.alloc(64)], new Int32Array(1), 0), /ms2: failed to read: device closed/);
});
