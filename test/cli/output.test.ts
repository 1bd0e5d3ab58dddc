// The row printer streams rows (msnl conn show / health of any size) and must print exactly what
// printing the whole array at once printed: JSON.stringify's text under -j and -j -p.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CliContext } from '../../src/cli/context.js';
import { printRows, rowPrinter } from '../../src/cli/output.js';

function context(json: boolean, pretty: boolean, out: string[]): CliContext {
  return { options: () => ({ json, pretty }), stdout: (text: string) => void out.push(text) } as unknown as CliContext;
}

const rows = Array.from({ length: 3000 }, (_, i) => ({ connection: i, interface: `ms${i % 4}`, rtt_ms: i % 3 === 0 ? null : i / 7, note: 'a "quoted"\nline' }));
const text = (row: (typeof rows)[number]): string => `${row.connection}: ${row.interface}`;

test('streamed rows print as the whole array did: text, JSON and pretty JSON, empty or not', () => {
  for (const list of [rows, rows.slice(0, 1), []]) {
    for (const [json, pretty] of [[false, false], [true, false], [true, true]] as const) {
      const out: string[] = [];
      const printer = rowPrinter(context(json, pretty, out), text);
      for (const row of list) printer.add(row);
      printer.end();
      const expected = json ? `${JSON.stringify(list, null, pretty ? 2 : undefined)}\n` : list.map((row) => `${text(row)}\n`).join('');
      assert.equal(out.join(''), expected, `${list.length} rows, json ${json}, pretty ${pretty}`);
      if (list.length === 3000) assert.ok(out.length < 100, `${out.length} writes for 3000 rows, not one per row`);
      const whole: string[] = [];
      printRows(context(json, pretty, whole), list, text);
      assert.equal(whole.join(''), expected);
    }
  }
});
