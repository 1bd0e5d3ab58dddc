// msnl status: is the daemon up, and with what identity, underlay and counters.
//
//   msnld running pid 1234 version 0.1.0 uptime 3h2m5s
//   address 128.232.65.42 listen 0.0.0.0:7000
//   counters:
//       rx_frames 123
//
// With the daemon down it prints `Error: msnld is not running (no control socket at PATH)` and
// exits 2, like every other live command, so scripts can test `msnl status` alone.

import type { Command } from 'commander';
import type { StatusRow } from '../control/rows.js';
import type { CliContext, Field } from './context.js';

/** `3h2m5s`, `2m5s`, `5s`, `1d0h0m0s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (d > 0) return `${d}d${h}h${m}m${rest}s`;
  if (h > 0) return `${h}h${m}m${rest}s`;
  if (m > 0) return `${m}m${rest}s`;
  return `${rest}s`;
}

function formatCounters(counters: Record<string, number>): string {
  const names = Object.keys(counters).sort();
  if (names.length === 0) return '';
  return `\ncounters:${names.map((name) => `\n    ${name} ${counters[name]}`).join('')}`;
}

export const STATUS_FIELDS: readonly Field<StatusRow>[] = [
  { key: 'pid', text: 'msnld running pid %s ' },
  { key: 'version', text: 'version %s ' },
  { key: 'uptime_s', text: 'uptime %s\n', show: (v: number) => formatDuration(v) },
  { key: 'address', text: 'address %s ', none: '(none)' },
  { key: 'listen', text: 'listen %s', none: '(none)' },
  { key: 'counters', text: '%s', show: (v: Record<string, number>) => formatCounters(v) },
];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('daemon up?, default MSNL address, underlay, counters')
    .action(
      ctx.action('read daemon status', async () => {
        ctx.printObject(await ctx.client().status(), STATUS_FIELDS);
      }),
    );
}
