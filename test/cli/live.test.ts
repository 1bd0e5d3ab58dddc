// The compiled msnl CLI run as a child process against an in-process ControlServer with a fake handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ControlServer } from '../../src/control/server.js';
import { FakeHandler, SAMPLE_CONNECTION, SAMPLE_HEALTH, SAMPLE_STATUS } from '../control/fake-handler.js';
import { tempDir } from '../control/socket-helpers.js';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs msnl; `until` may send a signal once stdout matches it. Bounded by a 20 s kill. */
function msnl(args: string[], until?: { match: RegExp; signal: NodeJS.Signals }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, MSNL_SOCKET: '', MSNL_DB: '' } });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (until && !signalled && until.match.test(stdout)) {
        signalled = true;
        child.kill(until.signal);
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function withDaemon(body: (socket: string, handler: FakeHandler) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const socket = path.join(dir, 'msnld.sock');
  const handler = new FakeHandler();
  const server = new ControlServer(handler, socket);
  try {
    await server.listen();
    await body(socket, handler);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('conn show: text lines and a JSON array with snake_case keys', async () => {
  await withDaemon(async (socket, handler) => {
    const text = await msnl(['--socket', socket, 'conn', 'show']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, '7: ms0 peer 10.77.0.2 local 128.232.65.42:0x0800 remote 128.232.65.43:0x0800 state open auth key age 12s initiator local pmtu 1500\n    rx 3 packets 252 bytes tx 5 packets 420 bytes\n');
    assert.equal((await msnl(['--socket', socket, 'conn'])).stdout, text.stdout); // show is the default
    const json = await msnl(['--socket', socket, '-j', 'conn', 'show']);
    assert.deepEqual(JSON.parse(json.stdout), [SAMPLE_CONNECTION]);
    handler.connectionRows = [];
    const empty = await msnl(['--socket', socket, '-j', 'conn', 'show']);
    assert.deepEqual(JSON.parse(empty.stdout), []);
  });
});

test('conn del: done, unknown id (exit 2), bad id (exit 1)', async () => {
  await withDaemon(async (socket, handler) => {
    assert.equal((await msnl(['--socket', socket, 'conn', 'del', '7'])).code, 0);
    assert.deepEqual(handler.disconnected, [7]);
    const unknown = await msnl(['--socket', socket, 'conn', 'del', '99']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'Error: failed to disconnect connection: no such connection 99\n');
    const bad = await msnl(['--socket', socket, 'conn', 'del', 'seven']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: argument "seven" is wrong: connection id must be a decimal integer\n');
  });
});

test('health: text, JSON, and --check exit codes', async () => {
  await withDaemon(async (socket, handler) => {
    const text = await msnl(['--socket', socket, 'health']);
    assert.equal(text.stdout, '7: ms0 peer 10.77.0.2 remote 128.232.65.43 state up auth key tx proven rx proven rtt 1.250ms loss 0% pmtu 1500 heard 0.5s ago\n');
    assert.deepEqual(JSON.parse((await msnl(['--socket', socket, '-j', 'health'])).stdout), [SAMPLE_HEALTH]);
    assert.equal((await msnl(['--socket', socket, 'health', '--check'])).code, 0);
    handler.healthRows = [SAMPLE_HEALTH, { ...SAMPLE_HEALTH, connection: 8, state: 'half', rx_proven: false, rtt_ms: null, last_heard_s: null, loss: 0.25 }];
    const half = await msnl(['--socket', socket, 'health', '--check']);
    assert.equal(half.code, 3);
    assert.match(half.stdout, /^8: ms0 peer 10\.77\.0\.2 remote 128\.232\.65\.43 state half auth key tx proven rx unproven rtt - loss 25% pmtu 1500 heard never$/m);
    handler.healthRows = [];
    const none = await msnl(['--socket', socket, 'health', '--check']);
    assert.deepEqual([none.code, none.stdout], [0, '']);
    assert.equal((await msnl(['--socket', socket, 'health', '--check', '--watch'])).code, 1);
  });
});

test('health --watch redraws until interrupted', async () => {
  await withDaemon(async (socket) => {
    const run = await msnl(['--socket', socket, 'health', '--watch'], { match: /(Every 1s[^]*){2}state up/, signal: 'SIGINT' });
    assert.equal(run.code, 0, run.stderr);
    assert.ok((run.stdout.match(/^Every 1s: msnl health/gm) ?? []).length >= 2);
  });
});

test('ping: one line per reply and a ping(8) summary; no reply at all exits 3', async () => {
  await withDaemon(async (socket, handler) => {
    const run = await msnl(['--socket', socket, 'ping', '128.232.65.43', '-c', '3', '-i', '0.01']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, [
      'PING 128.232.65.43: MSNL Echo',
      '64 bytes from 128.232.65.43: seq=1 time=0.500 ms',
      'Request timeout for seq=2',
      '64 bytes from 128.232.65.43: seq=3 time=1.500 ms',
      '',
      '--- 128.232.65.43 msnl ping statistics ---',
      '3 packets transmitted, 2 received, 33.3% packet loss',
      'rtt min/avg/max/mdev = 0.500/1.000/1.500/0.500 ms',
      '',
    ].join('\n'));
    assert.deepEqual(handler.pingCalls.at(-1), { address: 0x80e8412b, count: 3, intervalMs: 10 });
    const json = JSON.parse((await msnl(['--socket', socket, '-j', 'ping', '10.0.0.1', '-c', '2', '-i', '0.01'])).stdout);
    assert.equal(json.transmitted, 2);
    assert.equal(json.received, 1);
    handler.pingScript = [null];
    const lost = await msnl(['--socket', socket, 'ping', '10.0.0.1', '-c', '2', '-i', '0.01']);
    assert.equal(lost.code, 3);
    assert.match(lost.stdout, /2 packets transmitted, 0 received, 100% packet loss\n$/);
    const bad = await msnl(['--socket', socket, 'ping', '10.0.0.300']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: argument "10\.0\.0\.300" is wrong: /);
    assert.equal((await msnl(['--socket', socket, 'ping', '10.0.0.1', '-c', '0'])).code, 1);
  });
});

test('ping without -c runs until interrupted, then prints the summary', async () => {
  await withDaemon(async (socket) => {
    const run = await msnl(['--socket', socket, 'ping', '10.0.0.1', '-i', '0.01'], { match: /seq=4 /, signal: 'SIGINT' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /--- 10\.0\.0\.1 msnl ping statistics ---\n[0-9]+ packets transmitted/);
  });
});

test('status: text and JSON object', async () => {
  await withDaemon(async (socket) => {
    const text = await msnl(['--socket', socket, 'status']);
    assert.equal(text.stdout, 'msnld running pid 4242 version 0.1.0 uptime 1h2m5s\naddress 128.232.65.42 listen 0.0.0.0:7000\ncounters:\n    dropped_bad 1\n    rx_frames 10\n    tx_frames 12\n');
    const json = JSON.parse((await msnl(['--socket', socket, '-j', 'status'])).stdout);
    assert.equal(json.pid, 4242);
    assert.deepEqual(json.counters, { rx_frames: 10, tx_frames: 12, dropped_bad: 1 });
  });
});

test('ifconfig shows the kernel\'s state from the daemon, the stored state where they differ, and the live fields', async () => {
  await withDaemon(async (socket) => {
    const db = path.join(path.dirname(socket), 'none.db'); // missing: the stored state is empty
    const text = await msnl(['--socket', socket, '--db', db, 'ifconfig', 'ms0']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      'ms0: flags=209<UP,POINTOPOINT,RUNNING,NOARP>  mtu 1500\n        inet 10.77.0.1  netmask 255.255.255.0  prefixlen 24\n' +
        '        stored no address  down  (the kernel differs: address, admin_up)\n        msnl port 0x0800  bound\n        connections 1\n' +
        '        RX packets 3  bytes 252\n        TX packets 5  bytes 420\n        dropped 0\n\n',
    );
    const json = JSON.parse((await msnl(['--socket', socket, '--db', db, '-j', 'ifconfig', 'ms0'])).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      { ...json[0] },
      { interface: 'ms0', flags: ['UP', 'POINTOPOINT', 'RUNNING', 'NOARP'], mtu: 1500, admin_up: false, address: null, prefix_length: null, netmask: null,
        msnl_port: 0x800, kernel_admin_up: true, kernel_address: '10.77.0.1', kernel_prefix_length: 24, differs: ['address', 'admin_up'], oper_up: true, bound: true, connections: 1, rx_packets: 3, rx_bytes: 252, tx_packets: 5, tx_bytes: 420, drops: 0 },
    );
    const down = await msnl(['--socket', path.join(path.dirname(socket), 'gone.sock'), '--db', db, 'ifconfig', 'ms0']);
    assert.deepEqual([down.code, down.stderr], [0, '']);
    assert.equal(down.stdout, 'ms0: flags=144<POINTOPOINT,NOARP>  mtu 1500\n        msnl port 0x0800\n\n');
  });
});

test('reload asks the daemon once; -p indents JSON', async () => {
  await withDaemon(async (socket, handler) => {
    const run = await msnl(['--socket', socket, 'reload']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, '', '']);
    assert.equal(handler.reloads, 1);
    const pretty = await msnl(['--socket', socket, '-j', '-p', 'status']);
    assert.match(pretty.stdout, /^{\n  "pid": 4242,\n/);
    assert.equal(JSON.parse(pretty.stdout).version, '0.1.0');
  });
});

test('a daemon that is not running: one Error line and exit 2 for every live command', async () => {
  const dir = tempDir();
  const socket = path.join(dir, 'msnld.sock');
  try {
    for (const args of [['status'], ['conn', 'show'], ['conn', 'del', '7'], ['health', '--check'], ['health', '--watch'], ['ping', '10.0.0.1', '-c', '1'], ['reload']]) {
      const run = await msnl(['--socket', socket, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.equal(run.stderr, `Error: msnld is not running (no control socket at ${socket})\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an edit asks a running msnld to apply it (sync=1); one reading another database gets a warning; none running: quiet', async () => {
  await withDaemon(async (socket, handler) => {
    const dir = tempDir();
    try {
      const db = path.join(dir, 'msnl.db');
      handler.status = () => ({ ...SAMPLE_STATUS, db });
      const added = await msnl(['--socket', socket, '--db', db, 'map', 'add', '10.9.0.0/16', '128.232.65.42']);
      assert.equal(added.code, 0, added.stderr);
      assert.equal(added.stderr, '');
      assert.equal(handler.syncs, 1, 'the edit was synced');
      const shown = await msnl(['--socket', socket, '--db', db, 'map', 'show']);
      assert.equal(shown.code, 0);
      assert.equal(handler.syncs, 1, 'a read does not sync');
      const other = path.join(dir, 'other.db');
      const elsewhere = await msnl(['--socket', socket, '--db', other, 'map', 'add', '10.8.0.0/16', '128.232.65.42']);
      assert.equal(elsewhere.code, 0, 'the edit itself is stored');
      assert.equal(elsewhere.stderr, `Warning: msnld (pid 4242) reads ${db}, not ${other}: this change does not reach it (give --db ${db}, or -n NETNS for a namespace's instance)\n`);
      assert.equal(handler.syncs, 1);
      const alone = await msnl(['--socket', path.join(dir, 'nobody.sock'), '--db', db, 'map', 'del', '10.9.0.0/16']);
      assert.equal(alone.code, 0, alone.stderr);
      assert.equal(alone.stderr, '');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
