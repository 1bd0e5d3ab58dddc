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
// Explicit files: a bare `node --test` on Node 20 also loads helpers and fixtures as suites.
function findTests(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith('.test.js') ? [path.relative(compiled, full)] : [];
  });
}
const wanted = process.argv.slice(2);
const files = findTests(compiled).filter((file) => wanted.length === 0 || wanted.some((w) => file.includes(w))).sort();
if (wanted.length > 0 && files.length === 0) {
  // node --test with no file runs every test it finds: never let a mistyped filter do that.
  console.error(`Error: argument "${wanted.join(' ')}" is wrong: no test file under dist/test matches it`);
  process.exit(1);
}
const args = ['--test', '--test-reporter=spec', ...files];
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
