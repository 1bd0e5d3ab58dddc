import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelTun } from '../../src/tun/device.js';
import { TunLoop } from '../../src/tun/tun-loop.js';
import { echoRequest } from '../../src/daemon/warmup.js';
import { waitFor } from '../helpers/wait.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;

for (const offload of [true, false]) {
  test(`a loop device (${offload ? 'offloading, as ms0..ms2' : 'plain, as ms3'}) is a KernelTun: injected packets are read after a readable event, written ones reach the peer`, async () => {
    const loop = new TunLoop();
    const { device, peer } = loop.open('ms9', { mtu: 1500, offload });
    try {
      assert.ok(device instanceof KernelTun);
      assert.equal(device.offload, offload);
      const bufs = [new Uint8Array(16 + 1500), new Uint8Array(16 + 1500)];
      const sizes = new Int32Array(2);
      const read: number[][] = [];
      device.onReadable(() => {
        for (let n = device.readBatch(bufs, sizes, 16); n > 0; n = n === bufs.length ? device.readBatch(bufs, sizes, 16) : 0) {
          for (let i = 0; i < n; i++) read.push([...bufs[i]!.subarray(16, 16 + sizes[i]!)]);
        }
      });
      const packets = [echoRequest(SRC, DST, 1, 84), echoRequest(SRC, DST, 2, 120), echoRequest(SRC, DST, 3, 60)];
      for (const p of packets) peer.inject(p);
      assert.equal(read.length, 0, 'nothing is read before the readable event (the next turn)');
      await waitFor('three packets read', () => read.length === 3, 2000);
      assert.deepEqual(read, packets.map((p) => [...p]));
      const written: number[][] = [];
      peer.onPacket((p) => void written.push([...p]));
      const out = echoRequest(DST, SRC, 4, 84);
      const framed = new Uint8Array(8 + out.length);
      framed.set(out, 8);
      assert.equal(device.write(framed, 8, out.length), true);
      await waitFor('the written packet', () => written.length === 1, 2000); // an offloading device writes at the end of the burst
      assert.deepEqual(written[0], [...out]);
      device.setMtu(1400);
      assert.equal(device.getMtu(), 1400);
      device.setAddress(SRC, 24);
      device.setUp(true);
      assert.deepEqual(device.getAddress(), { address: SRC, prefixLength: 24 });
      assert.equal(device.isUp(), true);
    } finally {
      device.close();
    }
    assert.equal(device.closed, true);
    assert.throws(() => device.readBatch([new Uint8Array(100)], new Int32Array(1), 0), /closed/);
  });
}

test('a loop device keeps at most maxQueued packets; a closed one is no longer told anything', async () => {
  const loop = new TunLoop(2);
  const { device, peer } = loop.open('ms9', { mtu: 1500, offload: false });
  let events = 0;
  const bufs = [new Uint8Array(1500), new Uint8Array(1500), new Uint8Array(1500), new Uint8Array(1500)];
  const sizes = new Int32Array(4);
  let got = 0;
  device.onReadable(() => {
    events++;
    got += device.readBatch(bufs, sizes, 0);
  });
  for (let i = 0; i < 5; i++) peer.inject(echoRequest(SRC, DST, i, 64));
  await waitFor('a readable event', () => events > 0, 2000);
  assert.equal(got, 2);
  device.close();
  peer.inject(echoRequest(SRC, DST, 9, 64));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(events, 1);
});
