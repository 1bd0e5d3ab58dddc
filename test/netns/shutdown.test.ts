// Root-only, issue 15 item 3: SIGTERM ends msnld within 2 s whatever its control clients do,
// and releases everything: peers are told, ms0..ms3 vanish, and a new msnld starts at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { Topology, sleep } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { configure, connections, eventually, pingAtMtu, startAll } from './network.js';

/** A raw control connection that never reads, after writing `data` (if any). */
function stuckClient(socketPath: string, data?: string | Buffer): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.pause();
      if (data !== undefined) socket.write(data);
      resolve(socket);
    });
    socket.once('close', () => resolve(socket));
  });
}

test('SIGTERM exits within 2 s with 64 endless pings, refused, flooding and half-open clients stuck on the socket', async (t) => {
  if (!requireRoot(t)) return;
  const topology = Topology.create({ tag: 'test', hosts: 2 });
  const clients: net.Socket[] = [];
  try {
    configure(topology);
    await startAll(topology);
    const h1 = topology.host(1);
    const h2 = topology.host(2);
    for (const spec of TUNNEL_INTERFACES) {
      const result = await pingAtMtu(topology, h1, h2, spec.index);
      assert.ok(result.ok, `${spec.name}: ${result.output}`);
    }
    await eventually('h2 sees the four connections', () => connections(topology, h2).length === 4);
    // Every slot held by a request in progress that is never read, then clients the server
    // refuses (their EBUSY replies unread), flooders and half-open ones on top.
    for (let i = 0; i < 64; i++) clients.push(await stuckClient(h1.socket, `ping=${h2.msnlAddress}\ninterval_ms=10\n\n`));
    for (let i = 0; i < 40; i++) clients.push(await stuckClient(h1.socket));
    for (let i = 0; i < 10; i++) clients.push(await stuckClient(h1.socket, Buffer.alloc(300_000, 0x78)));
    for (let i = 0; i < 10; i++) clients.push(await stuckClient(h1.socket, 'get=status\n'));
    await sleep(300);
    const started = Date.now();
    const code = await topology.stopDaemon(h1, 'SIGTERM', 10_000);
    const elapsed = Date.now() - started;
    console.log(`msnld exited ${code} ${elapsed} ms after SIGTERM with ${clients.length} stuck control clients`);
    assert.equal(code, 0, topology.tail(h1));
    assert.ok(elapsed < 2000, `msnld took ${elapsed} ms to exit`);
    assert.equal(existsSync(h1.socket), false, 'the control socket file is removed');
    for (const spec of TUNNEL_INTERFACES) {
      assert.notEqual(topology.exec(h1, ['ip', 'link', 'show', spec.name]).code, 0, `${spec.name} is gone`);
    }
    await eventually('h2 has no connection left (h1 told it)', () => connections(topology, h2).length === 0, 5000);
    await topology.startDaemon(h1); // no "ms0: device busy"
    assert.equal(topology.msnl(h1, ['status']).code, 0);
  } finally {
    for (const socket of clients) socket.destroy();
    await topology.destroy();
    assert.deepEqual(topology.leftovers(), [], 'no namespace is left behind');
  }
});
