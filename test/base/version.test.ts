import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../../src/base/version.js';

test('VERSION is the version package.json carries', () => {
  // dist/test/base -> the repository root
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});
