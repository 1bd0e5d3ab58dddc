import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/control/protocol.js';
import { LineReader, RequestAssembler } from '../../src/control/framing.js';

test('line reader joins chunks, keeps split UTF-8 intact and stops on overlong lines', () => {
  const reader = new LineReader(16);
  const bytes = Buffer.from('a=\u00e9t\u00e9\nb=2\n');
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i++) lines.push(...reader.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(lines, ['a=\u00e9t\u00e9', 'b=2']);
  assert.equal(reader.buffered, 0);
  assert.deepEqual(reader.push(Buffer.from('x'.repeat(17))), []);
  assert.equal(reader.overflow, true);
  assert.deepEqual(reader.push(Buffer.from('a=1\n')), []);
});

test('line reader gives the same lines for any chunking, and stops at an overlong line inside a chunk', () => {
  const text = 'a=\u00e9t\u00e9\nb=2\n\nc=\u20ac\u20ac\u20ac\nd=\n';
  const bytes = Buffer.from(text);
  const expected = ['a=\u00e9t\u00e9', 'b=2', '', 'c=\u20ac\u20ac\u20ac', 'd='];
  for (let size = 1; size <= bytes.length; size++) {
    const reader = new LineReader(16);
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += size) lines.push(...reader.push(bytes.subarray(i, i + size)));
    assert.deepEqual(lines, expected, `chunks of ${size}`);
    assert.equal(reader.buffered, 0);
  }
  const reader = new LineReader(16);
  // Bytes, not characters: 6 euro signs are 18 bytes.
  assert.deepEqual(reader.push(Buffer.from('a=1\nb=\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\nc=3\n')), ['a=1']);
  assert.equal(reader.overflow, true);
  assert.deepEqual(reader.push(Buffer.from('a=1\n')), []);
});

test('assembler answers every blank line, pipelined or byte by byte', () => {
  const text = 'get=status\n\nbogus\n\n\nping=10.0.0.1\ncount=1\n\n';
  const whole = new RequestAssembler().push(Buffer.from(text));
  const bytewise: ReturnType<RequestAssembler['push']> = [];
  const assembler = new RequestAssembler();
  for (const byte of Buffer.from(text)) bytewise.push(...assembler.push(Buffer.from([byte])));
  for (const events of [whole, bytewise]) {
    assert.deepEqual(events.map((e) => e.type), ['request', 'error', 'error', 'request']);
    const second = events[1]!;
    assert.ok(second.type === 'error' && second.error.errno === Errno.EINVAL && !second.fatal);
  }
});

test('assembler refuses overlong lines and requests, fatally', () => {
  const long = new RequestAssembler().push(Buffer.from(`get=${'x'.repeat(2000)}\n\n`));
  assert.equal(long.length, 1);
  assert.ok(long[0]!.type === 'error' && long[0]!.fatal && long[0]!.error.errno === Errno.EMSGSIZE);
  const many = new RequestAssembler(1024, 4).push(Buffer.from('a=1\nb=2\nc=3\nd=4\n\n'));
  assert.ok(many[0]!.type === 'error' && many[0]!.fatal && many[0]!.error.errno === Errno.EMSGSIZE);
});
