// Where msnld's log lines go, and in which style: standard error (plain, or with `<N>` priority
// prefixes and no time when standard error is the journal's stream, as $JOURNAL_STREAM says), or
// a log file with ISO 8601 times, reopened on demand (SIGUSR1) so that logrotate can move it
// without copytruncate. The file is opened in append mode; a failed reopen keeps the old file.
// msnld writes through bufferedSink: the lines of one turn of the event loop leave in one write
// after it (a call storm's hundreds of lines cost one syscall, not one each), in order; an error
// line, a full buffer, flush() and the process's exit write at once, so a crash path msnld
// controls (process.exit, an uncaught exception or rejection) still leaves its last lines.

import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { LineStyle } from './logger.js';

/**
 * Whether standard error is connected to the journal: $JOURNAL_STREAM is "DEVICE:INODE" of the
 * stream systemd connected, and it must be the one fd 2 still points at (systemd.exec(5)).
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv, stat: () => { dev: number; ino: number } = () => fstatSync(2)): boolean {
  const match = /^([0-9]+):([0-9]+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!match) return false;
  try {
    const { dev, ino } = stat();
    return String(dev) === match[1] && String(ino) === match[2];
  } catch {
    return false;
  }
}

export interface LogSink {
  readonly style: LineStyle;
  write(line: string): void;
  /** Reopens the log file (a no-op on standard error); the error message when that failed. */
  reopen(): string | undefined;
  /** Writes out whatever is buffered (a no-op on an unbuffered sink). */
  flush(): void;
  close(): void;
}

/** Standard error, in journal style when it is the journal's stream. */
export function stderrSink(env: NodeJS.ProcessEnv): LogSink {
  return {
    style: stderrIsJournal(env) ? 'journal' : 'plain',
    write: (line) => void process.stderr.write(line),
    reopen: () => undefined,
    flush: () => undefined,
    close: () => undefined,
  };
}

/** A log file (created mode 0640), timestamped; throws when it cannot be opened at first. */
export function fileSink(file: string): LogSink {
  let fd = openSync(file, 'a', 0o640);
  return {
    style: 'timestamped',
    write(line) {
      try {
        writeSync(fd, line);
      } catch {
        process.stderr.write(line); // a full disk must not stop the daemon; stderr may still reach someone
      }
    },
    reopen() {
      let next: number;
      try {
        next = openSync(file, 'a', 0o640);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
      closeSync(fd);
      fd = next;
      return undefined;
    },
    flush: () => undefined,
    close() {
      closeSync(fd);
    },
  };
}

function exitHooks(run: () => void): void {
  process.on('exit', run);
  process.on('uncaughtExceptionMonitor', run);
}

/** Buffered lines beyond which a write does not wait for the end of the turn (octets). */
export const LOG_BUFFER_MAX = 64 * 1024;

/**
 * Lines to `inner` gathered until the current turn of the event loop ends (`schedule`, setImmediate
 * by default), then written in one call, in order. `urgent` lines (errors) and a buffer past
 * LOG_BUFFER_MAX go out at once, with everything before them; so does flush(), which `onExit`
 * arranges to run as the process ends: its 'exit' event (process.exit, the end of main) and
 * 'uncaughtExceptionMonitor' (an uncaught exception or rejection ends the process without 'exit').
 */
export function bufferedSink(inner: LogSink, schedule: (run: () => void) => void = (run) => void setImmediate(run), onExit: (run: () => void) => void = exitHooks): LogSink & { writeNow(line: string): void } {
  let pending: string[] = [];
  let octets = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    octets = 0;
    inner.write(text);
  };
  onExit(flush);
  return {
    style: inner.style,
    write(line) {
      pending.push(line);
      octets += line.length;
      if (octets >= LOG_BUFFER_MAX) return flush();
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    writeNow(line) {
      pending.push(line);
      flush();
    },
    reopen() {
      flush();
      return inner.reopen();
    },
    flush,
    close() {
      flush();
      inner.close();
    },
  };
}
