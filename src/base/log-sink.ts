// Where msnld's log lines go, and in which style: standard error (plain, or with `<N>` priority
// prefixes and no time when standard error is the journal's stream, as $JOURNAL_STREAM says), or
// a log file with ISO 8601 times, reopened on demand (SIGUSR1) so that logrotate can move it
// without copytruncate. The file is opened in append mode; a failed reopen keeps the old file.

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
  close(): void;
}

/** Standard error, in journal style when it is the journal's stream. */
export function stderrSink(env: NodeJS.ProcessEnv): LogSink {
  return {
    style: stderrIsJournal(env) ? 'journal' : 'plain',
    write: (line) => void process.stderr.write(line),
    reopen: () => undefined,
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
    close() {
      closeSync(fd);
    },
  };
}
