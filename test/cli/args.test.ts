import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../src/abi/inet.js';
import { formatEndpoint, parseEndpoint } from '../../src/cli/endpoint.js';
import { parseKeywords } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';

test('endpoints: IPv4, [IPv6], host names; bad ones are argument errors', () => {
  for (const text of ['192.0.2.7:1994', '[::1]:5', 'peer.example.net:65535']) {
    const parsed = parseEndpoint(text);
    assert.ok(!(parsed instanceof ArgumentError), text);
    assert.equal(formatEndpoint(parsed), text);
  }
  assert.deepEqual(parseEndpoint('[2001:db8::1]:7'), { host: '2001:db8::1', port: 7 });
  for (const text of ['192.0.2.7', '192.0.2.7:0', '192.0.2.7:65536', '192.0.2.300:1', '[zz]:1', 'bad_name:1', ':1', '::1:5']) {
    const parsed = parseEndpoint(text);
    assert.ok(parsed instanceof ArgumentError, text);
    assert.equal(parsed.argument, text);
  }
});

test('keywords: values, flags, duplicates, unknown words, missing values', () => {
  assert.deepEqual([...parseKeywords(['comment', 'x y', 'up'], ['comment'], ['up'])], [['comment', 'x y'], ['up', '']]);
  assert.throws(() => parseKeywords(['comment', 'a', 'comment', 'b'], ['comment']), (e: unknown) => e instanceof UsageError && e.message === 'duplicate "comment"');
  assert.throws(() => parseKeywords(['colour', 'red'], ['comment']), (e: unknown) => e instanceof ArgumentError && e.argument === 'colour');
  assert.throws(() => parseKeywords(['lifetime'], ['lifetime']), /"lifetime" needs a value/);
});
