import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dbFiles, sandbox } from '../helpers/cli.js';

const ROWS = 100_000;
const BAD_LINE = 73_412;

/** Line 1 is a header, so data row i (0-based) is on line i + 2. */
function generate(): string[] {
  const lines = ['prefix,msnl_address,comment,lifetime', '# generated for the import test'];
  for (let i = 0; lines.length < ROWS + 2; i++) {
    const network = (0x0a000000 + i * 256) >>> 0;
    const quad = `${network >>> 24}.${(network >>> 16) & 255}.${(network >>> 8) & 255}.0`;
    lines.push(`${quad}/24,128.232.${(i >>> 8) & 255}.${i & 255},row ${i}${i % 10 === 0 ? ',86400' : ''}`);
  }
  return lines;
}

test('a 100 000-row import with one bad row fails naming its line and changes nothing; without it, it imports', (t) => {
  const box = sandbox(t);
  assert.equal(box.run(['map', 'add', '192.0.2.0/24', '1.2.3.4']).status, 0);
  const before = dbFiles(box.db);
  const lines = generate();
  const good = lines[BAD_LINE - 1] as string;
  lines[BAD_LINE - 1] = '10.1.2.3/24,128.232.0.1,host bits set';
  const file = path.join(box.dir, 'big.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const failed = box.run(['map', 'import', file]);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, new RegExp(`^Error: line ${BAD_LINE}: argument "10\\.1\\.2\\.3/24" is wrong: host bits are set`, 'm'));
  assert.deepEqual(dbFiles(box.db), before);

  lines.splice(BAD_LINE - 1, 1);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const started = process.hrtime.bigint();
  const imported = box.run(['map', 'import', file]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.equal(imported.status, 0, imported.stderr);
  console.log(`# imported ${ROWS - 1} rows in ${seconds.toFixed(2)} s (including node start-up)`);
  const shown = box.run(['map', 'show']).stdout.split('\n').filter(Boolean);
  assert.equal(shown.length, ROWS - 1 + 1);
  assert.equal(shown.some((line) => line.startsWith(good.split(',')[0] as string)), false, 'the removed row is absent');
  assert.match(box.run(['map', 'get', '10.0.0.77']).stdout, /^10\.0\.0\.77 10\.0\.0\.0\/24 msnl 128\.232\.0\.0 origin import expires .* comment "row 0"$/m);
});

test('a duplicate of an existing mapping rejects the whole import, naming the line', (t) => {
  const box = sandbox(t);
  assert.equal(box.run(['map', 'add', '10.0.2.0/24', '1.2.3.4']).status, 0);
  const before = dbFiles(box.db);
  const result = box.run(['map', 'import', '-'], '10.0.1.0/24,1.1.1.1\n# comment\n\n10.0.2.0/24,1.1.1.2\n');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^Error: line 4: mapping 10\.0\.2\.0\/24 already exists$/m);
  assert.deepEqual(dbFiles(box.db), before);
});

test('export writes what import reads (CSV and JSON input)', (t) => {
  const first = sandbox(t);
  const json = JSON.stringify([
    { prefix: '10.0.0.0/8', msnl_address: '1.2.3.4', comment: 'with, comma and "quotes"' },
    { prefix: '0.0.0.0/0', msnl_address: '5.6.7.8', lifetime: 600 },
    { prefix: '192.0.2.7', msnl_address: '9.9.9.9', comment: '# not a comment' },
  ]);
  const loaded = first.run(['map', 'import', '-'], json);
  assert.equal(loaded.status, 0, loaded.stderr);
  const exported = first.run(['map', 'export']);
  assert.equal(exported.status, 0);
  const second = sandbox(t);
  const file = path.join(second.dir, 'export.csv');
  fs.writeFileSync(file, exported.stdout);
  assert.equal(second.run(['map', 'import', file]).status, 0);
  const strip = (rows: Array<Record<string, unknown>>) => rows.map(({ prefix, msnl_address, comment, expires }) => ({ prefix, msnl_address, comment, hasExpiry: expires !== null }));
  const a = JSON.parse(first.run(['-j', 'map', 'show']).stdout) as Array<Record<string, unknown>>;
  const b = JSON.parse(second.run(['-j', 'map', 'show']).stdout) as Array<Record<string, unknown>>;
  assert.equal(a.length, 3);
  assert.deepEqual(strip(b), strip(a));

  const badJson = second.run(['map', 'import', '-'], '[{"prefix": "10.0.0.0/8"}]');
  assert.equal(badJson.status, 1);
  assert.match(badJson.stderr, /^Error: entry 1: "prefix" and "msnl_address" are required$/m);
});
