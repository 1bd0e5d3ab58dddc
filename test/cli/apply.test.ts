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
