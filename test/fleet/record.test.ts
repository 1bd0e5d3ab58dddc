// The fleet record codec: round trip, and every malformed or foreign value refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_PREFIX, addressOfKey, decodeRecord, encodeRecord, recordKey, type HostRecord } from '../../src/fleet/record.js';

const KEY = new Uint8Array(32).fill(7);
const record: HostRecord = {
  msnlAddress: 0x80e80003,
  endpoints: [{ host: '192.0.2.3', port: 7010 }],
  publicKey: KEY,
  prefixes: [{ address: 0x0a000003, length: 32 }, { address: 0x0a090000, length: 16 }],
};

test('a record round-trips under its own key', () => {
  assert.equal(recordKey(record.msnlAddress), `${KEY_PREFIX}128.232.0.3`);
  const text = encodeRecord(record);
  assert.equal(text, '{"version":1,"msnl":"128.232.0.3","endpoints":["192.0.2.3:7010"],"key":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=","prefixes":["10.0.0.3/32","10.9.0.0/16"]}');
  assert.deepEqual(decodeRecord(recordKey(record.msnlAddress), text), record);
  assert.deepEqual(decodeRecord('/msnl/v1/hosts/128.232.0.3', text.replace(/"key":"[^"]*"/, '"key":null')), { ...record, publicKey: null });
});

test('keys outside the layout are refused', () => {
  assert.equal(addressOfKey('/msnl/v1/hosts/1.2.3.4'), 0x01020304);
  assert.match(String(addressOfKey('/msnl/v2/hosts/1.2.3.4')), /not under/);
  assert.match(String(addressOfKey('/msnl/v1/hosts/1.2.3')), /does not end in an MSNL address/);
  assert.match(String(addressOfKey('/msnl/v1/hosts/01.2.3.4')), /does not end in an MSNL address/);
});

test('malformed and foreign values are refused with a reason, never thrown', () => {
  const key = recordKey(record.msnlAddress);
  const good = JSON.parse(encodeRecord(record)) as Record<string, unknown>;
  const cases: Array<[unknown, RegExp]> = [
    ['{not json', /not JSON/],
    ['[]', /not a JSON object/],
    ['null', /not a JSON object/],
    [{ ...good, version: 2 }, /version 2 is not 1/],
    [{ ...good, msnl: '128.232.0.4' }, /foreign/],
    [{ ...good, msnl: 5 }, /no "msnl"/],
    [{ ...good, endpoints: [] }, /"endpoints" must be/],
    [{ ...good, endpoints: ['nohost'] }, /endpoint/],
    [{ ...good, endpoints: [1] }, /non-string/],
    [{ ...good, key: 'short' }, /"key"/],
    [{ ...good, key: 5 }, /"key" is not a string/],
    [{ ...good, prefixes: ['10.0.0.1/8'] }, /host bits/],
    [{ ...good, prefixes: 'x' }, /"prefixes" must be/],
    [{ ...good, prefixes: new Array(1025).fill('10.0.0.1/32') }, /at most 1024/],
    ['x'.repeat(70_000), /more than/],
  ];
  for (const [value, reason] of cases) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const result = decodeRecord(key, text);
    assert.equal(typeof result, 'string', text.slice(0, 60));
    assert.match(result as string, reason);
  }
  assert.match(decodeRecord('/msnl/v1/hosts/0.0.0.0', encodeRecord({ ...record, msnlAddress: 0 })) as string, /not a host/);
});
