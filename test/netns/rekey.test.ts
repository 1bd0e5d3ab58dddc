// Root-only: secure MSNL keeps a keyed tunnel through key changes and address changes, with real
// daemons in namespaces. (1) msnld rekeys every 2 s (MSNL_REKEY_SECONDS, msnld(8) ENVIRONMENT)
// under a 12 s iperf3 TCP stream through ms0: iperf3 exits 0 and the rekey counters rose by
// several. (2) h2's underlay address changes under an open keyed connection (msnld on h2 bound to
// 0.0.0.0, its address replaced): h1 follows h2's authenticated frames to the new address and the
// same connection keeps carrying pings, with no new call.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Topology, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { requireTools } from '../helpers/tools.js';
import { configure, eventually } from './network.js';

function counter(net: Topology, h: Host, name: string): number {
  const value = (JSON.parse(net.mustMsnl(h, ['-j', 'status'])) as { counters: Record<string, number> }).counters[name];
  assert.equal(typeof value, 'number', `msnl status has counter ${name}`);
  return value!;
}

function ms0Conns(net: Topology, h: Host): Array<{ connection: number; peer_ip: string; auth: string; state: string }> {
  return (JSON.parse(net.mustMsnl(h, ['-j', 'conn', 'show'])) as Array<{ interface: string; connection: number; peer_ip: string; auth: string; state: string }>)
    .filter((r) => r.interface === 'ms0' && r.connection !== 0);
}

test('rekeying all through a 30 s iperf3 TCP stream through ms0 (keys due after 2 s, a handshake at most every 5 s) loses no connection', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['iperf3']);
  const net = Topology.create({ tag: 'rekey', hosts: 2 });
  const saved = process.env.MSNL_REKEY_SECONDS;
  process.env.MSNL_REKEY_SECONDS = '2';
  let server: ReturnType<typeof spawn> | undefined;
  try {
    const [h1, h2] = [net.host(1), net.host(2)];
    configure(net);
    for (const h of [h1, h2]) await net.startDaemon(h);
    const ping = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.3', '-W', '3', '10.0.0.2'], 30_000);
    assert.equal(ping.code, 0, `the keyed tunnel is up: ${ping.stdout}${net.tail(h1)}`);
    server = spawn('ip', ['netns', 'exec', h2.netns, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
    await eventually('the iperf3 server listens', () => /:5201\b/.test(net.exec(h2, ['ss', '-ltn']).stdout), 10_000);
    const before = counter(net, h1, 'rekeys') + counter(net, h2, 'rekeys');
    const iperf = await net.execAsync(h1, ['iperf3', '-c', '10.0.0.2', '-t', '30', '-J'], 90_000);
    assert.equal(iperf.code, 0, `iperf3 ran through the rekeys: ${iperf.stdout.slice(-600)}${iperf.stderr}\n${net.tail(h1)}`);
    const report = JSON.parse(iperf.stdout) as { error?: string; end?: { sum_received?: { bytes: number } } };
    const sent = report.end?.sum_received?.bytes ?? 0;
    assert.equal(report.error, undefined, 'iperf3 reported no error');
    assert.ok(sent > 1_000_000, `iperf3 moved ${sent} octets`);
    const rekeys = counter(net, h1, 'rekeys') + counter(net, h2, 'rekeys') - before;
    // Keys are due after 2 s (MSNL_REKEY_SECONDS) and a rekey is sent at most every 5 s
    // (rekeyRetryMs): about 6 in 30 s.
    assert.ok(rekeys >= 4, `${rekeys} rekeys during the 30 s run`);
    assert.equal(ms0Conns(net, h1).length, 1, 'still the one ms0 connection');
    assert.equal(ms0Conns(net, h1)[0]!.auth, 'key');
  } finally {
    if (saved === undefined) delete process.env.MSNL_REKEY_SECONDS;
    else process.env.MSNL_REKEY_SECONDS = saved;
    if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await net.destroy();
    assert.deepEqual(net.leftovers(), []);
  }
});

test('a keyed peer whose underlay address changes keeps its connection: the address follows its authenticated frames', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'roam', hosts: 2 });
  try {
    const [h1, h2] = [net.host(1), net.host(2)];
    configure(net);
    await net.startDaemon(h1);
    await net.startDaemon(h2, ['--listen', '0.0.0.0:7010']); // survives its address going away
    const first = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.3', '-W', '3', '10.0.0.2'], 30_000);
    assert.equal(first.code, 0, `the keyed tunnel is up: ${first.stdout}${net.tail(h1)}`);
    const [conn] = ms0Conns(net, h1);
    assert.ok(conn !== undefined && conn.auth === 'key');
    const roamsBefore = counter(net, h1, 'roams');
    // h2 moves from 192.0.2.2 to 192.0.2.22; h1's route still names the old address.
    net.exec(h2, ['ip', 'addr', 'del', '192.0.2.2/24', 'dev', 'u0']);
    net.exec(h2, ['ip', 'addr', 'add', '192.0.2.22/24', 'dev', 'u0']);
    await eventually('h1 follows h2 to its new address', () => counter(net, h1, 'roams') > roamsBefore, 15_000);
    const after = await net.execAsync(h1, ['ping', '-n', '-c', '3', '-i', '0.3', '-W', '3', '10.0.0.2'], 30_000);
    assert.equal(after.code, 0, `the tunnel still carries pings: ${after.stdout}${net.tail(h1)}`);
    assert.deepEqual(ms0Conns(net, h1).map((r) => r.connection), [conn.connection], 'the same connection, no new call');
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), []);
  }
});
