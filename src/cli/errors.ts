// CLI exit statuses and the one place errors become `Error: ...` lines (never a stack trace).
import { CommanderError } from 'commander';
import { ArgumentError } from '../abi/inet.js';
import { StoreError } from '../store/errors.js';
import { clientModule } from './lazy.js';

/**
 * 0 success; 1 usage or invalid argument (nothing written); 2 the database or the daemon failed
 * (msnld not running included); 3 a check found something down (health --check, ping with no reply).
 */
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_FAILURE = 2;
export const EXIT_CHECK = 3;

/** A usage error whose message is not about one argument (`duplicate "comment"`). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An input-file error: `line N: <cause>`, exit 1 (nothing is written). */
export class LineError extends Error {
  constructor(
    readonly line: number | string,
    readonly inner: Error,
  ) {
    super(`${typeof line === 'number' ? `line ${line}` : line}: ${inner.message}`);
    this.name = 'LineError';
  }
}

/**
 * A failure reported by something outside the CLI (daemon, file system), exit 2. The control
 * client's own ControlClientError (msnld not running, permission, bad reply) exits 2 as well.
 */
export class FailureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailureError';
  }
}

/** Writes the error line and returns the exit status. */
export function reportError(error: unknown, writeErr: (text: string) => void): number {
  if (error instanceof CommanderError) {
    // Commander already wrote its message through configureOutput (or printed help).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof ArgumentError || error instanceof UsageError || error instanceof LineError) {
    writeErr(`Error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  // The client module is loaded only here, when the error is none of the cheap kinds.
  if (error instanceof StoreError || error instanceof FailureError || error instanceof clientModule().ControlClientError) {
    writeErr(`Error: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeErr(`Error: ${message}\n`);
  return EXIT_FAILURE;
}

/** Throws the ArgumentError a parser returned, passes any other value through. */
export function must<T>(value: T | ArgumentError): T {
  if (value instanceof ArgumentError) throw value;
  return value;
}
