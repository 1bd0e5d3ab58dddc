// Two (and three) whole msnl daemons in one process over the in-memory data link and fake TUNs,
// configured only through their stores, as wireguard-go's device test does with two devices.
// Every test runs twice: with plain fake TUNs, and with fake TUNs that offload as msnld opens
// ms0..ms2 (TCP super-packets handed over and taken whole on the kernel side).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { internetChecksum } from '../../src/abi/ipv4.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { SEAL_OVERHEAD } from '../../src/msnl/secure-wire.js';
import { Lab, collect, configurePair, ip, prefix, udpPacket, until } from './harness.js';
import { pseudoHeaderSum, tcpPacket } from '../helpers/packets.js';

/** Starts A and B from configurePair() and waits until interface `index` is bound on both. */
async function startPair(lab: Lab, index: number) {
  const stores = configurePair(lab);
  const A = await lab.start('hostA', '128.232.0.1', stores.a);
  const B = await lab.start('hostB', '128.232.0.2', stores.b);
  await until(`ms${index} bound on both`, () => A.daemon.tunnels[index]!.isBound && B.daemon.tunnels[index]!.isBound);
  return { stores, A, B };
}

for (const offload of [false, true]) {
  const mode = offload ? 'on' : 'off';

  test(`two daemons pass full-MTU packets both ways on all four interfaces (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const stores = configurePair(lab);
      const A = await lab.start('hostA', '128.232.0.1', stores.a);
      const B = await lab.start('hostB', '128.232.0.2', stores.b);
      for (const spec of TUNNEL_INTERFACES) {
        await until(`${spec.name} bound on both`, () => A.daemon.tunnels[spec.index]!.isBound && B.daemon.tunnels[spec.index]!.isBound);
        const atB = collect(B.peers.get(spec.name));
        const atA = collect(A.peers.get(spec.name));
        const forward = udpPacket(`10.${spec.index}.0.1`, `10.${spec.index}.0.2`, spec.mtu, 0x11);
        A.peers.get(spec.name)!.inject(forward);
        await until(`${spec.name} A->B`, () => atB.length === 1);
        assert.deepEqual(atB[0], forward, `${spec.name}: the ${spec.mtu}-octet packet arrives intact at B`);
        const back = udpPacket(`10.${spec.index}.0.2`, `10.${spec.index}.0.1`, spec.mtu, 0x22);
        B.peers.get(spec.name)!.inject(back);
        await until(`${spec.name} B->A`, () => atA.length === 1);
        assert.deepEqual(atA[0], back, `${spec.name}: the reply arrives intact at A`);
      }
      // One full-duplex connection per interface and peer, on both sides.
      assert.equal(A.daemon.manager.connections().size, 4);
      assert.equal(B.daemon.manager.connections().size, 4);
      const initiators = [...A.daemon.manager.connections().values()].map((c) => c.initiator);
      assert.deepEqual(initiators, [true, true, true, true]);
      // Health: both directions proven once probes went both ways.
      await until('all connections up', () => [...A.daemon.manager.connections().keys()].every((id) => A.daemon.endpoint.health(id)?.up === true), 5000);
    } finally {
      await lab.close();
    }
  });

  test(`simultaneous first packets from both sides leave exactly one connection per pair (offload ${mode})`, async () => {
    const lab = new Lab({ seed: 7, offload });
    try {
      const { A, B } = await startPair(lab, 0);
      const atA = collect(A.peers.get('ms0'));
      const atB = collect(B.peers.get('ms0'));
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      B.peers.get('ms0')!.inject(udpPacket('10.0.0.2', '10.0.0.1', 100));
      await until('both packets delivered', () => atA.length === 1 && atB.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(A.daemon.manager.connections().size, 1, 'A keeps one connection');
      assert.equal(B.daemon.manager.connections().size, 1, 'B keeps one connection');
      assert.equal(A.daemon.endpoint.connections().length, 1);
      assert.equal(B.daemon.endpoint.connections().length, 1);
      const [aConn] = A.daemon.endpoint.connections();
      const [bConn] = B.daemon.endpoint.connections();
      assert.equal(aConn!.remoteConnId, bConn!.connId, 'both ends name the same connection');
    } finally {
      await lab.close();
    }
  });

  test(`a caller whose MSNL address does not map to its ms_ipa is refused and nothing reaches the TUN (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const stores = configurePair(lab);
      // C (128.232.0.3) claims A's IP 10.0.0.1 on its ms0.
      const c = lab.store('hostC', '128.232.0.3');
      c.addRoute({ prefix: prefix('128.232.0.0/24'), host: 'hostB', port: 7010 });
      c.addMapping({ prefix: prefix('10.0.0.0/24'), msnlAddress: ip('128.232.0.2') });
      c.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);
      stores.b.addRoute({ prefix: prefix('128.232.0.3/32'), host: 'hostC', port: 7010 });
      const B = await lab.start('hostB', '128.232.0.2', stores.b);
      const C = await lab.start('hostC', '128.232.0.3', c);
      await until('ms0 bound on B and C', () => B.daemon.tunnels[0]!.isBound && C.daemon.tunnels[0]!.isBound);
      const atB = collect(B.peers.get('ms0'));
      const atC = collect(C.peers.get('ms0'));
      C.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 84));
      await until('C hears the refusal as ICMP unreachable', () => atC.length === 1, 8000);
      const icmp = atC[0]!;
      assert.equal(icmp[9], 1, 'an ICMP packet');
      assert.equal(icmp[20], 3, 'destination unreachable');
      assert.equal(icmp[21], 13, 'code 13: refused by the peer (ms(4) REASON CODES)');
      assert.equal(B.daemon.manager.refusedCalls, 1);
      assert.equal(B.daemon.manager.connections().size, 0);
      assert.equal(atB.length, 0, 'nothing reached B\'s TUN');
      assert.ok(B.logs.some((line) => /refused call from 128\.232\.0\.3 \(ms_ipa 10\.0\.0\.1\): ms_ipa maps to 128\.232\.0\.1/.test(line)), B.logs.join('\n'));
      // The manager's refusal is msnl(7) reason 2 (refused); 3 is only for a wrong RespAddr.
      assert.ok(C.logs.some((line) => line.includes('failed to call 128.232.0.2: refused (reason 2: refused)')), C.logs.join('\n'));
    } finally {
      await lab.close();
    }
  });

  test(`removing a mapping tears the connection down; the next packet gets ICMP net unreachable (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const { stores, A, B } = await startPair(lab, 0);
      const atA = collect(A.peers.get('ms0'));
      const atB = collect(B.peers.get('ms0'));
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await until('first packet', () => atB.length === 1);
      stores.a.delMapping(prefix('10.0.0.2/32'));
      await until('A drops its connection', () => A.daemon.manager.connections().size === 0);
      await until('B learns at once', () => B.daemon.manager.connections().size === 0);
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await until('ICMP back at A', () => atA.length === 1);
      assert.equal(atA[0]![20], 3, 'ICMP destination unreachable');
      assert.equal(atA[0]![21], 0, 'code 0: no mapping covers the destination (ms(4) REASON CODES)');
      assert.equal(atB.length, 1, 'nothing more reached B');
    } finally {
      await lab.close();
    }
  });

  test(`an operator address change through the store rebinds; stopping a daemon releases its peers at once (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const { stores, A, B } = await startPair(lab, 1);
      const atB = collect(B.peers.get('ms1'));
      A.peers.get('ms1')!.inject(udpPacket('10.1.0.1', '10.1.0.2', 1000));
      await until('delivered', () => atB.length === 1);
      stores.b.setInterfaceAdmin('ms1', false);
      await until('B unbinds ms1 when it goes down', () => !B.daemon.tunnels[1]!.isBound);
      await until('A loses the connection', () => A.daemon.manager.connections().size === 0);
      await B.daemon.stop();
      assert.equal(B.daemon.manager.connections().size, 0);
    } finally {
      await lab.close();
    }
  });

  test(`a tunnel whose peer stops is shown down and comes back by itself when the peer restarts (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const { stores, A, B: B1 } = await startPair(lab, 0);
      const atB = collect(B1.peers.get('ms0'));
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await until('first packet', () => atB.length === 1);
      await B1.daemon.stop();
      lab.hosts.splice(lab.hosts.indexOf(B1), 1);
      await until('A shows the tunnel down', () => A.daemon.tunnels[0]!.lostPeers().length === 1 && A.daemon.manager.connections().size === 0);
      assert.equal(A.daemon.tunnels[0]!.lostPeers()[0]!.peer, ip('10.0.0.2'));
      const B2 = await lab.start('hostB', '128.232.0.2', stores.b);
      await until('A calls B again by itself', () => A.daemon.manager.connections().size === 1 && A.daemon.tunnels[0]!.lostPeers().length === 0, 8000);
      await until('health up both ways', () => [...A.daemon.manager.connections().keys()].every((id) => A.daemon.endpoint.health(id)?.up === true), 8000);
      const atB2 = collect(B2.peers.get('ms0'));
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await until('traffic flows again', () => atB2.length === 1);
    } finally {
      await lab.close();
    }
  });

  test(`a mapping with a lifetime disappears on time: its connection is torn down (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const stores = configurePair(lab);
      stores.a.delMapping(prefix('10.2.0.2/32'));
      stores.a.addMapping({ prefix: prefix('10.2.0.2/32'), msnlAddress: ip('128.232.0.2'), lifetimeSeconds: 1 });
      const A = await lab.start('hostA', '128.232.0.1', stores.a);
      const B = await lab.start('hostB', '128.232.0.2', stores.b);
      await until('ms2 bound on both', () => A.daemon.tunnels[2]!.isBound && B.daemon.tunnels[2]!.isBound);
      const atB = collect(B.peers.get('ms2'));
      A.peers.get('ms2')!.inject(udpPacket('10.2.0.1', '10.2.0.2', 200));
      await until('delivered while the mapping lives', () => atB.length === 1);
      assert.equal(A.daemon.view.msnlAddressOf(ip('10.2.0.2')), ip('128.232.0.2'));
      await until('the mapping expired', () => A.daemon.view.msnlAddressOf(ip('10.2.0.2')) === undefined, 3000);
      await until('its connection is gone on both ends', () => A.daemon.manager.connections().size === 0 && B.daemon.manager.connections().size === 0, 3000);
    } finally {
      await lab.close();
    }
  });

  test(`a TCP stream crosses ms0 intact; with offload, super-packets are cut on one side and joined on the other (offload ${mode})`, async () => {
    const lab = new Lab({ offload });
    try {
      const { A, B } = await startPair(lab, 0);
      const atB = collect(B.peers.get('ms0'));
      // The connection first, so the stream does not wait in the small queue of a call under way.
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await until('the connection is up', () => atB.length === 1);
      atB.length = 0;
      const payload = Buffer.from(Array.from({ length: 60_000 }, (_, i) => (i * 7 + i / 251) & 0xff));
      const segments = offload ? [tcpSegment(1000, payload)] : cutInto(payload, 1000, 1500 - 40);
      for (const packet of segments) assert.ok(A.peers.get('ms0')!.inject(packet));
      const received = (): number => atB.reduce((sum, p) => sum + p.length - 40, 0);
      await until('the stream arrived', () => received() >= payload.length);
      const ordered = [...atB].sort((x, y) => x.readUInt32BE(24) - y.readUInt32BE(24));
      let seq = 1000;
      for (const p of ordered) {
        assert.equal(p.readUInt32BE(24), seq, 'no gap, no overlap');
        assert.equal(internetChecksum(p, 20, p.length - 20, pseudoSum(p)), 0, 'TCP checksum complete');
        seq += p.length - 40;
      }
      assert.deepEqual(Buffer.concat(ordered.map((p) => p.subarray(40))), payload, 'the bytes arrived unchanged');
      const sent = A.devices.get('ms0')!.stats().offload;
      const taken = B.devices.get('ms0')!.stats().offload;
      if (offload) {
        assert.equal(sent?.superPacketsRead, 1, 'A read one super-packet');
        assert.equal(sent?.segmentsRead, Math.ceil(payload.length / (1472 - DATA_HEADER_SIZE - SEAL_OVERHEAD - 40)), 'and cut it into datagram-sized segments');
        assert.ok((taken?.superPacketsWritten ?? 0) >= 1 && (taken?.segmentsJoined ?? 0) >= 2, `B joined segments: ${JSON.stringify(taken)}`);
        assert.ok(atB.length < sent!.segmentsRead, `B wrote ${atB.length} packets for ${sent!.segmentsRead} segments`);
      } else {
        assert.equal(sent, undefined);
        assert.equal(taken, undefined);
        assert.equal(atB.length, segments.length, 'plain devices pass every segment as it is');
      }
    } finally {
      await lab.close();
    }
  });
}

/** The TCP pseudo-header sum of the IPv4/TCP packet p (20-octet IP header). */
function pseudoSum(p: Buffer): number {
  return pseudoHeaderSum(p.readUInt32BE(12), p.readUInt32BE(16), 6, p.length - 20);
}

/** An IPv4/TCP packet 10.0.0.1:40000 -> 10.0.0.2:5201 (ACK, no options) with correct checksums. */
function tcpSegment(seq: number, payload: Uint8Array): Buffer {
  return tcpPacket(ip('10.0.0.1'), ip('10.0.0.2'), seq, payload);
}

/** The payload as MSS-sized segments, as a host without offload would send them. */
function cutInto(payload: Buffer, seq: number, mss: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += mss) out.push(tcpSegment(seq + at, payload.subarray(at, at + mss)));
  return out;
}
