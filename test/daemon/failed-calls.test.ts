// Calls are first-class: a call in progress and a failed call show in the control rows
// (`msnl conn`, `msnl health`) with the msnl(7) reason by name, and `health --check` fails on a
// recent failed call. Two whole daemons over the in-memory underlay; the compiled CLI runs against
// a real control socket serving daemon A.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ControlServer } from '../../src/control/server.js';
import { DaemonControl } from '../../src/daemon/control-handler.js';
import { allUp, CHECK_FAILED_WINDOW_S } from '../../src/cli/health.js';
import { tempDir } from '../control/socket-helpers.js';
import { Lab, collect, ip, prefix, udpPacket, until, type TestHost } from './harness.js';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

function msnl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, MSNL_SOCKET: '', MSNL_DB: '' } });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A on ms0 as 10.0.0.1, B as 10.0.0.2; A's route to B names `routePort` (B listens on 7010). */
async function startPair(lab: Lab, routePort: number, bMapsA = true): Promise<{ A: TestHost; B: TestHost }> {
  const a = lab.store('hostA', '128.232.0.1');
  const b = lab.store('hostB', '128.232.0.2');
  a.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: routePort });
  b.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010 });
  for (const store of [a, b]) store.addMapping({ prefix: prefix('10.0.0.2/32'), msnlAddress: ip('128.232.0.2') });
  if (bMapsA) b.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
  a.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
  a.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);
  b.setInterfaceAddress('ms0', { address: ip('10.0.0.2'), length: 24 }, true);
  const A = await lab.start('hostA', '128.232.0.1', a, { connectTimeoutMs: 1000 });
  const B = await lab.start('hostB', '128.232.0.2', b);
  await until('ms0 bound on both', () => A.daemon.tunnels[0]!.isBound && B.daemon.tunnels[0]!.isBound);
  return { A, B };
}

async function withControl(host: TestHost, body: (socket: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const socket = path.join(dir, 'msnld.sock');
  const server = new ControlServer(new DaemonControl(host.daemon), socket);
  try {
    await server.listen();
    await body(socket);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a route to a port nobody listens on: conn shows the call, then the failure with reason timeout; health --check exits 3', async () => {
  const lab = new Lab();
  try {
    const { A } = await startPair(lab, 7011);
    const control = new DaemonControl(A.daemon);
    assert.deepEqual([...control.connections()], [], 'nothing before the first packet');
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
    await until('the call is in progress', () => [...control.connections()].some((row) => row.state === 'calling'));
    const calling = [...control.connections()].find((row) => row.state === 'calling')!;
    assert.equal(calling.connection, 0);
    assert.equal(calling.peer_ip, '10.0.0.2');
    assert.equal(calling.remote_sap, '128.232.0.2:0x0800');
    assert.equal(calling.reason, null);
    await until('the call failed', () => [...control.connections()].some((row) => row.state === 'failed'), 5000);
    const failed = [...control.connections()].filter((row) => row.state === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.reason, 'timeout');
    assert.equal(failed[0]!.interface, 'ms0');
    assert.ok(A.logs.some((line) => /failed to call 128\.232\.0\.2: timeout \(reason 7: timeout\)/.test(line)), A.logs.join('\n'));

    const health = [...control.health()].filter((row) => row.reason !== null);
    assert.equal(health.length, 1, JSON.stringify([...control.health()]));
    assert.equal(health[0]!.state, 'down');
    assert.equal(health[0]!.reason, 'timeout');
    assert.equal(health[0]!.remote_address, '128.232.0.2');
    assert.equal(allUp([...control.health()]), false, 'a fresh failure fails the check');
    assert.equal(allUp([...control.health()].map((row) => ({ ...row, failed_s: CHECK_FAILED_WINDOW_S + 1 }))), true, 'an old one does not');

    await withControl(A, async (socket) => {
      const conn = await msnl(['--socket', socket, 'conn']);
      assert.equal(conn.code, 0, conn.stderr);
      assert.match(conn.stdout, /^call: ms0 peer 10\.0\.0\.2 remote 128\.232\.0\.2:0x0800 state (failed reason timeout \d+s ago|calling for \d+s)$/m);
      const json = await msnl(['--socket', socket, '-j', 'conn']);
      const rows = JSON.parse(json.stdout) as Array<{ state: string; reason: string | null }>;
      assert.ok(rows.some((row) => row.state === 'failed' && row.reason === 'timeout'), json.stdout);
      const check = await msnl(['--socket', socket, 'health', '--check']);
      assert.equal(check.code, 3, `${check.stdout}${check.stderr}`);
      assert.match(check.stdout, /state down .* reason timeout failed [0-9.]+s ago/);
    });
  } finally {
    await lab.close();
  }
});

test('a call refused by the peer shows reason refused; a later connection clears the failure', async () => {
  const lab = new Lab();
  try {
    const { A, B } = await startPair(lab, 7010, false);
    const control = new DaemonControl(A.daemon);
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
    await until('the call failed', () => [...control.connections()].some((row) => row.state === 'failed'), 5000);
    assert.equal([...control.connections()].find((row) => row.state === 'failed')!.reason, 'refused');
    assert.equal([...control.health()].find((row) => row.reason !== null)?.state, 'down');
    // The peer learns the mapping: the next packet connects and the failure is forgotten.
    B.store.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
    await until('B reloaded', () => B.daemon.view.msnlAddressOf(ip('10.0.0.1')) === ip('128.232.0.1'));
    const atB = collect(B.peers.get('ms0'));
    const deadline = Date.now() + 8000;
    while (atB.length === 0 && Date.now() < deadline) {
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(atB.length > 0, 'a packet crossed once B maps A');
    await until('the failure is forgotten', () => [...control.connections()].every((row) => row.state !== 'failed'));
    assert.ok([...control.connections()].some((row) => row.state === 'open' || row.state === 'up'));
    assert.ok([...control.health()].every((row) => row.reason === null));
  } finally {
    await lab.close();
  }
});

test('removing the mapping of a destination forgets its failed call', async () => {
  const lab = new Lab();
  try {
    const { A } = await startPair(lab, 7011);
    const control = new DaemonControl(A.daemon);
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100));
    await until('the call failed', () => [...control.health()].some((row) => row.reason === 'timeout'), 5000);
    A.store.delMapping(prefix('10.0.0.2/32'));
    await until('the failure is forgotten', () => [...control.health()].length === 0 && [...control.connections()].length === 0);
    assert.equal(allUp([...control.health()]), true);
  } finally {
    await lab.close();
  }
});

test('the status row names the database and socket msnld was given', async () => {
  const lab = new Lab();
  try {
    const store = lab.store('hostA', '128.232.0.1');
    const A = await lab.start('hostA', '128.232.0.1', store);
    const status = new DaemonControl(A.daemon, Date.now, { db: store.path, socket: '/run/msnl/netns/a.sock' }).status();
    assert.equal(status.db, store.path);
    assert.equal(status.socket, '/run/msnl/netns/a.sock');
    assert.equal(new DaemonControl(A.daemon).status().db, null);
  } finally {
    await lab.close();
  }
});
