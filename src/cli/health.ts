// msnl health: is each full-duplex tunnel proven in both directions?
//
//   7: ms0 peer 10.77.0.2 remote 128.232.65.43 state up auth key tx proven rx proven rtt 1.234ms loss 0% pmtu 1500 heard 0.5s ago
//       exit 198.51.100.2:7001 priority 10 state active rtt 0.412ms loss 0% pmtu 1500     (a route with several exits)
//       exit 203.0.113.2:7001 priority 20 state standby rtt 0.398ms loss 0% pmtu 1400
//
//   0: ms0 peer 10.77.0.2 remote 128.232.65.43 state down ... reason timeout failed 3.2s ago
//
// --check exits 3 when any tunnel is not fully up, or when a call to a mapped destination failed
// in the last CHECK_FAILED_WINDOW_S seconds. No tunnels at all exits 0: tunnels are set up on demand
// and torn down when idle, so an idle host has none and is healthy. A failed call older than the
// window still shows as down (until a call succeeds or the mapping goes) but no longer fails the
// check: nothing has tried to reach that destination since.
// --watch redraws every second until interrupted (exit 0); a daemon that goes away ends it (exit 2).

import type { Command } from 'commander';
import { ArgumentError } from '../abi/inet.js';
import { parseExits, type ExitRow, type HealthRow } from '../control/rows.js';
import { exitStateText } from './route.js';
import type { CliContext } from './context.js';
import { EXIT_CHECK } from './errors.js';
import { printRows, rowPrinter } from './output.js';
import { FILTER_STATES, type RowFilter } from '../control/protocol.js';
import { addFilterOptions, rowFilter, type FilterOptions } from './filter.js';

const WATCH_INTERVAL_MS = 1000;
/** A failed call fails `health --check` for this long (seconds): one monitoring interval of 5 minutes. */
export const CHECK_FAILED_WINDOW_S = 300;

const proven = (value: boolean): string => (value ? 'proven' : 'unproven');

/** A health row as msnl prints it: its exits (a route with several) as a list, not the wire's text. */
export type HealthOutputRow = Omit<HealthRow, 'exits'> & { exits: ExitRow[] | null };

/** Turns the wire's exits text into a list (null when the route has one exit). */
export function healthOutput(row: HealthRow): HealthOutputRow {
  const { exits, ...rest } = row;
  const list = exits === null ? null : parseExits(exits);
  return { ...rest, exits: Array.isArray(list) ? list : null };
}

export function healthText(row: Omit<HealthRow, 'exits'> & { exits?: ExitRow[] | string | null }): string {
  const exits = typeof row.exits === 'string' ? healthOutput({ ...row, exits: row.exits }).exits : row.exits;
  const rtt = row.rtt_ms === null ? '-' : `${row.rtt_ms.toFixed(3)}ms`;
  const heard = row.last_heard_s === null ? 'never' : `${Number(row.last_heard_s.toFixed(1))}s ago`;
  return (
    `${row.connection}: ${row.interface} peer ${row.peer_ip} remote ${row.remote_address} state ${row.state} auth ${row.auth} ` +
    `tx ${proven(row.tx_proven)} rx ${proven(row.rx_proven)} rtt ${rtt} loss ${Number((row.loss * 100).toFixed(1))}%${row.pmtu === null ? '' : ` pmtu ${row.pmtu}`} heard ${heard}` +
    (row.reason === null ? '' : ` reason ${row.reason} failed ${row.failed_s === null ? '?' : `${Number(row.failed_s.toFixed(1))}s`} ago`) +
    (exits ?? []).map((e) => `\n    exit ${e.endpoint} priority ${e.priority} ${exitStateText(e)}`).join('')
  );
}

/** Whether a row is only an old failed call: no connection, never heard, failed before the window. */
function staleFailure(row: HealthRow, windowS: number): boolean {
  return row.connection === 0 && row.last_heard_s === null && row.failed_s !== null && row.failed_s > windowS;
}

/**
 * True when every tunnel is up (vacuously true for none) and no call to a mapped destination
 * failed in the last `windowS` seconds.
 */
export function allUp(rows: readonly HealthRow[], windowS = CHECK_FAILED_WINDOW_S): boolean {
  return rows.every((row) => row.state === 'up' || staleFailure(row, windowS));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

async function watch(context: CliContext, filter: RowFilter | undefined): Promise<void> {
  await context.untilInterrupted(async (signal) => {
    while (!signal.aborted) {
      const rows = await context.daemon('read tunnel health', (client) => client.health(filter));
      if (context.stdoutIsTty) context.stdout('\x1b[H\x1b[2J');
      if (!context.options().json) context.stdout(`Every 1s: msnl health    ${new Date(context.clock()).toISOString()}\n\n`);
      printRows(context, rows.map(healthOutput), healthText);
      await sleep(WATCH_INTERVAL_MS, signal);
    }
  });
}

export function register(program: Command, context: CliContext): void {
  const command = program
    .command('health')
    .description('full-duplex tunnel health: state, RTT, loss, path MTU, last heard, per direction; failed calls as down')
    .option('--watch', 'redraw every second until interrupted')
    .option('--check', `exit 3 unless every tunnel is up in both directions and no call failed in the last ${CHECK_FAILED_WINDOW_S}s`);
  addFilterOptions(command, FILTER_STATES.health).action(async (options: { watch?: boolean; check?: boolean } & FilterOptions) => {
    if (options.watch && options.check) throw new ArgumentError('--check', 'cannot be used with --watch');
    const filter = rowFilter(options, FILTER_STATES.health);
    if (options.watch) return watch(context, filter);
    // Printed as the rows arrive (a reply of any size is not held); --check judges them on the way.
    const printer = rowPrinter<HealthOutputRow>(context, healthText);
    let up = true;
    await context.daemon('read tunnel health', (client) =>
      client.eachHealth(filter, (row) => {
        printer.add(healthOutput(row));
        if (options.check && up && !allUp([row])) up = false;
      }),
    );
    printer.end();
    if (!up) context.exitStatus = EXIT_CHECK;
  });
}
