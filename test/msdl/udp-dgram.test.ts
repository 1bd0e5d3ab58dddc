import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpUnderlay, parseHostPort } from '../../src/daemon/udp-underlay.js';

const quiet = { error: () => undefined, info: () => undefined, verbose: () => undefined };

test('the node:dgram underlay carries datagrams between two sockets and names links canonically', async () => {
  const underlay = new UdpUnderlay(quiet);
  const got: Array<{ text: string; port: number }> = [];
  const a = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => got.push({ text: Buffer.from(buf.subarray(offset, offset + length)).toString(), port: link.port }));
  const b = await underlay.open('127.0.0.1', 0, () => undefined);
  try {
    const aPort = Number(/:(\d+)$/.exec(a.describe())?.[1]);
    const bPort = Number(/:(\d+)$/.exec(b.describe())?.[1]);
    const reused = Buffer.from('first');
    b.send(underlay.link('127.0.0.1', aPort), reused, 0, reused.length);
    reused.write('XXXXX'); // the underlay consumed the datagram before send() returned
    b.send(underlay.link('127.0.0.1', aPort), Buffer.from('xsecond'), 1, 6);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(got, [{ text: 'first', port: bPort }, { text: 'second', port: bPort }]);
    assert.equal(underlay.link('127.0.0.1', aPort), underlay.link('127.0.0.1', aPort));
    assert.ok(underlay.same(underlay.link('127.0.0.1', aPort), { address: '127.0.0.1', port: aPort }));
  } finally {
    await a.close();
    await b.close();
  }
});

test('HOST:PORT parses IPv4, names and bracketed IPv6, and rejects the rest', () => {
  assert.deepEqual(parseHostPort('192.0.2.1:7010'), { host: '192.0.2.1', port: 7010 });
  assert.deepEqual(parseHostPort('[2001:db8::1]:1994'), { host: '2001:db8::1', port: 1994 });
  assert.deepEqual(parseHostPort('gw.example:1'), { host: 'gw.example', port: 1 });
  for (const bad of ['192.0.2.1', '192.0.2.1:0', '192.0.2.1:65536', ':7010', '2001:db8::1:7010']) {
    const parsed = parseHostPort(bad);
    assert.ok(!('host' in parsed), bad);
  }
});
