import { VERSION } from '../../src/base/version.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OBJECT_FILES, buildProgram, objectsFor, run } from '../../src/cli/main.js';
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { reportError } from '../../src/cli/errors.js';
import { sandbox } from '../helpers/cli.js';

function capture(t: { after: (fn: () => void) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-program-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: { MSNL_DB: path.join(dir, 'msnl.db') } };
  return { io, out, err, dir };
}

test('ifconfig shows live fields only when the provider returns them', async (t) => {
  const c = capture(t);
  assert.equal(await run(['ifconfig', 'ms1', '10.0.0.1/24', 'up'], c.io), 0);

  const withLive = buildProgram(c.io);
  withLive.context.live.interfaces = async () => new Map([['ms1', { oper_up: true, bound: true, connections: 2, rx_packets: 5, rx_bytes: 500, tx_packets: 6, tx_bytes: 600, drops: 4 }]]);
  await withLive.program.parseAsync(['ifconfig'], { from: 'user' });
  const text = c.out.splice(0).join('');
  assert.match(text, /^ms1: flags=209<UP,POINTOPOINT,RUNNING,NOARP>  mtu 4470$/m);
  assert.match(text, /^\s+connections 2$/m);
  assert.match(text, /^\s+RX packets 5  bytes 500$/m);
  assert.match(text, /^\s+TX packets 6  bytes 600$/m);
  assert.match(text, /^\s+msnl port 0x0801  bound$/m);
  assert.match(text, /^\s+dropped 4$/m);

  const json = buildProgram(c.io);
  json.context.live.interfaces = async () => new Map([['ms1', { connections: 3 }]]);
  await json.program.parseAsync(['-j', 'ifconfig', 'ms1'], { from: 'user' });
  const rows = JSON.parse(c.out.splice(0).join('')) as Array<Record<string, unknown>>;
  assert.equal(rows[0]?.connections, 3);
  assert.equal('rx_packets' in (rows[0] ?? {}), false);

  const down = buildProgram(c.io);
  down.context.live.interfaces = async () => {
    throw new Error('connect ENOENT');
  };
  await down.program.parseAsync(['ifconfig', 'ms1'], { from: 'user' });
  const plain = c.out.splice(0).join('');
  assert.match(plain, /^ms1: flags=145<UP,POINTOPOINT,NOARP>/m);
  assert.doesNotMatch(plain, /connections|RX/);
  assert.deepEqual(c.err, []);
});

test('ifconfig: the kernel state where the daemon reports it, a stored line only where they differ', async (t) => {
  const c = capture(t);
  assert.equal(await run(['ifconfig', 'ms1', '10.0.0.1/24', 'up'], c.io), 0);
  const same = buildProgram(c.io);
  same.context.live.interfaces = async () => new Map([['ms1', { address: '10.0.0.1/24', admin_up: true, oper_up: true }]]);
  await same.program.parseAsync(['ifconfig', 'ms1'], { from: 'user' });
  const text = c.out.splice(0).join('');
  assert.match(text, /^\s+inet 10\.0\.0\.1  netmask 255\.255\.255\.0  prefixlen 24$/m);
  assert.doesNotMatch(text, /stored/);
  // ip addr flush: the kernel has no address any more, the database still has one.
  const flushed = buildProgram(c.io);
  flushed.context.live.interfaces = async () => new Map([['ms1', { address: null, admin_up: true }], ['ms2', { address: '10.2.0.1/16', admin_up: true }]]);
  await flushed.program.parseAsync(['ifconfig'], { from: 'user' });
  const after = c.out.splice(0).join('');
  assert.doesNotMatch(after, /inet 10\.0\.0\.1 /);
  assert.match(after, /^\s+stored inet 10\.0\.0\.1\/24  up  \(the kernel differs: address\)$/m);
  assert.match(after, /^ms2: flags=145<UP,POINTOPOINT,NOARP>  mtu 9180\n\s+inet 10\.2\.0\.1  netmask 255\.255\.0\.0  prefixlen 16\n\s+stored no address  down/m, 'an interface up in the kernel is listed');
  const json = buildProgram(c.io);
  json.context.live.interfaces = async () => new Map([['ms1', { address: null, admin_up: true }]]);
  await json.program.parseAsync(['-j', 'ifconfig', 'ms1'], { from: 'user' });
  const rows = JSON.parse(c.out.splice(0).join('')) as Array<Record<string, unknown>>;
  assert.deepEqual([rows[0]?.address, rows[0]?.kernel_address, rows[0]?.differs], ['10.0.0.1', null, ['address']]);
});

test('global options work after the command, the environment gives defaults, usage errors exit 1', async (t) => {
  const c = capture(t);
  assert.equal(await run(['map', 'add', '10.0.0.0/8', '1.2.3.4'], c.io), 0);
  assert.equal(await run(['map', 'show', '-j'], c.io), 0);
  assert.equal((JSON.parse(c.out.splice(0).join('')) as unknown[]).length, 1);
  const built = buildProgram({ ...c.io, env: { MSNL_DB: '/x.db', MSNL_SOCKET: '/y.sock' } });
  await built.program.parseAsync(['--socket', '/z.sock', 'route'], { from: 'user' }).catch(() => undefined);
  assert.deepEqual(built.context.options(), { json: false, pretty: false, db: '/x.db', socket: '/z.sock' });
  assert.equal(await run(['map', 'add', '10.0.0.0/8'], c.io), 1);
  assert.match(c.err.join(''), /^Error: missing required argument 'msnladdr'/m);
  assert.equal(await run(['ifconfig', 'ms1', '10.0.0.1', 'up', 'down'], c.io), 1);
  assert.match(c.err.join(''), /^Error: give "up" or "down", not both$/m);
  assert.equal(await run(['--help'], c.io), 0);
});

test('unexpected errors are one Error line with exit 2', () => {
  const lines: string[] = [];
  assert.equal(reportError(new TypeError('boom'), (s) => void lines.push(s)), 2);
  assert.deepEqual(lines, ['Error: boom\n']);
});

test('a control socket path over 107 octets is a usage error, not "msnld is not running"', (t) => {
  const box = sandbox(t);
  const result = box.run(['--socket', `/tmp/${'s'.repeat(110)}.sock`, 'status']);
  assert.equal(result.status, 1);
  assert.equal(result.stderr, 'Error: argument "--socket" is wrong: path is longer than 107 octets\n');
});

test('msnl --version and -V print the version alone and exit 0', async (t) => {
  for (const flag of ['--version', '-V']) {
    const c = capture(t);
    assert.equal(await run([flag], c.io), 0);
    assert.equal(c.out.join(''), `${VERSION}\n`);
  }
});

test('unique-prefix abbreviations, ls, and "expected keyword via"', async (t) => {
  const c = capture(t);
  assert.equal(await run(['m', 'a', '10.5.0.0/16', '128.232.0.5'], c.io), 0, c.err.join(''));
  assert.equal(await run(['r', 'a', '128.232.0.5', 'via', '192.0.2.5:1994', 'auth', 'none'], c.io), 0, c.err.join(''));
  c.out.splice(0);
  assert.equal(await run(['map', 'ls'], c.io), 0, c.err.join(''));
  assert.equal(await run(['ro', 's'], c.io), 0, c.err.join(''));
  assert.equal(await run(['--json', 'i', '-a'], c.io), 0, c.err.join(''));
  const out = c.out.splice(0).join('');
  assert.match(out, /^10\.5\.0\.0\/16 msnl 128\.232\.0\.5 origin cli$/m);
  assert.match(out, /^128\.232\.0\.5\/32 via 192\.0\.2\.5:1994 auth none$/m);
  assert.match(out, /"interface":"ms3"/);
  assert.equal(await run(['route', 'add', '128.232.0.6', '192.0.2.6:1994'], c.io), 1);
  assert.match(c.err.splice(0).join(''), /^Error: expected keyword "via" after 128\.232\.0\.6, found "192\.0\.2\.6:1994"/m);
  assert.equal(await run(['route', 'add', '128.232.0.6', 'via'], c.io), 1);
  assert.match(c.err.splice(0).join(''), /^Error: expected HOST:PORT after "via"$/m);
});

test('each object file registers exactly the top-level commands main.ts names for it, in --help order', () => {
  const named: string[] = [];
  for (const file of OBJECT_FILES) {
    const program = new Command('msnl');
    file.load().register(program, buildProgram({}, []).context);
    assert.deepEqual(program.commands.map((c) => [c.name(), c.aliases()]), file.names.map((n) => [n, []]), file.names.join(','));
    named.push(...file.names);
  }
  assert.deepEqual(buildProgram().program.commands.map((c) => c.name()), named);
});

test('a command line loads only the object file it names in full; help, abbreviations and mistakes get all', () => {
  const all = OBJECT_FILES.length;
  assert.equal(objectsFor(['status']).length, 1);
  assert.equal(objectsFor(['-j', '--socket', '/run/x.sock', 'conn', 'show']).length, 1);
  assert.equal(objectsFor(['-n', 'status', 'health']).length, 1, '-n takes a value: the object is health');
  assert.equal(objectsFor(['--version']).length, 0);
  for (const args of [[], ['--help'], ['st'], ['help', 'status'], ['bogus'], ['-j'], ['--version', '--help']]) assert.equal(objectsFor(args).length, all, args.join(' '));
});

test('msnl status loads neither SQLite, nor etcd\'s client, nor the other object files', () => {
  const main = path.resolve(__dirname, '../../src/cli/main.js');
  const probe = `process.argv = [process.argv[0], ${JSON.stringify(main)}, '--socket', '/nonexistent/msnld.sock', 'status'];
process.on('exit', () => { process.stdout.write(JSON.stringify(Object.keys(require.cache))); });
require(${JSON.stringify(main)}).run(process.argv.slice(2), { stderr: () => {} });`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 30_000 });
  const loaded = (JSON.parse(r.stdout) as string[]).map((f) => path.relative(path.resolve(__dirname, '../../..'), f));
  const cli = loaded.filter((f) => f.includes(`cli${path.sep}`)).map((f) => path.basename(f)).sort();
  for (const absent of ['better-sqlite3', `fleet${path.sep}etcd`, `store${path.sep}store`, `crypto${path.sep}primitives`]) {
    assert.ok(!loaded.some((f) => f.includes(absent)), `${absent} loaded: ${loaded.join(' ')}`);
  }
  for (const other of ['map.js', 'route.js', 'host.js', 'apply.js', 'fleet.js', 'ifconfig.js']) assert.ok(!cli.includes(other), `${other} loaded: ${cli.join(' ')}`);
  assert.ok(cli.includes('status.js'), cli.join(' '));
});
