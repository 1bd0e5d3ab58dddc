// Root-only: msnld's log as an operator sees it. With stderr the journal's stream (JOURNAL_STREAM
// names its device:inode, as systemd sets it) every line carries a <N> priority and no time; with
// --log-file every line starts with an ISO time, and SIGUSR1 reopens the file after logrotate
// has moved it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fstatSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNLD, run } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

test('msnld logs <N> priorities under JOURNAL_STREAM, ISO times to --log-file, and reopens it on SIGUSR1', async (t) => {
  if (!requireRoot(t)) return;
  const netns = `msnl-log-${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-log-'));
  const common = ['--db', path.join(dir, 'd.db'), '--socket', path.join(dir, 'd.sock'), '--listen', '127.0.0.1:7010', '--log-level', 'debug', '--foreground'];
  let daemon: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    daemon!.kill('SIGTERM');
    await until('msnld exits', () => daemon!.exitCode !== null, 10_000);
    assert.equal(daemon!.exitCode, 0);
  };
  assert.equal(run(['ip', 'netns', 'add', netns]).code, 0);
  try {
    // 1. journald: stderr is a file whose device:inode JOURNAL_STREAM names.
    const journal = path.join(dir, 'journal');
    const fd = openSync(journal, 'w');
    const { dev, ino } = fstatSync(fd);
    daemon = spawn('ip', ['netns', 'exec', netns, process.execPath, MSNLD, ...common], { env: { ...process.env, JOURNAL_STREAM: `${dev}:${ino}` }, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    await until('the running line', () => read(journal).includes(' running (pid'), 30_000);
    await stop();
    const lines = read(journal).trimEnd().split('\n');
    assert.ok(lines.length >= 3, read(journal));
    for (const line of lines) assert.match(line, /^<[3467]>msnld: (error|warn|info|debug): /, 'a priority, no time');
    assert.ok(lines.some((line) => line.startsWith('<6>msnld: info: msnld ') && line.includes(' running (pid')));
    assert.ok(lines.some((line) => line.startsWith('<7>msnld: debug: ')), 'debug lines at priority 7');

    // 2. a log file: ISO times; moved away, then SIGUSR1 starts a new one.
    const log = path.join(dir, 'msnld.log');
    daemon = spawn('ip', ['netns', 'exec', netns, process.execPath, MSNLD, ...common, '--log-file', log], { stdio: ['ignore', 'ignore', 'ignore'] });
    await until('the running line in the file', () => read(log).includes(' running (pid'), 30_000);
    renameSync(log, `${log}.1`);
    daemon.kill('SIGUSR1');
    await until('the reopened file', () => read(log).includes('SIGUSR1: reopened the log file'), 10_000);
    await stop();
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z msnld: (error|warn|info|debug): /;
    for (const line of [...read(`${log}.1`).trimEnd().split('\n'), ...read(log).trimEnd().split('\n')]) assert.match(line, iso);
    assert.ok(!read(`${log}.1`).includes('SIGUSR1'), 'nothing after the reopen went to the moved file');
    assert.match(read(log), /SIGTERM: disconnecting every connection and exiting/);
  } finally {
    if (daemon !== undefined && daemon.exitCode === null) daemon.kill('SIGKILL');
    run(['ip', 'netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
