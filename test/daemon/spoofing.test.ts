// A host on the underlay that claims another host's MSNL address and ms_ipa must not disturb that
// host's open connection (issue 15 item 4): for routes without keys, the caller's underlay source
// is judged against the open connection and the route before a call may replace anything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, collect, ip, prefix, udpPacket, until } from './harness.js';

type Store = ReturnType<Lab['store']>;
type Started = Awaited<ReturnType<Lab['start']>>;

/**
 * Hosts A (128.232.0.1) and B (128.232.0.2) with ms0 up and a first packet A -> B carried, and
 * hostM: another underlay endpoint claiming A's MSNL address and A's ms0 address, started after
 * the connection. `routeToA` adds B's route to A. Returns the daemons, what B's ms0 received, and
 * B's connection before M spoke.
 */
async function aConnectionThenM(lab: Lab, routeToA: (b: Store) => void): Promise<{ A: Started; B: Started; M: Started; atB: Uint8Array[]; before: number }> {
  const a = lab.store('hostA', '128.232.0.1');
  const b = lab.store('hostB', '128.232.0.2');
  a.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010 });
  routeToA(b);
  for (const store of [a, b]) {
    store.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
    store.addMapping({ prefix: prefix('10.0.0.2/32'), msnlAddress: ip('128.232.0.2') });
  }
  a.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);
  b.setInterfaceAddress('ms0', { address: ip('10.0.0.2'), length: 24 }, true);
  const m = lab.store('hostM', '128.232.0.1');
  m.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010 });
  m.addMapping({ prefix: prefix('10.0.0.2/32'), msnlAddress: ip('128.232.0.2') });
  m.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);

  const A = await lab.start('hostA', '128.232.0.1', a);
  const B = await lab.start('hostB', '128.232.0.2', b);
  await until('ms0 bound on A and B', () => A.daemon.tunnels[0]!.isBound && B.daemon.tunnels[0]!.isBound);
  const atB = collect(B.peers.get('ms0'));
  A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 200, 1));
  await until('A -> B', () => atB.length === 1);
  const [before] = B.daemon.manager.connections().keys();
  assert.ok(before !== undefined);
  const M = await lab.start('hostM', '128.232.0.1', m);
  await until('ms0 bound on M', () => M.daemon.tunnels[0]!.isBound);
  return { A, B, M, atB, before };
}

test('a call from another underlay endpoint claiming a connected peer is refused and the connection carries on', async () => {
  const lab = new Lab({ seed: 5 });
  try {
    const { A, B, M, atB, before } = await aConnectionThenM(lab, (b) => b.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010 }));
    const atM = collect(M.peers.get('ms0'));
    M.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 200, 0x66));
    await until('M hears the refusal', () => atM.length === 1, 8000);
    assert.equal(atM[0]![20], 3, 'ICMP destination unreachable back at M');
    assert.equal(atB.length, 1, 'nothing of M reached B\'s ms0');
    assert.deepEqual([...B.daemon.manager.connections().keys()], [before], 'B keeps the connection to the real A');
    assert.ok(B.logs.some((line) => line.includes('open via another underlay endpoint')), B.logs.join('\n'));

    // The real A still gets through on the same connection.
    for (let i = 0; i < 5; i++) A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 200, 2 + i));
    await until('5 more from A', () => atB.length === 6);
    assert.deepEqual([...B.daemon.manager.connections().keys()], [before]);
  } finally {
    await lab.close();
  }
});

test('a call from another exit of the caller\'s route (a standby underlay endpoint) may replace the open connection', async () => {
  const lab = new Lab({ seed: 6 });
  try {
    // B's route to A names two exits: A's own endpoint and a standby one (hostM, the same host A restarted behind it).
    const { B, M, atB, before } = await aConnectionThenM(lab, (b) => b.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010, priority: 10, moreExits: [{ host: 'hostM', port: 7010, priority: 20 }] }));
    M.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 200, 0x66));
    await until('B hears M', () => atB.length === 2, 8000);
    const after = [...B.daemon.manager.connections().keys()];
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before, 'the call through the standby exit replaced the old connection');
    assert.ok(!B.logs.some((line) => line.includes('open via another underlay endpoint')), B.logs.join('\n'));
  } finally {
    await lab.close();
  }
});
