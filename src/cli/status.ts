// msnl status: is the daemon up, and with what identity, underlay and counters.
//
//   msnld running pid 1234 version 0.1.0 uptime 3h2m5s
//   address 128.232.65.42 listen 0.0.0.0:7000
//   database /var/lib/msnl/msnl.db socket /run/msnl/msnld.sock
//   counters:
//       rx_frames 123
//
// With the daemon down it prints `Error: msnld is not running (no control socket at PATH)` and
// exits 2, like every other live command, so scripts can test `msnl status` alone.

import type { Command } from 'commander';
import type { StatusRow } from '../control/rows.js';
import type { CliContext } from './context.js';
import { printObject } from './output.js';

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

export function statusText(row: StatusRow): string {
  const lines = [
    `msnld running pid ${row.pid} version ${row.version} uptime ${formatDuration(row.uptime_s)}`,
    `address ${row.msnl_address ?? '(none)'} listen ${row.listen ?? '(none)'}`,
  ];
  if (row.fleet !== undefined && row.fleet !== null) lines.push(`fleet ${row.fleet}`);
  if (row.db !== null || row.socket !== null) lines.push(`database ${row.db ?? '(unknown)'} socket ${row.socket ?? '(unknown)'}`);
  const names = Object.keys(row.counters).sort();
  if (names.length > 0) lines.push('counters:', ...names.map((name) => `    ${name} ${row.counters[name]}`));
  return lines.join('\n');
}

export function register(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('daemon up?, default MSNL address, underlay, counters')
    .action(async () => {
      printObject(context, await context.daemon('read daemon status', (client) => client.status()), statusText);
    });
}
