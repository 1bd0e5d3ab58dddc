// msnl conn: the daemon's MSNL connections (one per interface and IP peer), and tearing one down.
//
//   msnl conn [show] [--interface IF] [--peer IP] [--state STATE]   (filtered by msnld)
//                         7: ms0 peer 10.77.0.2 local SAP remote SAP state open auth key age 12s initiator local pmtu 1500
//                             rx 3 packets 252 bytes tx 5 packets 420 bytes
//                         call: ms0 peer 10.77.0.2 remote 128.232.65.43:0x0800 state failed reason timeout 3s ago
//                         (a call in progress shows `state calling for 2s`)
//   msnl conn del ID      disconnect one connection (the tunnel reconnects on the next packet)

import type { Command } from 'commander';
import type { ConnectionRow } from '../control/rows.js';
import { FILTER_STATES } from '../control/protocol.js';
import { parseInteger } from './args.js';
import type { CliContext } from './context.js';
import { must } from './errors.js';
import { rowPrinter } from './output.js';
import { addFilterOptions, rowFilter, type FilterOptions } from './filter.js';

export function connectionText(row: ConnectionRow): string {
  // A call in progress or a failed call: no connection id, no counters yet.
  if (row.state === 'calling') return `call: ${row.interface} peer ${row.peer_ip} remote ${row.remote_sap} state calling for ${row.age_s}s`;
  if (row.state === 'failed') {
    return `call: ${row.interface} peer ${row.peer_ip} remote ${row.remote_sap} state failed reason ${row.reason ?? 'unknown'} ${row.age_s}s ago`;
  }
  return (
    `${row.connection}: ${row.interface} peer ${row.peer_ip} local ${row.local_sap} remote ${row.remote_sap} ` +
    `state ${row.state} auth ${row.auth} age ${row.age_s}s initiator ${row.initiator}${row.pmtu === null ? '' : ` pmtu ${row.pmtu}`}\n` +
    `    rx ${row.rx_packets} packets ${row.rx_bytes} bytes tx ${row.tx_packets} packets ${row.tx_bytes} bytes`
  );
}

export function register(program: Command, context: CliContext): void {
  const conn = program.command('conn').description('MSNL connections of msnld, and calls in progress or failed (default: show)');
  conn
    .command('show', { isDefault: true })
    .aliases(['list', 'ls'])
    .description('list the MSNL connections of the running daemon');
  addFilterOptions(conn.commands.find((c) => c.name() === 'show')!, FILTER_STATES.connections).action(async (options: FilterOptions) => {
    const filter = rowFilter(options, FILTER_STATES.connections);
    // Printed as the rows arrive: a reply of any size is never held whole.
    const printer = rowPrinter(context, connectionText);
    await context.daemon('list connections', (client) => client.eachConnection(filter, printer.add));
    printer.end();
  });
  conn
    .command('del')
    .alias('delete')
    .argument('<id>', 'connection id, as shown by msnl conn show')
    .description('disconnect one MSNL connection')
    .action(async (idText: string) => {
      const id = must(parseInteger(idText, 0, 0xffffffff, 'connection id'));
      await context.daemon('disconnect connection', (client) => client.disconnect(id));
    });
}
