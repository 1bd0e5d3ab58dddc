// Root-only: msnld over an IPv6 underlay (2001:db8::/64 between two namespaces). The daemons listen
// on the batched native socket (their log says so), keyed calls come up, and 8 MiB of TCP cross
// ms0 intact, with the datagrams on the wire really IPv6 (the underlay's IPv6 counters rise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Topology, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { configure, health, startAll } from './network.js';

const BYTES = 8 << 20;
const PORT = 5556;

const SEND = `
const net = require('node:net'), crypto = require('node:crypto');
const data = crypto.randomBytes(${BYTES});
const socket = net.connect(${PORT}, process.argv[1], () => socket.end(data, () => console.log(crypto.createHash('sha256').update(data).digest('hex'))));
socket.on('error', (e) => { console.error(e.message); process.exit(1); });
`;
const RECEIVE = `
const net = require('node:net'), crypto = require('node:crypto');
const server = net.createServer((socket) => {
  const hash = crypto.createHash('sha256');
  let count = 0;
  socket.on('data', (d) => { hash.update(d); count += d.length; });
  socket.on('end', () => { console.log(hash.digest('hex') + ' ' + count); server.close(); });
});
server.listen(${PORT}, process.argv[1]);
setTimeout(() => process.exit(2), 60000).unref();
`;

/** Octets sent over IPv6 in a host's namespace (Ip6OutOctets of /proc/net/snmp6; a UDP GSO send
 *  counts as one datagram in Udp6OutDatagrams however many it carries, so octets are the measure). */
function ip6OutOctets(net: Topology, host: Host): number {
  const snmp6 = net.exec(host, ['sh', '-c', 'cat /proc/net/snmp6']).stdout;
  return Number(/^Ip6OutOctets\s+(\d+)$/m.exec(snmp6)?.[1] ?? NaN);
}

test('ms0 TCP over an IPv6 underlay: the native batched socket, 8 MiB intact', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'test', hosts: 2, underlayFamily: 6 });
  try {
    configure(net);
    await startAll(net);
    const [h1, h2] = [net.host(1), net.host(2)];
    for (const h of [h1, h2]) {
      assert.match(readFileSync(h.log, 'utf8'), new RegExp(`listening on underlay \\[${h.underlay}\\]:7010 \\(batched IPv6; receive buffer \\d+ MiB\\)`), `h${h.index} listens natively`);
    }
    const before = ip6OutOctets(net, h1);
    const ping = await net.execAsync(h1, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '3', '10.0.0.2'], 30_000);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const server = net.execAsync(h2, [process.execPath, '-e', RECEIVE, '10.0.0.2'], 70_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const client = await net.execAsync(h1, [process.execPath, '-e', SEND, '10.0.0.2'], 70_000);
    const received = await server;
    assert.equal(client.code, 0, `sender: ${client.stderr}`);
    assert.equal(received.code, 0, `receiver: ${received.stderr}`);
    const [hash, count] = received.stdout.trim().split(' ');
    assert.equal(Number(count), BYTES, 'every byte arrived');
    assert.equal(hash, client.stdout.trim(), 'the bytes arrived unchanged');
    const sent = ip6OutOctets(net, h1) - before;
    assert.ok(sent > BYTES, `h1 sent ${sent} octets over IPv6`);
    // The path starts at the IPv6 link's size (1500 - 48), not the IPv4 one's: no datagram refused
    // as too big and no size probe lost (a 1472-octet start lost its probes and data for seconds).
    const counters = JSON.parse(net.mustMsnl(h1, ['-j', 'status'])).counters as Record<string, number>;
    assert.equal(counters['path_too_big'], 0, JSON.stringify(counters));
    assert.ok((counters['size_probes_sent'] ?? 0) > 0, 'the path search ran');
    assert.equal(counters['size_probes_answered'], counters['size_probes_sent'], 'every size probe was answered');
    // health and conn show print that path's MTU as the datagram plus IPv6's 48 header octets: the
    // veth's 1500 (they printed 1480, adding IPv4's 28, before the underlay told the family).
    const row = health(net, h1).find((r) => r.interface === 'ms0' && r.peer_ip === '10.0.0.2' && r.state === 'up') as { pmtu?: number } | undefined;
    assert.equal(row?.pmtu, 1500, JSON.stringify(row));
    assert.match(net.mustMsnl(h1, ['conn', 'show']), /: ms0 peer 10\.0\.0\.2 .* pmtu 1500\n/);
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), [], 'no namespace is left behind');
  }
});
