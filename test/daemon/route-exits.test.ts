// Two whole daemons over the in-memory underlay: a route with two exits (one of them a host that
// does not exist) and a pinned MTU reaches the endpoint as exits and a pinned path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, collect, configurePair, prefix, udpPacket, until } from './harness.js';

test('a route with two exits and mtu 1200: the connection has both exits, its path is pinned at 1200, and data crosses in segments that fit', async () => {
  const lab = new Lab();
  try {
    const stores = configurePair(lab);
    stores.a.delRoute(prefix('128.232.0.2/32'));
    stores.a.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010, priority: 1, moreExits: [{ host: 'nowhere', port: 7010, priority: 2 }], mtu: 1200 });
    const A = await lab.start('hostA', '128.232.0.1', stores.a);
    const B = await lab.start('hostB', '128.232.0.2', stores.b);
    await until('ms0 bound on both', () => A.daemon.tunnels[0]!.isBound && B.daemon.tunnels[0]!.isBound);
    const atB = collect(B.peers.get('ms0'));
    const packet = udpPacket('10.0.0.1', '10.0.0.2', 1500, 0x33);
    A.peers.get('ms0')!.inject(packet);
    await until('the 1500-octet packet crossed', () => atB.length === 1);
    assert.deepEqual(atB[0], packet);
    const [view] = [...A.daemon.view.connections()];
    assert.ok(view !== undefined);
    assert.equal(view.health?.pathPhase, 'pinned');
    assert.equal(view.health?.maxDatagram, 1200 - 28, 'the route\'s mtu less the IPv4 and UDP headers');
    assert.deepEqual(view.exits?.map((e) => [e.endpoint, e.priority]), [['hostB:7010', 1], ['nowhere:7010', 2]]);
    await until('the exit probes found which exit answers', () => {
      const exits = [...A.daemon.view.connections()][0]?.exits ?? [];
      return exits[0]?.state === 'active' && exits[1]?.state === 'down';
    }, 8000);
    assert.ok(A.daemon.view.counters().exitProbesAnswered > 0);
    assert.equal(A.daemon.view.counters().exitMoves, 0, 'nothing to move to');
    // B's route back has one exit: its connection has no exit list, and no pin.
    const [back] = [...B.daemon.view.connections()];
    assert.equal(back?.exits, undefined);
    assert.notEqual(back?.health?.pathPhase, 'pinned');
  } finally {
    await lab.close();
  }
});
