// Root-only: underlay path MTU. Two real daemons over a veth underlay of MTU 1280, 1400, 1500 and
// 9000 pass DF pings at the full MTU of ms0..ms3 while a capture on the underlay sees no IP
// fragment and no datagram larger than the link; an underlay whose MTU drops from 1500 to 1300
// under a running iperf3 through ms0 keeps the TCP connection, with no fragment after the drop; and
// a black hole (iptables drops underlay datagrams over 1300 octets, no ICMP) is found by the size
// probes, after which full-size DF pings through ms0 pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { Topology, run, sleep, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { requireTools } from '../helpers/tools.js';
import { configure, pingAtMtu, startAll } from './network.js';

async function withPair(underlayMtu: number, body: (net: Topology, h1: Host, h2: Host) => Promise<void>): Promise<void> {
  const net = Topology.create({ tag: 'pmtu', hosts: 2, underlayMtu });
  try {
    configure(net);
    await startAll(net);
    // The veths must cut UDP GSO runs as a card would, so the capture sees what a wire would.
    for (const host of net.hosts) {
      const ethtool = net.exec(host, ['ethtool', '-K', 'u0', 'tx-udp-segmentation', 'off']);
      assert.equal(ethtool.code, 0, ethtool.stderr);
    }
    await body(net, net.host(1), net.host(2));
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), [], 'no namespace is left behind');
  }
}

/** The IP headers of a capture: total length, and whether each is a fragment. */
function captured(file: string): Array<{ length: number; fragment: boolean; line: string }> {
  const read = run(['tcpdump', '-r', file, '-nn', '-v']);
  return read.stdout.split('\n').filter((line) => /proto \w+ \(\d+\), length \d+/.test(line)).map((line) => ({
    length: Number(/length (\d+)/.exec(line)?.[1] ?? 0),
    fragment: /flags \[\+\]|offset [1-9]/.test(line),
    line,
  }));
}

for (const mtu of [1280, 1400, 1500, 9000]) {
  test(`underlay MTU ${mtu}: DF pings at full MTU on ms0..ms3 pass, and the underlay carries no fragment and nothing over ${mtu}`, async (t) => {
    if (!requireRoot(t)) return;
    requireTools(['tcpdump', 'ethtool', 'timeout', 'ping']);
    await withPair(mtu, async (net, h1, h2) => {
      const capture = path.join(net.dir, `underlay-${mtu}.pcap`);
      const dump = net.execAsync(h1, ['timeout', '12', 'tcpdump', '-i', 'u0', '-nn', '-U', '-s', '128', '-w', capture, 'ip'], 30_000);
      await sleep(1000);
      for (const spec of TUNNEL_INTERFACES) {
        const result = await pingAtMtu(net, h1, h2, spec.index);
        assert.ok(result.ok, `${spec.name} over a ${mtu}-octet underlay: ping -M do failed:\n${result.output}\n${net.tail(h1)}`);
      }
      await dump;
      const headers = captured(capture);
      assert.ok(headers.length >= 4 * 2 * 2, `the pings crossed the underlay (${headers.length} datagrams)`);
      for (const h of headers) {
        assert.equal(h.fragment, false, `IP fragment on the ${mtu}-octet underlay: ${h.line}`);
        assert.ok(h.length <= mtu, `datagram of ${h.length} octets on the ${mtu}-octet underlay: ${h.line}`);
      }
      const rows = JSON.parse(net.mustMsnl(h1, ['-j', 'health'])) as Array<{ interface: string; pmtu: number | null }>;
      assert.equal(rows.length, 4);
      for (const row of rows) assert.equal(row.pmtu, mtu, `msnl health on h1 prints ${row.interface}'s path MTU as the link's`);
      // Full-size datagrams: the segments fill the path, they are not cut to some smaller constant.
      const largest = Math.max(...headers.map((h) => h.length));
      assert.ok(largest > mtu - 64, `the largest datagram (${largest}) nearly fills the ${mtu}-octet path`);
    });
  });
}

test('the underlay MTU drops from 1500 to 1300 under iperf3 through ms0: the TCP connection survives, no fragment afterwards', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['tcpdump', 'ethtool', 'timeout', 'iperf3']);
  await withPair(1500, async (net, h1, h2) => {
    const server = net.execAsync(h2, ['iperf3', '-s', '-1', '-B', '10.0.0.2'], 40_000);
    {
      await sleep(500);
      const client = net.execAsync(h1, ['iperf3', '-c', '10.0.0.2', '-t', '8', '-J'], 40_000);
      await sleep(3000);
      for (const host of [h1, h2]) assert.equal(net.exec(host, ['ip', 'link', 'set', 'u0', 'mtu', '1300']).code, 0);
      const capture = path.join(net.dir, 'drop.pcap');
      const dump = net.execAsync(h1, ['timeout', '4', 'tcpdump', '-i', 'u0', '-nn', '-U', '-s', '128', '-w', capture, 'ip'], 15_000);
      await dump;
      const result = await client;
      assert.equal(result.code, 0, `iperf3 failed across the MTU drop:\n${result.stdout.slice(-2000)}${result.stderr}\n${net.tail(h1)}`);
      const report = JSON.parse(result.stdout) as { end: { sum_received: { bytes: number } } };
      assert.ok(report.end.sum_received.bytes > 1_000_000, `data flowed (${report.end.sum_received.bytes} octets)`);
      const headers = captured(capture);
      assert.ok(headers.length > 100, `traffic went on after the drop (${headers.length} datagrams)`);
      for (const h of headers) {
        assert.equal(h.fragment, false, `IP fragment after the drop: ${h.line}`);
        assert.ok(h.length <= 1300, `datagram of ${h.length} octets after the drop: ${h.line}`);
      }
      await server;
    }
  });
});

test('a black hole (datagrams over 1300 octets dropped without ICMP): the size probes find the path, then full-size DF pings through ms0 pass', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['iptables', 'ping', 'ethtool']);
  await withPair(1500, async (net, h1, h2) => {
    const drop = net.exec(h2, ['iptables', '-A', 'INPUT', '-i', 'u0', '-m', 'length', '--length', '1301:65535', '-j', 'DROP']);
    assert.equal(drop.code, 0, `iptables -m length: ${drop.stderr}`);
    // The hole is real: a plain 1400-octet DF datagram from h1 never arrives.
    const probe = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-W', '1', '-M', 'do', '-s', '1372', h2.underlay]);
    assert.notEqual(probe.code, 0, 'an ICMP echo of 1400 octets falls into the hole');
    let passed = false;
    for (let attempt = 0; attempt < 20 && !passed; attempt++) {
      const r = await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', '1472', '10.0.0.2']);
      passed = r.code === 0;
      if (!passed) await sleep(500);
    }
    assert.ok(passed, `a full-size DF ping through ms0 never passed the black hole\n${net.tail(h1)}`);
    const steady = await net.execAsync(h1, ['ping', '-n', '-c', '5', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1472', '10.0.0.2']);
    assert.match(steady.stdout, / 5 received/, `after the search every full-size ping passes:\n${steady.stdout}`);
    const rows = JSON.parse(net.mustMsnl(h1, ['-j', 'health'])) as Array<{ interface: string; pmtu: number | null }>;
    const ms0 = rows.find((r) => r.interface === 'ms0');
    assert.ok(ms0?.pmtu !== undefined && ms0.pmtu !== null && ms0.pmtu <= 1300, `msnl health prints ms0's path MTU under the hole (${JSON.stringify(ms0)})`);
    const counters = (JSON.parse(net.mustMsnl(h1, ['-j', 'status'])) as { counters: Record<string, number> }).counters;
    assert.ok((counters.size_probes_answered ?? 0) >= 1, `size probes were answered (${JSON.stringify(counters.size_probes_answered)})`);
  });
});
