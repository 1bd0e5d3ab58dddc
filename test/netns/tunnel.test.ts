// Root-only: whole msnld daemons in network namespaces, real TUN devices, real UDP on a veth
// underlay (MTU 1500), configured through the msnl CLI. Each test builds and removes its own hosts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { Topology, run, sleep, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { requireTools } from '../helpers/tools.js';
import { configure, connections, eventually, health, pingAtMtu, startAll } from './network.js';

async function withTopology(hosts: number, body: (t: Topology) => Promise<void>): Promise<void> {
  const t = Topology.create({ tag: 'test', hosts });
  try {
    await body(t);
  } finally {
    await t.destroy();
    assert.deepEqual(t.leftovers(), [], 'no namespace is left behind');
    for (const h of t.hosts) assert.ok(h.daemon === undefined || h.daemon.exitCode !== null || h.daemon.signalCode !== null, 'no msnld is left running');
  }
}

/** Two hosts configured by configure() with both daemons running. */
async function withRunningPair(body: (net: Topology, h1: Host, h2: Host) => Promise<void>): Promise<void> {
  await withTopology(2, async (net) => {
    configure(net);
    await startAll(net);
    await body(net, net.host(1), net.host(2));
  });
}

test('three hosts configured with their daemons down pass DF pings at full MTU on ms0..ms3 between every pair, with full-duplex health', async (t) => {
  if (!requireRoot(t)) return;
  await withTopology(3, async (net) => {
    configure(net);
    await startAll(net);
    for (const a of net.hosts) {
      for (const b of net.hosts) {
        if (b.index <= a.index) continue;
        for (const spec of TUNNEL_INTERFACES) {
          const result = await pingAtMtu(net, a, b, spec.index);
          assert.ok(result.ok, `h${a.index} -> h${b.index} ${spec.name}: ping -M do -s ${spec.mtu - 28} failed:\n${result.output}\n${net.tail(a)}`);
          assert.match(result.output, /2 received/);
        }
      }
    }
    await eventually('every daemon reports its eight tunnels up', () =>
      net.hosts.every((h) => {
        const rows = health(net, h);
        return rows.length === 8 && rows.every((r) => r.state === 'up' && r.tx_proven && r.rx_proven);
      }),
    );
    for (const h of net.hosts) assert.equal(net.msnl(h, ['health', '--check']).code, 0);
    const conns = connections(net, net.host(1));
    assert.deepEqual(conns.map((c) => c.interface).sort(), ['ms0', 'ms0', 'ms1', 'ms1', 'ms2', 'ms2', 'ms3', 'ms3']);
  });
});

test('a simultaneous first packet from both sides leaves exactly one connection per pair', async (t) => {
  if (!requireRoot(t)) return;
  await withRunningPair(async (net, h1, h2) => {
    const [a, b] = await Promise.all([
      net.execAsync(h1, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '3', '10.0.0.2']),
      net.execAsync(h2, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '3', '10.0.0.1']),
    ]);
    assert.equal(a.code, 0, a.stdout);
    assert.equal(b.code, 0, b.stdout);
    await sleep(500);
    assert.equal(connections(net, h1).filter((c) => c.interface === 'ms0').length, 1);
    assert.equal(connections(net, h2).filter((c) => c.interface === 'ms0').length, 1);
  });
});

test('removing the mapping tears the connection down and the next ping gets Destination Net Unreachable (ms(4): no mapping is code 0)', async (t) => {
  if (!requireRoot(t)) return;
  await withRunningPair(async (net, h1, h2) => {
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.0.0.2'])).code, 0);
    assert.equal(connections(net, h2).length, 1);
    net.mustMsnl(h1, ['map', 'del', '10.0.0.2/32']);
    await eventually('both ends drop the connection', () => connections(net, h1).length === 0 && connections(net, h2).length === 0, 5000);
    const after = await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.0.0.2']);
    assert.notEqual(after.code, 0);
    assert.match(after.stdout, /Destination Net Unreachable/);
  });
});

test('restarting one daemon brings the tunnel back without touching the other', async (t) => {
  if (!requireRoot(t)) return;
  await withRunningPair(async (net, h1, h2) => {
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.1.0.2'])).code, 0);
    const otherPid = h1.daemon?.pid;
    assert.equal(await net.stopDaemon(h2), 0, 'SIGTERM makes msnld exit 0');
    await eventually('h1 hears the release at once', () => connections(net, h1).length === 0, 3000);
    await net.startDaemon(h2);
    await eventually('the tunnel is back, up both ways', () => health(net, h1).some((r) => r.interface === 'ms1' && r.state === 'up'), 20_000);
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.1.0.2'])).code, 0);
    assert.equal(h1.daemon?.pid, otherPid, 'the other daemon kept running');
  });
});

test('a daemon killed with SIGKILL and restarted: the peer shows the tunnel down, then up, with no manual step', async (t) => {
  if (!requireRoot(t)) return;
  await withRunningPair(async (net, h1, h2) => {
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.0.0.2'])).code, 0);
    await eventually('tunnel up', () => health(net, h1).some((r) => r.state === 'up'));
    await net.stopDaemon(h2, 'SIGKILL');
    await eventually('h1 shows the tunnel not up', () => health(net, h1).every((r) => r.state !== 'up'), 15_000);
    assert.equal(net.msnl(h1, ['health', '--check']).code, 3, 'health --check exits 3 while a tunnel is down');
    await net.startDaemon(h2);
    await eventually('h1 shows the tunnel up again', () => {
      const rows = health(net, h1);
      return rows.length === 1 && rows[0]?.state === 'up';
    }, 30_000);
  });
});

test("an operator's own `ip addr add` on ms2 makes it bind and accept calls", async (t) => {
  if (!requireRoot(t)) return;
  await withTopology(2, async (net) => {
    const [h1, h2] = [net.host(1), net.host(2)];
    configure(net, [h1]);
    net.mustMsnl(h2, ['host', 'set', 'address', h2.msnlAddress]);
    net.mustMsnl(h2, ['route', 'add', h1.msnlAddress, 'via', `${h1.underlay}:7010`]);
    net.mustMsnl(h2, ['map', 'add', '10.2.0.1/32', h1.msnlAddress]);
    await startAll(net);
    const bound = (): boolean => JSON.parse(net.mustMsnl(h2, ['-j', 'ifconfig', 'ms2']))[0]?.bound === true;
    assert.equal(bound(), false);
    assert.equal(net.exec(h2, ['ip', 'addr', 'add', '10.2.0.2/24', 'dev', 'ms2']).code, 0);
    assert.equal(net.exec(h2, ['ip', 'link', 'set', 'ms2', 'up']).code, 0);
    await eventually('ms2 binds on the operator\'s address', bound, 5000);
    const result = await pingAtMtu(net, h1, h2, 2);
    assert.ok(result.ok, result.output);
  });
});

test('a prefix behind a host is reached through the tunnel (ip route add 10.9.0.0/16 dev ms1)', async (t) => {
  if (!requireRoot(t)) return;
  await withTopology(2, async (net) => {
    configure(net);
    const [h1, h2] = [net.host(1), net.host(2)];
    // A dummy interface holds the prefix; kernels built without the dummy driver get a veth pair
    // whose far end stays down-stream in the same namespace, which looks the same to routing.
    if (net.exec(h2, ['ip', 'link', 'add', 'dum0', 'type', 'dummy']).code !== 0) {
      assert.equal(net.exec(h2, ['ip', 'link', 'add', 'dum0', 'type', 'veth', 'peer', 'name', 'dum0p']).code, 0);
      assert.equal(net.exec(h2, ['ip', 'link', 'set', 'dum0p', 'up']).code, 0);
    }
    for (const argv of [['ip', 'addr', 'add', '10.9.1.1/16', 'dev', 'dum0'], ['ip', 'link', 'set', 'dum0', 'up']]) {
      assert.equal(net.exec(h2, argv).code, 0, argv.join(' '));
    }
    net.mustMsnl(h1, ['map', 'add', '10.9.0.0/16', h2.msnlAddress, 'comment', 'behind h2']);
    await startAll(net);
    assert.equal(net.exec(h1, ['ip', 'route', 'add', '10.9.0.0/16', 'dev', 'ms1']).code, 0);
    const result = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.9.1.1']);
    assert.equal(result.code, 0, result.stdout + net.tail(h2));
    assert.equal(connections(net, h1).filter((c) => c.interface === 'ms1').length, 1);
  });
});

test('the underlay carries only MSNL-over-UDP datagrams no larger than its MTU while ms3 carries 65507-byte pings', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['tcpdump', 'ethtool', 'timeout']);
  await withRunningPair(async (net, h1, h2) => {
    // msnld sends runs of datagrams as one UDP GSO send; a veth with tx-udp-segmentation on hands
    // them to the peer whole. Off, the kernel cuts them as a card would: the capture sees the wire.
    for (const host of [h1, h2]) {
      const ethtool = net.exec(host, ['ethtool', '-K', 'u0', 'tx-udp-segmentation', 'off']);
      assert.equal(ethtool.code, 0, ethtool.stderr);
    }
    const capture = path.join(net.dir, 'underlay.pcap');
    const dump = net.execAsync(h1, ['timeout', '8', 'tcpdump', '-i', 'u0', '-nn', '-U', '-s', '128', '-w', capture, 'ip'], 15_000);
    await sleep(1000);
    const result = await pingAtMtu(net, h1, h2, 3, 3);
    assert.ok(result.ok, result.output);
    await dump;
    const read = run(['tcpdump', '-r', capture, '-nn', '-v']);
    const headers = read.stdout.split('\n').filter((line) => /proto \w+ \(\d+\), length \d+/.test(line));
    assert.ok(headers.length >= 3 * 2 * 45, `expected at least 270 datagrams for three 65535-octet round trips, saw ${headers.length}`);
    for (const line of headers) {
      const [, proto, length] = /proto (\w+) \(\d+\), length (\d+)/.exec(line) ?? [];
      assert.equal(proto, 'UDP', line);
      assert.ok(Number(length) <= 1500, `datagram of ${length} octets exceeds the underlay MTU: ${line}`);
      assert.doesNotMatch(line, /flags \[\+\]|offset [1-9]/, `IP fragment on the underlay: ${line}`);
    }
    const ports = read.stdout.split('\n').filter((line) => /192\.0\.2\.\d+\.\d+ > 192\.0\.2\.\d+\.\d+: UDP/.test(line));
    for (const line of ports) assert.match(line, /192\.0\.2\.\d\.7010 > 192\.0\.2\.\d\.7010: UDP/, line);
    assert.ok(ports.length >= headers.length / 2, 'the datagrams are UDP between the msnld ports');
    assert.ok(readFileSync(h1.log, 'utf8').includes('connection'), 'the daemon logged the connection');
  });
});

test('garbage and mutated datagrams at a running msnld are counted drops: it keeps serving', async (t) => {
  if (!requireRoot(t)) return;
  await withRunningPair(async (net, h1, h2) => {
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '1', '-W', '3', '10.0.0.2'])).code, 0);
    // 5000 datagrams from h1's underlay address but another port: random bytes, and valid-looking
    // MSNL headers (version 1, every type) with random bodies and lengths.
    const script = `
      const dgram = require('node:dgram');
      const s = dgram.createSocket('udp4');
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
      s.bind(7999, '${h1.underlay}', async () => {
        for (let i = 0; i < 5000; i++) {
          const b = Buffer.alloc(rnd() % 1473);
          for (let j = 0; j < b.length; j++) b[j] = rnd() & 255;
          if (i % 2 === 0 && b.length > 1) { b[0] = 1; b[1] = i % 11; }
          s.send(b, 7010, '${h2.underlay}');
          if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
        }
        setTimeout(() => s.close(), 200);
      });`;
    const sent = await net.execAsync(h1, [process.execPath, '-e', script], 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    const status = JSON.parse(net.mustMsnl(h2, ['-j', 'status'])) as { pid: number; counters: Record<string, number> };
    assert.equal(status.pid, h2.daemon?.pid, 'the same msnld still answers');
    const drops = (status.counters.drop_malformed ?? 0) + (status.counters.drop_unknown_connection ?? 0) + (status.counters.drop_wrong_address ?? 0) + (status.counters.drop_unexpected_signal ?? 0);
    assert.ok(drops >= 1000, `drops counted: ${JSON.stringify(status.counters)}`);
    assert.equal((await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.2'])).code, 0, 'the tunnel still works');
  });
});
