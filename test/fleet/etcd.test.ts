// The etcd client's pure parts: --cluster URL parsing and prefix range ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, EtcdError, parseClusterUrls, prefixEnd } from '../../src/fleet/etcd.js';

test('cluster URLs: http(s) and etcd(s), several, nothing else', () => {
  const urls = parseClusterUrls('http://192.0.2.4:2379, etcds://[2001:db8::1]:2379,etcd://etcd.example:2379');
  assert.ok(Array.isArray(urls));
  assert.deepEqual((urls as URL[]).map(String), ['http://192.0.2.4:2379/', 'https://[2001:db8::1]:2379/', 'http://etcd.example:2379/']);
  assert.match(String(parseClusterUrls('')), /no etcd URL/);
  assert.match(String(parseClusterUrls('192.0.2.4:2379')), /scheme must be|is not a URL/);
  assert.match(String(parseClusterUrls('ftp://a:1')), /scheme must be http, https, etcd or etcds/);
  assert.match(String(parseClusterUrls('http://a:1/v3')), /no path/);
  assert.match(String(parseClusterUrls(Array(17).fill('http://a:1').join(','))), /at most 16/);
});

test('the range end of a prefix is the prefix with its last octet raised', () => {
  assert.equal(Buffer.from(prefixEnd('/msnl/v1/hosts/'), 'base64').toString(), '/msnl/v1/hosts0');
  assert.deepEqual([...Buffer.from(prefixEnd('a\u00ff'), 'base64')], [0x61, 0xc3, 0xc0]);
});

test('a client needs a URL, and a user and a password together', () => {
  assert.throws(() => new EtcdClient({ urls: [] }), EtcdError);
  assert.throws(() => new EtcdClient({ urls: [new URL('http://a:1')], user: 'u' }), /a user needs a password/);
});
