#!/usr/bin/env node
// Runs node:test over the compiled suites in dist/test and fails when no test ran.
// Node 20's `node --test` searches the current directory for *.test.js, so it runs from dist/test.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'test');
if (!fs.existsSync(compiled)) {
  console.error('Error: no compiled tests in dist/test: run `npm run build` first');
  process.exit(1);
}
const filter = process.argv.slice(2);
const args = ['--test', '--test-reporter=spec', ...filter];
const run = spawnSync(process.execPath, args, { cwd: compiled, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
process.stdout.write(run.stdout ?? '');
const out = run.stdout ?? '';
const count = (name) => Number((out.match(new RegExp(`^\\S* ?${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail');
const skipped = count('skipped');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (run.status !== 0 || failed > 0) process.exit(run.status || 1);
if (passed === 0) {
  console.error('Error: no test ran');
  process.exit(1);
}
