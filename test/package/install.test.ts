// The operator's install, end to end: `npm pack` (scripts off: dist/ is already built by
// `pretest`), then `npm install -g --prefix TMP` of the tarball, then msnl, msnld and the man
// pages from that prefix, and the installed unit through `systemd-analyze verify` with the
// installed msnld and man pages. SLOW: the install compiles the addon (about 1 min on a busy
// 2-core box). better-sqlite3 would compile SQLite for up to 10 more minutes on such a box (no
// prebuilt binary can be downloaded offline), so the test hands its prebuild-install a local
// prebuild packed from this checkout's compiled copy (prebuild-install's documented
// npm_config_<name>_local_prebuilds); an operator's install compiles it (README, Install).
// It runs in every `npm test`; dependencies come from the npm cache when they are there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VERSION } from '../../src/base/version.js';
import { parseUnit, verifyUnit } from '../systemd/unit-file.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function sh(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): { code: number | null; out: string; err: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: options.timeout ?? 60_000, cwd: options.cwd, env: options.env ?? process.env });
  if (result.error !== undefined) throw result.error;
  return { code: result.status, out: result.stdout, err: result.stderr };
}

test('npm pack + npm install -g --prefix: msnl --version, msnld --help, man -w msnl, the installed unit verifies', { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  assert.equal(pack.code, 0, pack.err);
  const [info] = JSON.parse(pack.out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(info);
  const files = info.files.map((f) => f.path);
  for (const wanted of ['dist/src/cli/main.js', 'dist/src/daemon/main.js', 'schema/001_initial.sql', 'man/msnl.8', 'man/ms.4', 'binding.gyp', 'src/tun/native/notify.cc', 'systemd/msnld.service']) {
    assert.ok(files.includes(wanted), `the package carries ${wanted}`);
  }
  const strays = files.filter((f) => /^(test|bench|\.ci|dist\/test)\/|\.ts$|\.map$/.test(f));
  assert.deepEqual(strays, [], 'no tests, benchmarks, CI, TypeScript sources or source maps in the package');

  const sqlite = path.dirname(require.resolve('better-sqlite3/package.json', { paths: [ROOT] }));
  const sqliteVersion = (JSON.parse(readFileSync(path.join(sqlite, 'package.json'), 'utf8')) as { version: string }).version;
  const prebuilds = path.join(dir, 'prebuilds');
  const tarball = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-linux-${process.arch}.tar.gz`;
  assert.equal(sh('mkdir', [prebuilds]).code, 0);
  assert.equal(sh('tar', ['czf', path.join(prebuilds, tarball), '-C', sqlite, 'build/Release/better_sqlite3.node']).code, 0);
  const prefix = path.join(dir, 'prefix');
  const started = Date.now();
  const install = sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, info.filename)], {
    timeout: 590_000,
    env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds, JOBS: 'max' },
  });
  t.diagnostic(`npm install -g took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(install.code, 0, `${install.out}\n${install.err}`);

  const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`, MANPATH: path.join(prefix, 'share', 'man') };
  const version = sh('msnl', ['--version'], { env });
  assert.deepEqual([version.code, version.out], [0, `${VERSION}\n`], version.err);
  assert.ok(sh('which', ['msnl'], { env }).out.startsWith(prefix), 'msnl comes from the prefix');
  const help = sh('msnld', ['--help'], { env });
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /^Usage: msnld \[options\]/);
  for (const [page, section] of [['msnl', '8'], ['msnld', '8'], ['msnl', '7'], ['ms', '4']] as const) {
    const man = sh('man', ['-w', section, page], { env });
    assert.equal(man.code, 0, `man -w ${section} ${page}: ${man.err}`);
    assert.ok(man.out.startsWith(prefix), `man ${section} ${page} is the installed page: ${man.out}`);
  }
  // The database works (better-sqlite3 was built) and so does the addon (it loads).
  const db = path.join(dir, 'x.db');
  const map = sh('msnl', ['--db', db, 'map', 'add', '10.0.0.2', '128.232.0.2'], { env });
  assert.equal(map.code, 0, map.err);
  assert.ok(existsSync(path.join(prefix, 'lib', 'node_modules', 'msnl', 'build', 'Release', 'msnl_tun.node')), 'the addon was compiled');

  const installed = path.join(prefix, 'lib', 'node_modules', 'msnl', 'systemd', 'msnld.service');
  const text = readFileSync(installed, 'utf8');
  assert.equal(parseUnit(text).get('Service')?.get('ExecStart')?.[0], 'msnld --foreground');
  writeFileSync(path.join(dir, 'msnld.service'), text.replace(/^ExecStart=msnld /m, `ExecStart=${path.join(prefix, 'bin', 'msnld')} `));
  assert.deepEqual(verifyUnit(path.join(dir, 'msnld.service'), env, true), { code: 0, output: '' }, 'verify, man pages included');
  assert.ok(readdirSync(path.join(prefix, 'share', 'man', 'man8')).includes('msnld.8'));
});
