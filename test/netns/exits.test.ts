// Root-only: a route with two exits between two real daemons joined by two veth pairs (two
// underlay subnets, TEST-NET-1 and TEST-NET-2). During an iperf3 through ms0 the exit in use is
// cut (ip link set down): the TCP connection goes on over the other exit after a short stall, as
// the same MSNL connection; restored, the connection moves back after the hold-down. With both
// exits cut the tunnel shows down and a ping gets ICMP unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topology, sleep, type Host } from '../../src/demo/topology.js';
import { DEFAULT_EXIT_TIMERS } from '../../src/msnl/exits.js';
import { requireRoot } from '../helpers/root.js';
import { requireTools } from '../helpers/tools.js';
import { eventually } from './network.js';

const PORT = 7010;
/** The second underlay: TEST-NET-2. */
const second = (h: Host): string => `198.51.100.${h.index}`;

interface ExitJson { endpoint: string; priority: number; state: string; rtt_ms: number | null; loss: number; pmtu: number }
interface HealthJson { connection: number; interface: string; state: string; exits: ExitJson[] | null }

function ms0(net: Topology, h: Host): HealthJson | undefined {
  const r = net.msnl(h, ['-j', 'health', '--interface', 'ms0']);
  if (r.code !== 0 && r.code !== 3) throw new Error(`msnl health on h${h.index}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as HealthJson[])[0];
}

const active = (row: HealthJson | undefined): string | undefined => row?.exits?.find((e) => e.state === 'active')?.endpoint;

function counter(net: Topology, h: Host, name: string): number {
  return (JSON.parse(net.mustMsnl(h, ['-j', 'status'])) as { counters: Record<string, number> }).counters[name] ?? 0;
}

async function withTwoExits(body: (net: Topology, h1: Host, h2: Host) => Promise<void>): Promise<void> {
  const net = Topology.create({ tag: 'exits', hosts: 2 });
  try {
    const [h1, h2] = [net.host(1), net.host(2)];
    // The second veth pair, beside u0.
    const veth = net.exec(h1, ['ip', 'link', 'add', 'u1', 'type', 'veth', 'peer', 'name', 'u1', 'netns', h2.netns]);
    assert.equal(veth.code, 0, veth.stderr);
    for (const h of [h1, h2]) {
      assert.equal(net.exec(h, ['ip', 'addr', 'add', `${second(h)}/24`, 'dev', 'u1']).code, 0);
      assert.equal(net.exec(h, ['ip', 'link', 'set', 'u1', 'up']).code, 0);
    }
    for (const h of [h1, h2]) {
      const o = h === h1 ? h2 : h1;
      net.mustMsnl(h, ['host', 'set', 'address', h.msnlAddress]);
      net.mustMsnl(h, ['route', 'add', o.msnlAddress, 'via', `${o.underlay}:${PORT}`, 'priority', '10', 'via', `${second(o)}:${PORT}`, 'priority', '20', 'key', net.publicKey(o)]);
      net.mustMsnl(h, ['map', 'add', `10.0.0.${o.index}/32`, o.msnlAddress]);
      net.mustMsnl(h, ['ifconfig', 'ms0', `10.0.0.${h.index}/24`, 'up']);
    }
    // Both subnets reach the daemon: it listens on every address.
    for (const h of [h1, h2]) await net.startDaemon(h, [], [], `0.0.0.0:${PORT}`);
    await body(net, h1, h2);
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), [], 'no namespace is left behind');
  }
}

/** The longest run of iperf3 intervals that carried (nearly) nothing, in seconds. */
function longestStall(intervals: ReadonlyArray<{ start: number; end: number; bytes: number }>, from: number): number {
  let longest = 0;
  let run = 0;
  for (const i of intervals) {
    if (i.end <= from) continue;
    if (i.bytes < 10_000) run += i.end - i.start;
    else run = 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

test('two exits: cutting the one in use moves the TCP stream through ms0 to the other as the same connection; restored, it moves back after the hold-down', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['iperf3', 'ping']);
  await withTwoExits(async (net, h1, h2) => {
    const first = await net.execAsync(h1, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '3', '10.0.0.2']);
    assert.equal(first.code, 0, `ping through ms0:\n${first.stdout}${first.stderr}\n${net.tail(h1)}`);
    await eventually('both exits of h1\'s connection are probed and answer', () => {
      const row = ms0(net, h1);
      return row?.exits?.length === 2 && row.exits[0]!.state === 'active' && row.exits[1]!.state === 'standby';
    }, 10_000);
    const before = ms0(net, h1)!;
    assert.equal(active(before), `${h2.underlay}:${PORT}`, 'the preferred exit (priority 10) carries the connection');
    assert.ok(before.exits!.every((e) => e.pmtu === 1500 && e.rtt_ms !== null), JSON.stringify(before.exits));

    const server = net.execAsync(h2, ['iperf3', '-s', '-1', '-B', '10.0.0.2'], 60_000);
    await sleep(500);
    const client = net.execAsync(h1, ['iperf3', '-c', '10.0.0.2', '-t', '20', '-i', '0.25', '-J'], 60_000);
    await sleep(5000);
    const cutAt = 5;
    for (const h of [h1, h2]) assert.equal(net.exec(h, ['ip', 'link', 'set', 'u0', 'down']).code, 0);
    const cut = Date.now();
    await eventually('h1\'s connection moved to the second exit', () => active(ms0(net, h1)) === `${second(h2)}:${PORT}`, 10_000);
    const movedMs = Date.now() - cut;
    const during = ms0(net, h1)!;
    assert.equal(during.connection, before.connection, 'the same MSNL connection (no new call)');
    assert.equal(during.exits![0]!.state, 'down', JSON.stringify(during.exits));
    await sleep(3000);
    for (const h of [h1, h2]) assert.equal(net.exec(h, ['ip', 'link', 'set', 'u0', 'up']).code, 0);
    const restored = Date.now();
    await eventually('h1\'s connection moved back to the preferred exit', () => active(ms0(net, h1)) === `${h2.underlay}:${PORT}`, 20_000);
    const backMs = Date.now() - restored;
    const result = await client;
    await server;
    assert.equal(result.code, 0, `iperf3 failed across the cut:\n${result.stdout.slice(-2000)}${result.stderr}\n${net.tail(h1)}`);
    const report = JSON.parse(result.stdout) as { intervals: Array<{ sum: { start: number; end: number; bytes: number } }>; end: { sum_received: { bytes: number } } };
    const intervals = report.intervals.map((i) => i.sum);
    const stall = longestStall(intervals, cutAt - 0.5);
    const after = intervals.filter((i) => i.start >= cutAt + 3);
    t.diagnostic(`exit cut: h1 moved after ${movedMs} ms (polled), longest TCP stall ${stall.toFixed(2)} s; restored: moved back after ${backMs} ms (hold-down ${DEFAULT_EXIT_TIMERS.holdDownMs} ms); ${report.end.sum_received.bytes} octets in 20 s`);
    assert.ok(stall < 3, `the TCP stream stalled ${stall.toFixed(2)} s across the cut (must be under 3 s)`);
    // Generous: every second from 3 s after the cut to the end carried data.
    for (let s = Math.ceil(cutAt + 3); s < 20; s++) {
      const bytes = after.filter((i) => i.start >= s && i.end <= s + 1 + 1e-6).reduce((sum, i) => sum + i.bytes, 0);
      assert.ok(bytes > 0, `no data in second ${s}..${s + 1} of the iperf3 run`);
    }
    assert.ok(backMs >= DEFAULT_EXIT_TIMERS.holdDownMs - 500, `moved back only after the hold-down (${backMs} ms)`);
    const final = ms0(net, h1)!;
    assert.equal(final.connection, before.connection, 'still the same connection');
    assert.ok(counter(net, h1, 'exit_moves') >= 2, 'moved away and back');
    assert.equal(counter(net, h2, 'drop_auth'), 0, 'every frame across the moves was authenticated');
    const route = net.mustMsnl(h1, ['route', 'show']);
    assert.match(route, new RegExp(`exit ${h2.underlay.replace(/\./g, '\\.')}:${PORT} state active rtt `), route);
  });
});

test('two exits, the preferred one down before the tunnel is first used: the call comes up through the standby exit, which msnl health shows in use; restored, the connection moves back', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['ping']);
  await withTwoExits(async (net, h1, h2) => {
    for (const h of [h1, h2]) assert.equal(net.exec(h, ['ip', 'link', 'set', 'u0', 'down']).code, 0);
    assert.equal(ms0(net, h1), undefined, 'no connection yet');
    const start = Date.now();
    let answered = '';
    for (let attempt = 0; attempt < 15 && answered === '' && Date.now() - start < 30_000; attempt++) {
      const r = await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '2', '10.0.0.2'], 10_000);
      if (r.code === 0) answered = r.stdout;
    }
    const upMs = Date.now() - start;
    assert.notEqual(answered, '', `no ping through ms0 within 30 s with the preferred exit down\n${net.tail(h1)}`);
    const row = ms0(net, h1)!;
    assert.equal(active(row), `${second(h2)}:${PORT}`, `the standby exit carries the connection: ${JSON.stringify(row.exits)}`);
    assert.equal(row.exits![0]!.endpoint, `${h2.underlay}:${PORT}`);
    assert.notEqual(row.exits![0]!.state, 'active');
    const callee = ms0(net, h2);
    assert.equal(active(callee), `${second(h1)}:${PORT}`, `the callee took the call from the standby address: ${JSON.stringify(callee?.exits)}`);
    t.diagnostic(`preferred exit down before the first call: first ping answered ${upMs} ms after the first was sent`);
    for (const h of [h1, h2]) assert.equal(net.exec(h, ['ip', 'link', 'set', 'u0', 'up']).code, 0);
    await eventually('h1\'s connection moved to the preferred exit once it answers', () => active(ms0(net, h1)) === `${h2.underlay}:${PORT}`, 30_000);
    assert.equal(ms0(net, h1)!.connection, row.connection, 'the same connection');
    assert.equal(counter(net, h2, 'drop_auth'), 0, 'every frame authenticated');
  });
});

test('two exits, both cut: the tunnel shows down and a ping through ms0 gets ICMP unreachable', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['ping']);
  await withTwoExits(async (net, h1) => {
    const first = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.2']);
    assert.equal(first.code, 0, `ping through ms0:\n${first.stdout}${first.stderr}`);
    for (const dev of ['u0', 'u1']) assert.equal(net.exec(h1, ['ip', 'link', 'set', dev, 'down']).code, 0);
    await eventually('the tunnel shows down', () => ms0(net, h1)?.state === 'down', 20_000);
    let unreachable = '';
    const deadline = Date.now() + 90_000;
    for (let attempt = 0; attempt < 60 && unreachable === '' && Date.now() < deadline; attempt++) {
      const r = await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '8', '10.0.0.2'], 20_000);
      if (/Unreachable/.test(r.stdout)) unreachable = r.stdout;
      else await sleep(1000);
    }
    assert.match(unreachable, /Destination (Host|Net) Unreachable/, `no ICMP unreachable within 90 s\n${net.tail(h1)}`);
  });
});
