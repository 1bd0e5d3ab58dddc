// Whole configurations: msnl showconf / msnl apply, and the mapping-table sync commands
// (map flush, map replace, map import --replace), through the compiled CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { diffConf, formatConf, parseConf } from '../../src/cli/conf.js';
import { LineError } from '../../src/cli/errors.js';
import { dbFiles as rawDbFiles, sandbox, type CliResult } from '../helpers/cli.js';
import { createHash } from 'node:crypto';

/** A peer's public key as `msnl host show` prints it (any 32 octets will do here). */
const KEY = Buffer.alloc(32, 7).toString('base64');

/** The database files' digests (short assertion messages). */
function dbFiles(db: string): string {
  return createHash('sha256').update(JSON.stringify(rawDbFiles(db))).digest('hex');
}

function ok(result: CliResult): string {
  assert.equal(result.status, 0, `expected success, stderr: ${result.stderr}`);
  return result.stdout;
}

function configure(box: ReturnType<typeof sandbox>): void {
  ok(box.run(['host', 'set', 'address', '128.232.0.1']));
  ok(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994', 'key', KEY]));
  ok(box.run(['map', 'add', '10.0.0.2', '128.232.0.2', 'comment', 'lab B']));
  ok(box.run(['map', 'add', '10.9.0.0/16', '128.232.0.2', 'lifetime', '3600']));
  ok(box.run(['ifconfig', 'ms0', '10.0.0.1/24', 'up']));
}

test('showconf prints the whole desired state; applying it is a no-op that writes nothing', (t) => {
  const box = sandbox(t);
  configure(box);
  const conf = ok(box.run(['showconf']));
  assert.equal(
    conf,
    '# msnl configuration (msnl showconf); apply with: msnl apply FILE\n# 1 mappings with a lifetime are left out (runtime state)\n' +
      '[Host]\nAddress = 128.232.0.1\nListen = 0.0.0.0:1994\n\n[Interfaces]\nms0 = 10.0.0.1/24 up\n\n' +
      `[Routes]\n128.232.0.2/32 = 192.0.2.2:1994 key ${KEY}\n\n[Mappings]\n10.0.0.2/32 = 128.232.0.2 comment lab B\n`,
  );
  const file = path.join(box.dir, 'msnl.conf');
  fs.writeFileSync(file, conf);
  const before = dbFiles(box.db);
  assert.equal(ok(box.run(['apply', file])), 'no changes\n');
  assert.deepEqual(dbFiles(box.db), before, 'a no-op apply leaves the database byte-identical');
});

test('an edited file applies in one go and prints the difference; --dry-run only prints it', (t) => {
  const box = sandbox(t);
  configure(box);
  const file = path.join(box.dir, 'msnl.conf');
  const edited = ok(box.run(['showconf']))
    .replace('ms0 = 10.0.0.1/24 up', 'ms0 = 10.0.0.1/24 down\nms1 = 10.1.0.1/16 up')
    .replace('10.0.0.2/32 = 128.232.0.2 comment lab B', '10.0.0.3/32 = 128.232.0.3')
    .replace('192.0.2.2:1994', '192.0.2.22:1994')
    .replace('Listen = 0.0.0.0:1994', 'Listen = 192.0.2.1:1994');
  fs.writeFileSync(file, edited);
  const before = dbFiles(box.db);
  const dry = ok(box.run(['apply', '--dry-run', file]));
  assert.deepEqual(dbFiles(box.db), before, '--dry-run writes nothing');
  const expected = [
    '- [Host] Address = 128.232.0.1, Listen = 0.0.0.0:1994',
    '+ [Host] Address = 128.232.0.1, Listen = 192.0.2.1:1994',
    '- [Interfaces] ms0 = 10.0.0.1/24 up',
    '+ [Interfaces] ms0 = 10.0.0.1/24 down',
    '- [Interfaces] ms1 = none down',
    '+ [Interfaces] ms1 = 10.1.0.1/16 up',
    `- [Routes] 128.232.0.2/32 = 192.0.2.2:1994 key ${KEY}`,
    `+ [Routes] 128.232.0.2/32 = 192.0.2.22:1994 key ${KEY}`,
    '- [Mappings] 10.0.0.2/32 = 128.232.0.2 comment lab B',
    '+ [Mappings] 10.0.0.3/32 = 128.232.0.3',
  ];
  assert.equal(dry, `${expected.join('\n')}\n6 changes (dry run: nothing written)\n`);
  assert.equal(ok(box.run(['apply', file])), `${expected.join('\n')}\n6 changes\n`);
  const after = ok(box.run(['showconf']));
  assert.equal(after.replace(/^#.*\n/gm, ''), edited.replace(/^#.*\n/gm, ''), 'the database now equals the file');
  assert.match(ok(box.run(['map', 'show'])), /10\.9\.0\.0\/16 msnl 128\.232\.0\.2 .*expires/, 'the mapping with a lifetime is left alone');
  assert.equal(ok(box.run(['apply', file])), 'no changes\n');
  const json = JSON.parse(ok(box.run(['-j', 'apply', '--dry-run', file]))) as { changes: number; lines: string[] };
  assert.deepEqual(json, { changes: 0, dry_run: true, lines: [] });
});

test('a bad line changes nothing and is named, with exit 1', (t) => {
  const box = sandbox(t);
  configure(box);
  const file = path.join(box.dir, 'msnl.conf');
  const good = ok(box.run(['showconf'])).replace('10.0.0.2/32 = 128.232.0.2 comment lab B', '10.0.0.3/32 = 128.232.0.3');
  const before = dbFiles(box.db);
  for (const [bad, message] of [
    [`${good}10.0.0.4/32 = 128.232.0.300\n`, /^Error: .*msnl\.conf line 15: .*octet 300/],
    [`${good}[Peers]\n`, /line 15: unknown section \[Peers\]/],
    [good.replace('ms0 = 10.0.0.1/24 up', 'ms7 = 10.0.0.1/24 up'), /line 8: no interface ms7/],
    [good.replace('[Host]', 'Address = 1.2.3.4\n[Host]'), /line 3: an entry before any \[Section\]/],
    [`${good}10.0.0.3/32 = 128.232.0.4\n`, /line 15: mapping 10\.0\.0\.3\/32 is given twice/],
    [good.replace('Listen = 0.0.0.0:1994', 'Listen = 0.0.0.0'), /line 5: .*expected HOST:PORT/],
  ] as const) {
    fs.writeFileSync(file, bad);
    const result = box.run(['apply', file]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
    assert.deepEqual(dbFiles(box.db), before, 'nothing written');
  }
});

test('map flush, map replace and map import --replace', (t) => {
  const box = sandbox(t);
  configure(box);
  const exported = path.join(box.dir, 'maps.csv');
  ok(box.run(['map', 'export', exported]));
  assert.notEqual(box.run(['map', 'import', exported]).status, 0, 'a plain import of existing rows fails');
  ok(box.run(['map', 'import', '--replace', exported]));
  assert.equal(ok(box.run(['map', 'show'])).split('\n').filter(Boolean).length, 2, 're-importing an export with --replace keeps the table');
  ok(box.run(['map', 'replace', '10.0.0.2', '128.232.0.7']));
  ok(box.run(['map', 'replace', '10.0.0.5', '128.232.0.5']));
  const shown = ok(box.run(['map', 'show']));
  assert.match(shown, /^10\.0\.0\.2\/32 msnl 128\.232\.0\.7 origin cli$/m);
  assert.match(shown, /^10\.0\.0\.5\/32 msnl 128\.232\.0\.5 origin cli$/m);
  const before = dbFiles(box.db);
  fs.writeFileSync(exported, 'prefix,msnl_address\n10.0.0.8/32,128.232.0.8\n10.0.0.9/32,128.232.0.999\n');
  assert.equal(box.run(['map', 'import', '--replace', exported]).status, 1);
  assert.deepEqual(dbFiles(box.db), before, 'a bad row in import --replace leaves the old table');
  ok(box.run(['map', 'flush']));
  assert.equal(ok(box.run(['map', 'show'])), '');
});

test('conf: format and parse round-trip; the diff of equal configurations is empty', () => {
  const text = '[host]\naddress = 128.232.0.1\nlisten = [2001:db8::1]:1994\n; comment\n[Interfaces]\nms3 = none up\n[ROUTES]\n128.232.0.0/16 = peer.example:7000 auth none\n[Mappings]\n10.0.0.0/8 = 128.232.0.2\n';
  const conf = parseConf(text);
  assert.equal(conf.host.listenHost, '2001:db8::1');
  assert.equal(conf.interfaces.get('ms3')?.adminUp, true);
  assert.equal(conf.interfaces.get('ms0')?.adminUp, false, 'unlisted interfaces are none down');
  const again = parseConf(formatConf(conf));
  assert.deepEqual(diffConf(conf, again).lines, []);
  assert.equal(diffConf(conf, again).changes, 0);
  assert.throws(() => parseConf('[Host]\nAddress = 1.2.3.4\nAddress = 1.2.3.5\n'), (error: unknown) => error instanceof LineError && error.line === 3);
});

test('a route with two exits, priorities and an MTU: route add, route show (text and JSON), showconf and apply round-trip it', (t) => {
  const box = sandbox(t);
  ok(box.run(['route', 'add', '128.232.65.43', 'via', '198.51.100.2:7001', 'priority', '10', 'via', '203.0.113.2:7001', 'priority', '20', 'key', KEY, 'mtu', '1400']));
  ok(box.run(['route', 'add', '128.232.65.44', 'via', '198.51.100.4:7001', 'via', '203.0.113.4:7001', 'priority', '10', 'auth', 'none']));
  assert.equal(ok(box.run(['route', 'show'])),
    `128.232.65.43/32 via 198.51.100.2:7001 priority 10 via 203.0.113.2:7001 priority 20 key ${KEY} mtu 1400\n` +
    '128.232.65.44/32 via 198.51.100.4:7001 via 203.0.113.4:7001 priority 10 auth none\n');
  const rows = JSON.parse(ok(box.run(['-j', 'route', 'show']))) as Array<{ host: string; exits: Array<{ host: string; port: number; priority: number }>; mtu: number | null }>;
  assert.deepEqual(rows[0]!.exits, [{ host: '198.51.100.2', port: 7001, priority: 10 }, { host: '203.0.113.2', port: 7001, priority: 20 }]);
  assert.equal(rows[0]!.host, '198.51.100.2', 'the one-exit fields name the first exit');
  assert.equal(rows[0]!.mtu, 1400);
  assert.equal(rows[1]!.mtu, null);
  const conf = ok(box.run(['showconf']));
  assert.match(conf, new RegExp(`^128\\.232\\.65\\.43/32 = 198\\.51\\.100\\.2:7001 priority 10 via 203\\.0\\.113\\.2:7001 priority 20 key ${KEY.replace(/[+/]/g, '\\$&')} mtu 1400$`, 'm'));
  const file = path.join(box.dir, 'msnl.conf');
  fs.writeFileSync(file, conf);
  const before = dbFiles(box.db);
  assert.equal(ok(box.run(['apply', file])), 'no changes\n');
  assert.deepEqual(dbFiles(box.db), before);
  fs.writeFileSync(file, conf.replace('priority 20', 'priority 5'));
  assert.match(ok(box.run(['apply', file])), /^\+ \[Routes\] 128\.232\.65\.43\/32 = .*priority 5/m);
  assert.match(ok(box.run(['route', 'show'])), /via 203\.0\.113\.2:7001 priority 5 key/);
  // The one-exit form is unchanged.
  ok(box.run(['route', 'add', '128.232.65.45', 'via', '192.0.2.5:1994', 'auth', 'none']));
  assert.match(ok(box.run(['route', 'show'])), /^128\.232\.65\.45\/32 via 192\.0\.2\.5:1994 auth none$/m);
});

test('route add refuses a bad exit list with a clear error and changes nothing', (t) => {
  const box = sandbox(t);
  const before = dbFiles(box.db);
  for (const [words, message] of [
    [['via', '198.51.100.2:7001', 'via', '198.51.100.2:7001', 'auth', 'none'], /named twice/],
    [['via', '198.51.100.2:7001', 'priority', '70000', 'auth', 'none'], /priority must be an integer from 0 to 65535/],
    [['via', '198.51.100.2:7001', 'priority', '1', 'priority', '2', 'auth', 'none'], /one priority per exit/],
    [['via', '198.51.100.2:7001', 'auth', 'none', 'mtu', '100'], /mtu must be an integer from 576 to 65535/],
    [['via', '198.51.100.2:7001', 'auth', 'none', 'via', '203.0.113.2:7001'], /must come before the key/],
    [['via', '198.51.100.2:7001', 'via'], /expected HOST:PORT after "via"/],
    [['via', '198.51.100.2:7001', 'via', '203.0.113.2:7001'], /needs "key PUBKEY"/],
    [[...Array.from({ length: 9 }, (_, i) => ['via', `198.51.100.${i + 1}:7001`]).flat(), 'auth', 'none'], /at most 8 exits/],
  ] as const) {
    const r = box.run(['route', 'add', '128.232.65.43', ...words]);
    assert.equal(r.status, 1, `${words.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(rawDbFiles(box.db) === undefined ? before : dbFiles(box.db), before);
});
