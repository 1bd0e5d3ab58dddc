// msnl conn: the daemon's MSNL connections (one per interface and IP peer), and tearing one down.
//
//   msnl conn [show]      7: ms0 peer 10.77.0.2 local SAP remote SAP state open age 12s initiator local
//                             rx 3 packets 252 bytes tx 5 packets 420 bytes
//   msnl conn del ID      disconnect one connection (the tunnel reconnects on the next packet)

import type { Command } from 'commander';
import { ArgumentError } from '../abi/inet.js';
import { parseUint } from '../control/protocol.js';
import type { ConnectionRow } from '../control/rows.js';
import type { CliContext, Field } from './context.js';

export const CONNECTION_FIELDS: readonly Field<ConnectionRow>[] = [
  { key: 'connection', text: '%s: ' },
  { key: 'interface', text: '%s ' },
  { key: 'peer_ip', text: 'peer %s ' },
  { key: 'local_sap', text: 'local %s ' },
  { key: 'remote_sap', text: 'remote %s ' },
  { key: 'state', text: 'state %s ' },
  { key: 'age_s', text: 'age %ss ' },
  { key: 'initiator', text: 'initiator %s\n    ' },
  { key: 'rx_packets', text: 'rx %s packets ' },
  { key: 'rx_bytes', text: '%s bytes ' },
  { key: 'tx_packets', text: 'tx %s packets ' },
  { key: 'tx_bytes', text: '%s bytes' },
];

export function register(program: Command, ctx: CliContext): void {
  const conn = program.command('conn').description('MSNL connections: interface, peer IP, SAPs, state, age, rx/tx');
  conn
    .command('show', { isDefault: true })
    .description('list the MSNL connections of the running daemon')
    .action(
      ctx.action('list connections', async () => {
        ctx.printList(await ctx.client().connections(), CONNECTION_FIELDS);
      }),
    );
  conn
    .command('del')
    .alias('delete')
    .argument('<id>', 'connection id, as shown by msnl conn show')
    .description('disconnect one MSNL connection')
    .action(
      ctx.action('disconnect connection', async (idText: string) => {
        const id = parseUint(idText);
        if (id === undefined || id > 0xffffffff) throw new ArgumentError(idText, 'connection id is not a number');
        await ctx.client().disconnect(id);
      }),
    );
}
