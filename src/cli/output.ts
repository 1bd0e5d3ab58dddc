// One printer for text and JSON (iproute2's PRINT_ANY idea): a command builds plain row objects
// with snake_case keys once; text lines are formatted from those rows, JSON prints them as they are.
// msnld's control rows are printed as the daemon sent them: one name per field, on the wire and in -j.
import type { CliContext } from './context.js';

/** Prints one JSON value on a line, indented under -p/--pretty. */
export function printJson(context: CliContext, value: unknown): void {
  context.stdout(`${JSON.stringify(value, null, context.options().pretty ? 2 : undefined)}\n`);
}

/** Prints a list: a JSON array under --json, otherwise one text block per row. */
export function printRows<R extends object>(context: CliContext, rows: readonly R[], text: (row: R) => string): void {
  if (context.options().json) {
    printJson(context, rows);
    return;
  }
  for (const row of rows) context.stdout(`${text(row)}\n`);
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
