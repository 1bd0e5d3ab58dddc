import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../src/abi/inet.js';
import { formatHostPort, parseHostPort } from '../../src/abi/endpoint.js';

test('HOST:PORT: IPv4, [IPv6] and host names parse and format back', () => {
  for (const text of ['192.0.2.7:1994', '0.0.0.0:1', '[::1]:5', 'peer.example.net:65535', 'gw:7010']) {
    const parsed = parseHostPort(text);
    assert.ok(!(parsed instanceof ArgumentError), text);
    assert.equal(formatHostPort(parsed), text);
  }
  assert.deepEqual(parseHostPort('[2001:db8::1]:7'), { host: '2001:db8::1', port: 7 });
  assert.deepEqual(parseHostPort('192.0.2.1:7010'), { host: '192.0.2.1', port: 7010 });
});

test('HOST:PORT: bad hosts and ports are argument errors naming the whole text and the reason', () => {
  const reasons: Array<[string, RegExp]> = [
    ['192.0.2.7', /expected HOST:PORT/],
    ['192.0.2.7:0', /port must be a decimal integer between 1 and 65535/],
    ['192.0.2.7:65536', /port must be/],
    ['192.0.2.7:01994', /port must be/],
    ['192.0.2.7:', /port must be/],
    ['192.0.2.7:x', /port must be/],
    ['999.1.1.1:1994', /octet/],
    ['192.0.2.300:1', /octet/],
    ['1.2.3:1', /four dotted decimal octets/],
    ['[zz]:1', /"zz" is not an IPv6 address/],
    ['bad_name:1', /"bad_name" is not an IPv4 address, \[IPv6\] address or host name/],
    [':1', /is not an IPv4 address/],
    ['::1:5', /is not an IPv4 address/],
    ['2001:db8::1:7010', /is not an IPv4 address/],
    [' 192.0.2.1:1', /is not an IPv4 address/],
  ];
  for (const [text, reason] of reasons) {
    const parsed = parseHostPort(text);
    assert.ok(parsed instanceof ArgumentError, text);
    assert.equal(parsed.argument, text);
    assert.match(parsed.reason, reason, text);
  }
});
