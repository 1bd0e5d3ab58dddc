// msnl health: is each full-duplex tunnel proven in both directions?
//
//   7: ms0 peer 10.77.0.2 remote 128.232.65.43 state up tx proven rx proven rtt 1.234ms loss 0% heard 0.5s ago
//
// --check exits 3 when any tunnel is not fully up. No tunnels at all exits 0: tunnels are set up
// on demand and torn down when idle, so an idle host has none and is healthy.
// --watch redraws every second until interrupted (exit 0); a daemon that goes away ends it (exit 2).

import type { Command } from 'commander';
import { ArgumentError } from '../abi/inet.js';
import type { HealthRow } from '../control/rows.js';
import { EXIT_CHECK, EXIT_OK, type CliContext, type Field } from './context.js';

const proven = (value: boolean): string => (value ? 'proven' : 'unproven');

export const HEALTH_FIELDS: readonly Field<HealthRow>[] = [
  { key: 'connection', text: '%s: ' },
  { key: 'interface', text: '%s ' },
  { key: 'peer_ip', text: 'peer %s ' },
  { key: 'remote_address', text: 'remote %s ' },
  { key: 'state', text: 'state %s ' },
  { key: 'tx_proven', text: 'tx %s ', show: proven },
  { key: 'rx_proven', text: 'rx %s ', show: proven },
  { key: 'rtt_ms', text: 'rtt %s ', show: (v: number) => `${v.toFixed(3)}ms`, none: '-' },
  { key: 'loss', text: 'loss %s ', show: (v: number) => `${Number((v * 100).toFixed(1))}%` },
  { key: 'last_heard_s', text: 'heard %s', show: (v: number) => `${Number(v.toFixed(1))}s ago`, none: 'never' },
];

/** True when every tunnel is up (vacuously true for none). */
export function allUp(rows: readonly HealthRow[]): boolean {
  return rows.every((row) => row.state === 'up');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('health')
    .description('full-duplex tunnel health: state, RTT, loss, last heard, per direction')
    .option('--watch', 'redraw every second until interrupted')
    .option('--check', 'exit 3 unless every tunnel is up in both directions')
    .action(
      ctx.action('read tunnel health', async (options: { watch?: boolean; check?: boolean }) => {
        if (options.watch && options.check) throw new ArgumentError('--check', 'cannot be used with --watch');
        const client = ctx.client();
        if (!options.watch) {
          const rows = await client.health();
          ctx.printList(rows, HEALTH_FIELDS);
          if (options.check) ctx.io.exit(allUp(rows) ? EXIT_OK : EXIT_CHECK);
          return;
        }
        process.once('SIGINT', () => ctx.io.exit(EXIT_OK));
        const tty = process.stdout.isTTY === true;
        for (;;) {
          const rows = await client.health();
          if (tty) ctx.io.stdout('\x1b[H\x1b[2J');
          if (!ctx.globals().json) ctx.io.stdout(`Every 1s: msnl health    ${new Date().toISOString()}\n\n`);
          ctx.printList(rows, HEALTH_FIELDS);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }),
    );
}
