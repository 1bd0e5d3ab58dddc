// One printer for text and JSON (iproute2's PRINT_ANY idea): a command builds plain row objects
// with snake_case keys once; text lines are formatted from those rows, JSON prints them as they are.
// msnld's control rows are printed as the daemon sent them: one name per field, on the wire and in -j.
import type { CliContext } from './context.js';

/** Prints one JSON value on a line, indented under -p/--pretty. */
export function printJson(context: CliContext, value: unknown): void {
  context.stdout(`${JSON.stringify(value, null, context.options().pretty ? 2 : undefined)}\n`);
}

/** Prints a list: a JSON array under --json, otherwise one text block per row. */
export function printRows<R extends object>(context: CliContext, rows: Iterable<R>, text: (row: R) => string): void {
  const printer = rowPrinter(context, text);
  for (const row of rows) printer.add(row);
  printer.end();
}

/** A list printed as its rows come (a long reply is not held whole): add() each row, then end(). */
export interface RowPrinter<R> {
  readonly add: (row: R) => void;
  readonly end: () => void;
}

/**
 * Prints rows as printRows does, one at a time, in blocks of about 64 KiB (100 000 rows are not
 * 100 000 writes). Under --json the output is the same text JSON.stringify gives for the array.
 */
export function rowPrinter<R extends object>(context: CliContext, text: (row: R) => string): RowPrinter<R> {
  const json = context.options().json;
  const pretty = context.options().pretty;
  let block = '';
  let count = 0;
  const flush = (): void => {
    if (block !== '') context.stdout(block);
    block = '';
  };
  const add = (row: R): void => {
    if (!json) block += `${text(row)}\n`;
    else if (!pretty) block += `${count === 0 ? '[' : ','}${JSON.stringify(row)}`;
    else block += `${count === 0 ? '[\n' : ',\n'}  ${JSON.stringify(row, null, 2).replace(/\n/g, '\n  ')}`;
    count++;
    if (block.length >= 1 << 16) flush();
  };
  const end = (): void => {
    if (json) block += count === 0 ? '[]\n' : pretty ? '\n]\n' : ']\n';
    flush();
  };
  return { add, end };
}

/** Prints a single object (e.g. host settings): a JSON object under --json. */
export function printObject<R extends object>(context: CliContext, row: R, text: (row: R) => string): void {
  if (context.options().json) printJson(context, row);
  else context.stdout(`${text(row)}\n`);
}

/** Quotes a comment for text output the way it would be typed back. */
export function quoted(text: string): string {
  return JSON.stringify(text);
}

/** Unix milliseconds -> ISO 8601 without milliseconds, or null. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
