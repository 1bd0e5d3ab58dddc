// The path MTU that `msnl health` and `msnl conn show` print is the largest datagram plus the IP
// and UDP headers of the exit's family, as the underlay says (Underlay.headerOctets): 28 over
// IPv4, 48 over IPv6. Two whole daemons over the in-memory underlay, whose nodes named
// `[IPv6]:PORT` stand for IPv6 hosts; every route pins `mtu 1400`, so the figure is known at once
// and has to come back as 1400 on both families (it read 1380 on IPv6 while the control rows
// added 28 whatever the exit).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonControl } from '../../src/daemon/control-handler.js';
import { MemoryHub, MemoryUnderlay } from '../../src/msdl/memory.js';
import { Lab, ip, prefix, udpPacket, until } from './harness.js';

const PINNED = 1400;

async function pinnedPair(hostA: string, hostB: string, secondExit?: string): Promise<void> {
  const lab = new Lab();
  try {
    const a = lab.store('a', '128.232.0.1');
    const b = lab.store('b', '128.232.0.2');
    a.updateHost({ listenHost: hostA, listenPort: 7010 });
    b.updateHost({ listenHost: hostB, listenPort: 7010 });
    const moreExits = secondExit === undefined ? undefined : [{ host: secondExit, port: 7010, priority: 1 }];
    a.addRoute({ prefix: prefix('128.232.0.2/32'), host: hostB, port: 7010, moreExits, mtu: PINNED });
    b.addRoute({ prefix: prefix('128.232.0.1/32'), host: hostA, port: 7010, mtu: PINNED });
    for (const store of [a, b]) {
      store.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
      store.addMapping({ prefix: prefix('10.0.0.2/32'), msnlAddress: ip('128.232.0.2') });
    }
    a.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);
    b.setInterfaceAddress('ms0', { address: ip('10.0.0.2'), length: 24 }, true);
    const A = await lab.start('a', '128.232.0.1', a);
    const B = await lab.start('b', '128.232.0.2', b);
    await until('ms0 bound on both', () => A.daemon.tunnels[0]!.isBound && B.daemon.tunnels[0]!.isBound);
    const control = new DaemonControl(A.daemon);
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
    await until('the connection is up', () => [...control.health()].some((row) => row.state === 'up'));

    const view = [...A.daemon.view.connections()][0]!;
    const headers = hostB.includes(':') ? 48 : 28;
    assert.equal(view.headerOctets, headers, 'the underlay says the family of the exit in use');
    assert.equal(view.health?.maxDatagram, PINNED - headers, 'the pinned MTU less this family\'s headers is what the endpoint sends');
    const health = [...control.health()].find((row) => row.state === 'up')!;
    assert.equal(health.pmtu, PINNED, JSON.stringify(health));
    const conn = [...control.connections()].find((row) => row.state === 'up')!;
    assert.equal(conn.pmtu, PINNED, JSON.stringify(conn));
    if (secondExit !== undefined) {
      // The exit list: each exit's own family (the second one, on the other family, never answers).
      const exits = view.exits ?? [];
      assert.deepEqual(exits.map((e) => e.endpoint), [hostB.includes(':') ? `[${hostB}]:7010` : `${hostB}:7010`, secondExit.includes(':') ? `[${secondExit}]:7010` : `${secondExit}:7010`]);
      assert.deepEqual(exits.map((e) => e.maxDatagram + e.headerOctets), [PINNED, PINNED], JSON.stringify(exits));
      assert.match(health.exits ?? '', new RegExp(`/${PINNED} .*/${PINNED}$`), health.exits ?? '');
    }
  } finally {
    await lab.close();
  }
}

test('IPv6 exits: health and conn show give the pinned path MTU, the datagram plus 48', async () => {
  await pinnedPair('2001:db8::1', '2001:db8::2');
});

test('IPv4 exits: the same figure, the datagram plus 28', async () => {
  await pinnedPair('192.0.2.1', '192.0.2.2');
});

test('a route with an IPv6 and an IPv4 exit: each exit row adds its own family\'s headers', async () => {
  await pinnedPair('2001:db8::1', '2001:db8::2', '192.0.2.9');
});

test('the memory underlay tells the family from the node name, as UDP does from the address', () => {
  const underlay = new MemoryUnderlay(new MemoryHub({ clock: { now: () => 0 }, seed: 1, delayMs: 0, maxDatagram: 1472 }));
  assert.equal(underlay.headerOctets(underlay.link('2001:db8::1', 7010)), 48);
  assert.equal(underlay.headerOctets(underlay.link('192.0.2.1', 7010)), 28);
  assert.equal(underlay.headerOctets(underlay.link('hostb', 7010)), 28);
  assert.equal(underlay.linkText(underlay.link('2001:db8::1', 7010)), '[2001:db8::1]:7010');
});
