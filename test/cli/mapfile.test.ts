import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMappingCsv, parseMappingFile, splitCsvLine } from '../../src/cli/mapfile.js';
import { LineError } from '../../src/cli/errors.js';

test('CSV fields: plain, quoted, doubled quotes, unterminated', () => {
  assert.deepEqual(splitCsvLine('a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitCsvLine('a,"b, ""c""",d'), ['a', 'b, "c"', 'd']);
  assert.deepEqual(splitCsvLine('a,""'), ['a', '']);
  assert.equal(splitCsvLine('a,"b'), undefined);
  assert.equal(splitCsvLine('a,"b"x'), undefined);
});

test('header, comments, blank lines and CRLF are accepted; a bad row names its line', () => {
  const rows = parseMappingFile('prefix,msnl_address\r\n# note\r\n\r\n10.0.0.0/8,1.2.3.4,hi,60\r\n');
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0], { prefix: { address: 0x0a000000, length: 8 }, msnlAddress: 0x01020304, comment: 'hi', lifetimeSeconds: 60, line: 4 });
  assert.throws(
    () => parseMappingFile('10.0.0.0/8,1.2.3.4\n10.0.0.0/8,1.2.3\n'),
    (error: unknown) => error instanceof LineError && error.message === 'line 2: argument "1.2.3" is wrong: MSNL address must be four dotted decimal octets',
  );
  assert.throws(() => parseMappingFile('10.0.0.0/8\n'), /line 1: expected 2 to 4 fields/);
  assert.throws(() => parseMappingFile('10.0.0.0/8,1.2.3.4,x,0\n'), /line 1: argument "0" is wrong: lifetime/);
});

test('the CSV writer quotes what needs quoting and gives remaining lifetimes', () => {
  const csv = formatMappingCsv(
    [
      { prefix: { address: 0, length: 0 }, msnlAddress: 1, comment: 'a,"b"', origin: 'cli', createdAt: 0, expiresAt: 10_500 },
      { prefix: { address: 0x0a000000, length: 8 }, msnlAddress: 2, comment: '', origin: 'import', createdAt: 0, expiresAt: null },
    ],
    1_000,
  );
  assert.equal(csv, 'prefix,msnl_address,comment,lifetime\n0.0.0.0/0,0.0.0.1,"a,""b""",10\n10.0.0.0/8,0.0.0.2,,\n');
  assert.deepEqual(parseMappingFile(csv).map((r) => [r.comment, r.lifetimeSeconds]), [['a,"b"', 10], ['', undefined]]);
});
