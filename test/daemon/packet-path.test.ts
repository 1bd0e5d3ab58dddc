// The packet path finds a connection's tunnel from the MM messages the daemon forwards, never from
// the manager's tables (ARCHITECTURE.md: the two halves meet only through manager messages).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, collect, configurePair, ip, udpPacket, until } from './harness.js';

test('inbound data reaches its tunnel without reading the manager tables', async () => {
  const lab = new Lab({ seed: 11 });
  try {
    const { a, b } = configurePair(lab);
    const A = await lab.start('hostA', '128.232.0.1', a);
    const B = await lab.start('hostB', '128.232.0.2', b);
    await until('ms1 bound on both', () => A.daemon.tunnels[1]!.isBound && B.daemon.tunnels[1]!.isBound);
    const atB = collect(B.peers.get('ms1'));
    A.peers.get('ms1')!.inject(udpPacket('10.1.0.1', '10.1.0.2', 3000, 0x31));
    await until('first packet at B', () => atB.length === 1);
    // msnl(7): the confirm's ms_ipa is the callee's address on the tunnel interface.
    const [callerSide] = A.daemon.endpoint.connections();
    assert.equal(callerSide?.remoteIpa, ip('10.1.0.2'));

    // From here on, any read of B's manager tables fails the test.
    const managerB = B.daemon.manager;
    const connections = managerB.connections.bind(managerB);
    let managerReads = 0;
    managerB.connections = () => {
      managerReads++;
      return connections();
    };
    for (let i = 0; i < 20; i++) A.peers.get('ms1')!.inject(udpPacket('10.1.0.1', '10.1.0.2', 3000, i));
    await until('20 more packets at B', () => atB.length === 21);
    assert.equal(managerReads, 0, 'the packet path never asked the manager');
    assert.equal(B.daemon.view.counters().undeliverable, 0);

    // An operator's release goes through the daemon's own accessor, once.
    const [conn] = connections().keys();
    assert.ok(conn !== undefined);
    managerB.connections = connections;
    assert.equal(B.daemon.disconnect(conn), true);
    assert.equal(B.daemon.disconnect(conn), false, 'a second release finds nothing');
    assert.equal([...B.daemon.view.connections()].length, 0);
    assert.equal(B.daemon.tunnels[1]!.connectionCount, 0);
  } finally {
    await lab.close();
  }
});
