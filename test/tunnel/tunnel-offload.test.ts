// The tunnel over an offloading device (the fake TUN in offload mode, which speaks virtio_net_hdr
// frames on its kernel side): a TCP super-packet the host sends leaves as segments that each fit
// one underlay datagram, and a burst of inbound segments of one flow reaches the host as one
// super-packet once the burst's callback has returned. The tunnel sees plain packets only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMm } from '../../src/abi/mm.js';
import { sockaddrIn } from '../../src/abi/sockaddr.js';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { internetChecksum } from '../../src/abi/ipv4.js';
import { createFakeTun, type FakeTunPeer } from '../../src/tun/fake.js';
import type { TunDevice } from '../../src/tun/device.js';
import { Tunnel } from '../../src/tunnel/tunnel.js';
import type { TunnelDevice } from '../../src/tunnel/ports.js';

const HEADROOM = 16;
const LOCAL = 0x0a000001; // 10.0.0.1
const PEER = 0x0a000002; // 10.0.0.2
const PEER_MSNL = 0x80e80002;

/** A TCP/IPv4 packet PEER <- LOCAL (or reversed) with a timestamp option and a correct checksum. */
function tcpPacket(src: number, dst: number, seq: number, payload: Uint8Array, flags = 0x10): Buffer {
  const tcpLen = 32;
  const total = 20 + tcpLen + payload.length;
  const p = Buffer.alloc(total);
  p[0] = 0x45;
  p.writeUInt16BE(total, 2);
  p.writeUInt16BE(0x1000, 4);
  p.writeUInt16BE(0x4000, 6);
  p[8] = 64;
  p[9] = 6;
  p.writeUInt32BE(src >>> 0, 12);
  p.writeUInt32BE(dst >>> 0, 16);
  p.writeUInt16BE(internetChecksum(p, 0, 20), 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(5201, 22);
  p.writeUInt32BE(seq >>> 0, 24);
  p.writeUInt32BE(77, 28);
  p[32] = (tcpLen / 4) << 4;
  p[33] = flags;
  p.writeUInt16BE(512, 34);
  p.set([1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7], 40);
  p.set(payload, 52);
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + tcpLen + payload.length;
  p.writeUInt16BE(internetChecksum(p, 20, tcpLen + payload.length, pseudo), 36);
  return p;
}

function tcpChecksumOk(p: Uint8Array): boolean {
  const b = Buffer.from(p);
  const src = b.readUInt32BE(12);
  const dst = b.readUInt32BE(16);
  const len = b.length - 20;
  return internetChecksum(b, 20, len, (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + len) === 0;
}

function connectedTunnel(device?: TunnelDevice): { tunnel: Tunnel; device: TunDevice; peer: FakeTunPeer; sent: Buffer[] } {
  const fake = createFakeTun('ms0', { mtu: 1500, offload: true });
  fake.device.setUp(true);
  const sent: Buffer[] = [];
  const tunnel = new Tunnel({
    spec: TUNNEL_INTERFACES[0]!,
    device: device ?? fake.device,
    data: {
      send: (conn, buf, offset, length) => {
        assert.ok(offset >= HEADROOM, 'the data header has room in front');
        sent.push(Buffer.from(buf.subarray(offset, offset + length)));
        return conn === 7;
      },
    },
    mappings: { msnlAddressOf: (ip) => (ip === PEER ? PEER_MSNL : undefined) },
    up: () => undefined,
    headroom: HEADROOM,
    now: () => 0,
    datagramPayload: 1456,
  });
  tunnel.setState(LOCAL, 24, true);
  const down = Buffer.alloc(64);
  const n = encodeMm({ type: 'MMDOWN_NEWCONN', sock: tunnel.sock, conn: 7, peer: sockaddrIn(PEER, TUNNEL_INTERFACES[0]!.port) }, down, 0);
  tunnel.onDown(down.subarray(0, n));
  return { tunnel, device: fake.device, peer: fake.peer, sent };
}

test('a 64 KB TCP super-packet read from ms0 leaves as 1456-octet segments, each one datagram, checksums complete', () => {
  const { tunnel, device, peer, sent } = connectedTunnel();
  const payload = Buffer.alloc(40 * 1448);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
  // The kernel hands it over as one frame: partial checksum (pseudo-header sum only), gso_size 1448.
  assert.ok(peer.inject(tcpPacket(LOCAL, PEER, 1000, payload, 0x18)));
  assert.equal(tunnel.onReadable(), Math.ceil(payload.length / (1456 - 52)));
  assert.equal(sent.length, Math.ceil(payload.length / (1456 - 52)));
  assert.deepEqual(
    { superPacketsRead: device.stats().offload?.superPacketsRead, segmentsRead: device.stats().offload?.segmentsRead },
    { superPacketsRead: 1, segmentsRead: sent.length },
  );
  let seq = 1000;
  const joined: Buffer[] = [];
  for (const [i, segment] of sent.entries()) {
    assert.ok(segment.length <= 1456, `segment ${i} is ${segment.length} octets`);
    assert.equal(segment.readUInt16BE(2), segment.length);
    assert.equal(internetChecksum(segment, 0, 20), 0, `IP checksum of segment ${i}`);
    assert.ok(tcpChecksumOk(segment), `TCP checksum of segment ${i}`);
    assert.equal(segment.readUInt32BE(24), seq);
    assert.equal(segment[33], i === sent.length - 1 ? 0x18 : 0x10, 'PSH only on the last');
    seq += segment.length - 52;
    joined.push(segment.subarray(52));
  }
  assert.deepEqual(Buffer.concat(joined), payload);
  assert.equal(tunnel.counters.txPackets, sent.length);
});

test('over a smaller path the cut follows it: after setDatagramPayload(1324) a super-packet leaves in segments of at most 1324 octets', () => {
  const { tunnel, peer, sent } = connectedTunnel();
  tunnel.setDatagramPayload(1324); // a 1400-octet path: 1372 less the data header and the seal
  const payload = Buffer.alloc(10 * 1448, 5);
  assert.ok(peer.inject(tcpPacket(LOCAL, PEER, 1000, payload, 0x18)));
  tunnel.onReadable();
  assert.equal(sent.length, Math.ceil(payload.length / (1324 - 52)));
  assert.ok(sent.every((segment) => segment.length <= 1324 && tcpChecksumOk(segment)));
  assert.deepEqual(Buffer.concat(sent.map((segment) => segment.subarray(52))), payload);
});

test('a plain packet with a partial UDP checksum is completed in place and sent whole', () => {
  const { tunnel, peer, sent } = connectedTunnel();
  const udp = Buffer.alloc(20 + 8 + 1472 - 8);
  udp[0] = 0x45;
  udp.writeUInt16BE(udp.length, 2);
  udp[8] = 64;
  udp[9] = 17;
  udp.writeUInt32BE(LOCAL, 12);
  udp.writeUInt32BE(PEER, 16);
  udp.writeUInt16BE(internetChecksum(udp, 0, 20), 10);
  udp.writeUInt16BE(5000, 20);
  udp.writeUInt16BE(5001, 22);
  udp.writeUInt16BE(udp.length - 20, 24);
  for (let i = 28; i < udp.length; i++) udp[i] = i & 0xff;
  const pseudo = (LOCAL >>> 16) + (LOCAL & 0xffff) + (PEER >>> 16) + (PEER & 0xffff) + 17 + udp.length - 20;
  udp.writeUInt16BE(internetChecksum(udp, 20, udp.length - 20, pseudo), 26);
  // The kernel hands it over with NEEDS_CSUM and only the pseudo-header sum in the field.
  assert.ok(peer.inject(udp));
  tunnel.onReadable();
  assert.equal(sent.length, 1, 'a plain 1492-octet packet is not cut: it would take two datagrams either way');
  assert.equal(internetChecksum(sent[0]!, 20, udp.length - 20, pseudo), 0, 'UDP checksum completed');
  assert.deepEqual(sent[0], udp);
});

test('a burst of inbound segments of one flow goes into the device as one super-packet after the burst', async () => {
  const { tunnel, device, peer } = connectedTunnel();
  const writes: Buffer[] = [];
  peer.onPacket((p) => writes.push(p));
  const size = 1404;
  const payloads: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    payloads.push(Buffer.alloc(size, i));
    tunnel.deliver(7, tcpPacket(PEER, LOCAL, 5000 + i * size, payloads[i]!), 0, 52 + size);
  }
  assert.equal(writes.length, 0, 'nothing written before the burst ends');
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.equal(writes.length, 1);
  const packet = writes[0]!;
  assert.equal(packet.length, 52 + 10 * size);
  assert.equal(packet.readUInt32BE(24), 5000);
  assert.ok(tcpChecksumOk(packet), 'the kernel side completed the partial checksum');
  assert.deepEqual(packet.subarray(52), Buffer.concat(payloads));
  assert.equal(device.stats().offload?.superPacketsWritten, 1);
  assert.equal(device.stats().offload?.segmentsJoined, 10);
  assert.equal(tunnel.counters.rxPackets, 10);
});

test('inbound packets with a spoofed source never reach the coalescer', async () => {
  const { tunnel, peer } = connectedTunnel();
  tunnel.deliver(7, tcpPacket(0x0a0000fe, LOCAL, 1, Buffer.alloc(100)), 0, 152);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.equal(peer.take().length, 0);
  assert.equal(tunnel.counters.drops.spoofed_source, 1);
});

test("the device's offload drops show in the tunnel's counters as bad_offload and device_write", () => {
  const device = { readDrops: 0, runsRefused: 0, readBatch: () => 0, write: () => true };
  const { tunnel } = connectedTunnel(device);
  device.readDrops = 3;
  device.runsRefused = 2;
  tunnel.onReadable();
  device.readDrops = 4;
  tunnel.tick();
  assert.equal(tunnel.counters.drops.bad_offload, 4);
  assert.equal(tunnel.counters.drops.device_write, 2);
});
