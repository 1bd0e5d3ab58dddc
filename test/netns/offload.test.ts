// Root-only: TCP through real msnld daemons with TUN offload. 24 MiB cross ms0 and ms1 (offloaded:
// super-packets cut into datagram-sized segments, runs joined back on the far side) and ms3 (plain)
// and arrive byte for byte; the interface counters show the kernel really handed super-packets over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topology, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { configure, startAll } from './network.js';

const BYTES = 24 << 20;
const PORT = 5555;

// Deterministic bytes (xorshift32), written in 64 KiB chunks, hashed by both ends.
const SEND = `
const net = require('node:net'), crypto = require('node:crypto');
let x = 2463534242, left = ${BYTES};
const hash = crypto.createHash('sha256');
const socket = net.connect(${PORT}, process.argv[1], () => {
  const pump = () => {
    while (left > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(65536, left));
      for (let i = 0; i < chunk.length; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; chunk[i] = x & 255; }
      left -= chunk.length;
      hash.update(chunk);
      if (!socket.write(chunk)) return socket.once('drain', pump);
    }
    socket.end(() => console.log(hash.digest('hex')));
  };
  pump();
});
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
server.listen(${PORT}, process.argv[1], () => console.error('listening'));
setTimeout(() => process.exit(2), 60000).unref();
`;

/** TX (packets read by msnld) or RX (packets it wrote) of msN, from ip -s link. */
function linkCounters(net: Topology, host: Host, ifname: string): { rxBytes: number; rxPackets: number; txBytes: number; txPackets: number } {
  const out = net.exec(host, ['ip', '-s', '-j', 'link', 'show', ifname]);
  const stats = (JSON.parse(out.stdout) as Array<{ stats64: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } } }>)[0]!.stats64;
  return { rxBytes: stats.rx.bytes, rxPackets: stats.rx.packets, txBytes: stats.tx.bytes, txPackets: stats.tx.packets };
}

test('24 MiB of TCP cross ms0, ms1 (offloaded) and ms3 (plain) intact; ms0 reads and writes super-packets', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'test', hosts: 2 });
  try {
    configure(net);
    await startAll(net);
    const [h1, h2] = [net.host(1), net.host(2)];
    for (const index of [0, 1, 3]) {
      const ifname = `ms${index}`;
      const before = [linkCounters(net, h1, ifname), linkCounters(net, h2, ifname)] as const;
      const server = net.execAsync(h2, [process.execPath, '-e', RECEIVE, `10.${index}.0.2`], 70_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const client = await net.execAsync(h1, [process.execPath, '-e', SEND, `10.${index}.0.2`], 70_000);
      const received = await server;
      assert.equal(client.code, 0, `${ifname} sender: ${client.stderr}`);
      assert.equal(received.code, 0, `${ifname} receiver: ${received.stderr}`);
      const [hash, count] = received.stdout.trim().split(' ');
      assert.equal(Number(count), BYTES, `${ifname}: every byte arrived`);
      assert.equal(hash, client.stdout.trim(), `${ifname}: the bytes arrived unchanged`);
      if (index === 0) {
        const after = [linkCounters(net, h1, ifname), linkCounters(net, h2, ifname)] as const;
        const readAverage = (after[0].txBytes - before[0].txBytes) / (after[0].txPackets - before[0].txPackets);
        const writeAverage = (after[1].rxBytes - before[1].rxBytes) / (after[1].rxPackets - before[1].rxPackets);
        assert.ok(readAverage > 1500, `h1 read ${readAverage.toFixed(0)} octets per packet from ms0: no super-packets`);
        assert.ok(writeAverage > 1500, `h2 wrote ${writeAverage.toFixed(0)} octets per packet into ms0: no joined runs`);
      }
    }
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), [], 'no namespace is left behind');
  }
});
