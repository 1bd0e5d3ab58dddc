// Log line styles (plain, journal priorities without time, file with ISO time), the levels with
// verbose as debug, journal detection by $JOURNAL_STREAM, and the file sink's reopen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, parseLogLevel } from '../../src/base/logger.js';
import { bufferedSink, fileSink, LOG_BUFFER_MAX, stderrIsJournal, type LogSink } from '../../src/base/log-sink.js';

const T0 = Date.UTC(2026, 10, 30, 3, 10, 0, 123);

function capture(level: Parameters<typeof createLogger>[0], style?: 'plain' | 'journal' | 'timestamped'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger(level, (line) => void lines.push(line), { style, now: () => T0 });
  return { lines, log };
}

test('levels: each shows itself and the more severe ones; verbose is debug', () => {
  for (const [level, expected] of [['error', 1], ['warn', 2], ['info', 3], ['debug', 5], ['verbose', 5]] as const) {
    const { lines, log } = capture(level);
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.verbose('v');
    assert.equal(lines.length, expected, level);
  }
  assert.equal(parseLogLevel('verbose'), 'debug');
  assert.equal(parseLogLevel('warn'), 'warn');
  assert.equal(parseLogLevel('loud'), undefined);
  assert.equal(parseLogLevel(''), undefined);
});

test('styles: plain, <N> priorities with no time for journald, ISO time for a file', () => {
  const plain = capture('debug');
  plain.log.warn('peer silent');
  assert.deepEqual(plain.lines, ['msnld: warn: peer silent\n']);
  const journal = capture('debug', 'journal');
  journal.log.error('a');
  journal.log.warn('b');
  journal.log.info('c');
  journal.log.verbose('d');
  assert.deepEqual(journal.lines, ['<3>msnld: error: a\n', '<4>msnld: warn: b\n', '<6>msnld: info: c\n', '<7>msnld: debug: d\n']);
  const file = capture('info', 'timestamped');
  file.log.info('x');
  assert.deepEqual(file.lines, ['2026-11-30T03:10:00.123Z msnld: info: x\n']);
});

test('stderrIsJournal: only when JOURNAL_STREAM names the device:inode stderr is', () => {
  const stat = () => ({ dev: 25, ino: 4711 });
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4711' }, stat), true);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4712' }, stat), false, 'stderr was redirected elsewhere');
  assert.equal(stderrIsJournal({}, stat), false);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: 'junk' }, stat), false);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4711' }, () => { throw new Error('EBADF'); }), false);
});

test('fileSink appends, and after a rename reopen() starts a new file; a failed reopen keeps the old one', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'msnld.log');
  const sink = fileSink(file);
  assert.equal(sink.style, 'timestamped');
  sink.write('one\n');
  renameSync(file, `${file}.1`);
  sink.write('two\n');
  assert.equal(sink.reopen(), undefined);
  sink.write('three\n');
  assert.equal(readFileSync(`${file}.1`, 'utf8'), 'one\ntwo\n');
  assert.equal(readFileSync(file, 'utf8'), 'three\n');
  rmSync(dir, { recursive: true, force: true });
  assert.match(sink.reopen() ?? '', /ENOENT/);
  sink.close();
  assert.throws(() => fileSink(path.join(dir, 'gone', 'x.log')), /ENOENT/);
});

test('bufferedSink: the lines of one turn leave in one write, in order; urgent lines, a full buffer, flush and exit write at once', () => {
  const writes: string[] = [];
  const inner: LogSink = { style: 'plain', write: (l) => void writes.push(l), reopen: () => undefined, flush: () => undefined, close: () => undefined };
  const turns: Array<() => void> = [];
  let exit: (() => void) | undefined;
  const sink = bufferedSink(inner, (run) => void turns.push(run), (run) => (exit = run));
  sink.write('a\n');
  sink.write('b\n');
  assert.deepEqual(writes, [], 'nothing before the turn ends');
  assert.equal(turns.length, 1, 'one flush scheduled for the turn');
  turns[0]!();
  assert.deepEqual(writes, ['a\nb\n']);
  sink.write('c\n');
  sink.writeNow('error\n');
  assert.deepEqual(writes, ['a\nb\n', 'c\nerror\n'], 'an urgent line goes at once, after the lines before it');
  turns[1]!();
  assert.equal(writes.length, 2, 'the turn that ends finds nothing left');
  sink.write('x'.repeat(LOG_BUFFER_MAX));
  assert.equal(writes.length, 3, 'a full buffer is written without waiting');
  sink.write('last\n');
  exit!();
  assert.equal(writes[3], 'last\n', 'the exit hook writes the last lines');
  sink.write('z\n');
  sink.flush();
  assert.equal(writes[4], 'z\n');
});

test('bufferedSink: a process ending on an uncaught exception or on process.exit still writes its last lines', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sinkModule = path.join(__dirname, '..', '..', 'src', 'base', 'log-sink.js');
  for (const [how, end] of [['throw', 'throw new Error("crash")'], ['exit', 'process.exit(3)'], ['reject', 'Promise.reject(new Error("crash"))']] as const) {
    const file = path.join(dir, `${how}.log`);
    const script = `const s = require(${JSON.stringify(sinkModule)}); const sink = s.bufferedSink(s.fileSink(${JSON.stringify(file)})); sink.write("one\\n"); sink.write("last\\n"); ${end};`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(run.status, 0, how);
    assert.equal(readFileSync(file, 'utf8'), 'one\nlast\n', how);
  }
});
