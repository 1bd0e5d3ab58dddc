// What every `msnl` object file gets: the global options, a control client, one printer for text
// and JSON (iproute2's PRINT_ANY idea: each field has a JSON key and a text format, so both
// outputs come from the same row objects), and the error/exit helpers.
//
// Exit status (ip(8)): 0 ok, 1 bad usage (`Error: argument "X" is wrong: REASON`), 2 the daemon or
// the database failed (`Error: ...: CAUSE`), 3 a check found something down (health --check, ping
// with no reply).

import type { Command } from 'commander';
import { ArgumentError } from '../abi/inet.js';
import { ControlClient, ControlClientError } from '../control/client.js';
import { DEFAULT_SOCKET_PATH } from '../control/server.js';

export const DEFAULT_DB_PATH = '/var/lib/msnl/msnl.db';
export { DEFAULT_SOCKET_PATH };

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_FAILURE = 2;
export const EXIT_CHECK = 3;

export interface GlobalOptions {
  json: boolean;
  pretty: boolean;
  db: string;
  socket: string;
}

/** Adds -j/--json, -p/--pretty, --db and --socket (env MSNL_DB, MSNL_SOCKET) to the program. */
export function addGlobalOptions(program: Command, env: NodeJS.ProcessEnv = process.env): Command {
  return program
    .option('-j, --json', 'output JSON (lists are arrays of objects)', false)
    .option('-p, --pretty', 'indent JSON output', false)
    .option('--db <path>', 'database file (env MSNL_DB)', nonEmpty(env.MSNL_DB) ?? DEFAULT_DB_PATH)
    .option('--socket <path>', 'msnld control socket (env MSNL_SOCKET)', nonEmpty(env.MSNL_SOCKET) ?? DEFAULT_SOCKET_PATH);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

/** One field of a row: `key` names it in JSON, `text` is its text format with %s for the value. */
export interface Field<Row> {
  readonly key: keyof Row & string;
  readonly text: string;
  /** Text rendering of a non-null value (default String(value)). */
  readonly show?: (value: never, row: Row) => string;
  /** Text for a null value; when absent, a null field prints nothing in text. */
  readonly none?: string;
  /** Only in JSON (PRINT_JSON), never in text. */
  readonly jsonOnly?: boolean;
}

/** Renders one row as text by concatenating its fields' formats; trailing blanks are trimmed. */
export function formatRow<Row extends object>(row: Row, fields: readonly Field<Row>[]): string {
  let text = '';
  for (const field of fields) {
    if (field.jsonOnly) continue;
    const value = (row as Record<string, unknown>)[field.key];
    let shown: string | undefined;
    if (value === null || value === undefined) shown = field.none;
    else shown = field.show ? field.show(value as never, row) : String(value);
    if (shown !== undefined) text += field.text.replace('%s', shown);
  }
  return text.replace(/[ \t]+$/gm, '');
}

/** Picks the fields' keys out of a row, in field order, for JSON. */
export function jsonRow<Row extends object>(row: Row, fields: readonly Field<Row>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (row as Record<string, unknown>)[field.key];
    out[field.key] = value === undefined ? null : value;
  }
  return out;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => never;
}

const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
};

export interface CliContext {
  /** The parsed global options (valid inside an action). */
  globals(): GlobalOptions;
  /** A client for the daemon's control socket (--socket). */
  client(): ControlClient;
  readonly io: CliIo;
  /** Prints a list: text lines, or one JSON array. */
  printList<Row extends object>(rows: readonly Row[], fields: readonly Field<Row>[]): void;
  /** Prints one object: text, or one JSON object. */
  printObject<Row extends object>(row: Row, fields: readonly Field<Row>[], extraJson?: Record<string, unknown>): void;
  /** Reports an error and exits: 1 for an ArgumentError, 2 for anything else. */
  fail(error: unknown, doing?: string): never;
  /** Runs an action, turning any throw into fail(). */
  action<A extends unknown[]>(doing: string, body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void>;
}

export function createContext(program: Command, io: CliIo = processIo): CliContext {
  const ctx: CliContext = {
    io,
    globals: () => program.opts<GlobalOptions>(),
    client: () => new ControlClient(ctx.globals().socket),
    printList(rows, fields) {
      const { json, pretty } = ctx.globals();
      if (json) io.stdout(`${JSON.stringify(rows.map((row) => jsonRow(row, fields)), null, pretty ? 2 : undefined)}\n`);
      else for (const row of rows) io.stdout(`${formatRow(row, fields)}\n`);
    },
    printObject(row, fields, extraJson = {}) {
      const { json, pretty } = ctx.globals();
      if (json) io.stdout(`${JSON.stringify({ ...jsonRow(row, fields), ...extraJson }, null, pretty ? 2 : undefined)}\n`);
      else io.stdout(`${formatRow(row, fields)}\n`);
    },
    fail(error, doing) {
      io.stderr(`${errorLine(error, doing)}\n`);
      return io.exit(error instanceof ArgumentError ? EXIT_USAGE : EXIT_FAILURE);
    },
    action(doing, body) {
      return async (...args) => {
        try {
          await body(...args);
        } catch (error) {
          ctx.fail(error, doing);
        }
      };
    },
  };
  return ctx;
}

/** The `Error: ...` line for an error; daemon answers get `failed to DOING: ` in front. */
export function errorLine(error: unknown, doing?: string): string {
  if (error instanceof ArgumentError) return `Error: ${error.message}`;
  if (error instanceof ControlClientError && error.kind !== 'daemon') return `Error: ${error.message}`;
  const cause = error instanceof Error ? error.message : String(error);
  return doing === undefined ? `Error: ${cause}` : `Error: failed to ${doing}: ${cause}`;
}

/** Parses a whole decimal number for option NAME within [min, max], or throws an ArgumentError. */
export function parseNumberArgument(text: string, min: number, max: number, integer: boolean): number {
  const pattern = integer ? /^[0-9]+$/ : /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;
  if (!pattern.test(text)) throw new ArgumentError(text, integer ? 'not a whole number' : 'not a number');
  const value = Number(text);
  if (value < min || value > max) throw new ArgumentError(text, `not between ${min} and ${max}`);
  return value;
}
