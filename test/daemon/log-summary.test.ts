// A daemon below debug logs its connection lines one by one only up to its rate; the rest are
// counted and summarised in one line when the second is over, and at stop whatever is counted is
// summarised before the daemon goes. Two whole daemons over the memory hub, four interfaces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { Lab, collect, configurePair, udpPacket, until } from './harness.js';

test('past the rate, connection lines are summarised once a second and at stop', async () => {
  const lab = new Lab();
  try {
    const stores = configurePair(lab);
    const A = await lab.start('hostA', '128.232.0.1', stores.a, {}, 1);
    const B = await lab.start('hostB', '128.232.0.2', stores.b);
    for (const spec of TUNNEL_INTERFACES) {
      await until(`${spec.name} bound on both`, () => A.daemon.tunnels[spec.index]!.isBound && B.daemon.tunnels[spec.index]!.isBound);
      const atB = collect(B.peers.get(spec.name));
      A.peers.get(spec.name)!.inject(udpPacket(`10.${spec.index}.0.1`, `10.${spec.index}.0.2`, 100));
      await until(`${spec.name} A->B`, () => atB.length === 1);
    }
    const ups = (logs: string[]) => logs.filter((l) => / connection \d+ up: /.test(l)).length;
    assert.equal(ups(B.logs), 4, 'B (rate 0) logs every connection');
    await until('A summarises the rest', () => A.logs.some((l) => /more in the last [0-9.]+ s, beyond 1 lines a second: .*connections up/.test(l)), 3000);
    const summary = A.logs.find((l) => /connections up/.test(l)) ?? '';
    const counted = Number(/(\d+) connections up/.exec(summary)?.[1] ?? NaN);
    assert.equal(ups(A.logs) + counted, 4, 'each connection is logged or counted, once');
    assert.ok(ups(A.logs) >= 1 && ups(A.logs) < 4, 'some were not logged one by one');
    // B hangs up all four at once: A logs at most one release a second and counts the rest; the
    // stop summarises them without waiting for the second to end.
    await B.daemon.stop();
    await until('A sees the four releases', () => A.daemon.manager.connections().size === 0, 5000);
    await A.daemon.stop();
    const downs = A.logs.filter((l) => / connection \d+ down: released by peer/.test(l)).length;
    const downCounted = A.logs.map((l) => Number(/(\d+) connections down: released by peer/.exec(l)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
    assert.equal(downs + downCounted, 4, `every release logged or counted: ${A.logs.filter((l) => /down/.test(l)).join(' | ')}`);
  } finally {
    await lab.close();
  }
});
