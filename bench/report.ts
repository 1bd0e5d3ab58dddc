// The benchmark's report (pure): one table, a row per figure and a column per tunnel path, each
// cell the median of its samples, followed by the ratios msnl/OpenVPN and msnl/kernel VXLAN.
// A cell whose measurement failed shows "fail" and the reasons are listed under the table.
import { median } from './measure.js';

export interface Figure {
  readonly key: string;
  readonly title: string;
  readonly unit: string;
  /** Digits after the point in the table. */
  readonly digits: number;
}

export interface Column {
  readonly label: string;
  /** Samples by figure key; a string is the reason the figure failed; absent means not applicable. */
  readonly values: Readonly<Record<string, readonly number[] | string | undefined>>;
}

export interface RatioSpec {
  /** Column label of the numerator (an msnl path) and of the denominator (a peer). */
  readonly over: string;
  readonly under: string;
  readonly label: string;
}

/** The median of a cell, or undefined when it failed or does not apply. */
export function cellValue(cell: readonly number[] | string | undefined): number | undefined {
  if (cell === undefined || typeof cell === 'string' || cell.length === 0) return undefined;
  const value = median(cell);
  return Number.isFinite(value) ? value : undefined;
}

/** a / b, or undefined when either is missing or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return a / b;
}

function formatCell(cell: readonly number[] | string | undefined, digits: number): string {
  if (cell === undefined) return '-';
  if (typeof cell === 'string') return 'fail';
  const value = cellValue(cell);
  return value === undefined ? 'fail' : value.toFixed(digits);
}

function formatRatio(value: number | undefined): string {
  if (value === undefined) return '-';
  // Two significant digits below 0.1, so a small ratio never prints as 0.00x.
  const text = value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
  return `${text}x`;
}

/** Renders the table as fixed-width text, failures listed after it. */
export function renderTable(figures: readonly Figure[], columns: readonly Column[], ratios: readonly RatioSpec[]): string {
  const header = ['figure', ...columns.map((c) => c.label), ...ratios.map((r) => r.label)];
  const rows: string[][] = [header];
  const failures: string[] = [];
  for (const figure of figures) {
    const row = [`${figure.title} (${figure.unit})`];
    for (const column of columns) {
      const cell = column.values[figure.key];
      row.push(formatCell(cell, figure.digits));
      if (typeof cell === 'string') failures.push(`${column.label}, ${figure.title}: ${cell}`);
    }
    for (const spec of ratios) {
      const over = columns.find((c) => c.label === spec.over);
      const under = columns.find((c) => c.label === spec.under);
      row.push(formatRatio(ratio(cellValue(over?.values[figure.key]), cellValue(under?.values[figure.key]))));
    }
    rows.push(row);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const lines = rows.map((row) => row.map((text, i) => (i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (failures.length > 0) lines.push('', 'failures:', ...failures.map((text) => `  ${text}`));
  return lines.join('\n');
}
