// Root-only: `msnl monitor -j` on h1 while h1 pings h2 through ms0 for the first time, then while
// h2's msnld is killed: the stream shows `up` within 1 s of the first ping and then the tunnel
// going down (a health state down, or the connection down), pushed by msnld as they happen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MSNL, Topology } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { configure } from './network.js';

interface Event {
  event: string;
  interface?: string;
  peer_ip?: string;
  state?: string;
  prefix?: string;
  remote_address?: string;
  time_ms: number;
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('msnl monitor -j: up within 1 s of the first ping to a new peer, down after the peer is killed', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'monitor', hosts: 2 });
  const h1 = net.host(1);
  const h2 = net.host(2);
  try {
    configure(net);
    await net.startDaemon(h1);
    await net.startDaemon(h2);
    const follower = spawn('ip', ['netns', 'exec', h1.netns, process.execPath, MSNL, '--socket', h1.socket, '-j', 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => void follower.kill());
    const events: Event[] = [];
    let stderr = '';
    follower.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: follower.stdout }).on('line', (line) => events.push(JSON.parse(line) as Event));
    // The monitor is subscribed once a reconcile it asked for shows up in its stream.
    await until('the monitor to follow msnld', () => {
      if (events.some((e) => e.event === 'reconcile')) return true;
      net.mustMsnl(h1, ['reload']);
      return false;
    }, 15_000).catch((error: Error) => assert.fail(`${error.message}: ${stderr}`));
    // A mapping edit shows as one mapping event (msnl waits for msnld to apply it: sync=1).
    net.mustMsnl(h1, ['map', 'add', '10.44.0.0/16', h2.msnlAddress]);
    net.mustMsnl(h1, ['map', 'del', '10.44.0.0/16']);
    await until('mapping events', () => events.filter((e) => e.event === 'mapping' && e.prefix === '10.44.0.0/16').length >= 2, 5000);
    assert.deepEqual(events.filter((e) => e.event === 'mapping').map((e) => `${e.prefix} ${e.state} ${e.remote_address ?? '-'}`), [`10.44.0.0/16 set ${h2.msnlAddress}`, '10.44.0.0/16 deleted -']);
    const pingStarted = Date.now();
    const ping = await net.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.2']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    await until('up', () => events.some((e) => e.event === 'up' && e.peer_ip === '10.0.0.2'), 5000);
    const up = events.find((e) => e.event === 'up' && e.peer_ip === '10.0.0.2')!;
    assert.equal(up.interface, 'ms0');
    assert.ok(up.time_ms - pingStarted < 1000, `up ${up.time_ms - pingStarted} ms after the first ping`);
    await until('health up', () => events.some((e) => e.peer_ip === '10.0.0.2' && e.event === 'health' && e.state === 'up'), 5000);
    h2.daemon!.kill('SIGKILL');
    await until('health down', () => events.some((e) => e.peer_ip === '10.0.0.2' && e.event === 'health' && e.state === 'down'), 30_000);
    const health = events.filter((e) => e.event === 'health' && e.peer_ip === '10.0.0.2').map((e) => e.state);
    assert.ok(health.includes('down'), `health transitions seen: ${health.join(', ')}`);
    assert.equal(follower.exitCode, null, 'the monitor still runs');
    // The peer going silent is logged when it happens, once per change, without a monitor's help.
    const logged = readFileSync(h1.log, 'utf8').split('\n').filter((line) => /ms0: tunnel to 10\.0\.0\.2 .* (half|down): /.test(line));
    assert.ok(logged.length >= 1 && logged.length <= 2, `health lines in h1's log: ${logged.join(' | ')}`);
    assert.match(logged[0] ?? '', /msnld: warn: /);
  } finally {
    await net.destroy();
  }
});
