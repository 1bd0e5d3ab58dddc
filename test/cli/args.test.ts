import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../src/abi/inet.js';
import { parseKeywords } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';

test('keywords: values, flags, duplicates, unknown words, missing values', () => {
  assert.deepEqual([...parseKeywords(['comment', 'x y', 'up'], ['comment'], ['up'])], [['comment', 'x y'], ['up', '']]);
  assert.throws(() => parseKeywords(['comment', 'a', 'comment', 'b'], ['comment']), (e: unknown) => e instanceof UsageError && e.message === 'duplicate "comment"');
  assert.throws(() => parseKeywords(['colour', 'red'], ['comment']), (e: unknown) => e instanceof ArgumentError && e.argument === 'colour');
  assert.throws(() => parseKeywords(['lifetime'], ['lifetime']), /"lifetime" needs a value/);
});
