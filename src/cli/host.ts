// msnl host: this host's default MSNL address and the underlay listen address.
import type { Command } from 'commander';
import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';
import type { HostSettings } from '../store/types.js';
import { parseKeywords } from './args.js';
import type { CliContext } from './context.js';
import { UsageError, must } from './errors.js';
import { formatHostPort, parseHostPort } from '../abi/endpoint.js';
import { printObject } from './output.js';
import { ControlClient } from '../control/client.js';
import type { StatusRow } from '../control/rows.js';

export interface HostRow {
  readonly [key: string]: string | number;
  readonly msnl_address: string;
  readonly listen_host: string;
  readonly listen_port: number;
}

export function hostRow(host: HostSettings): HostRow {
  return { msnl_address: formatDottedQuad(host.msnlAddress), listen_host: host.listenHost, listen_port: host.listenPort };
}

export function register(program: Command, context: CliContext): void {
  const host = program.command('host').description("this host's MSNL address and underlay listen address (default: show)");

  host
    .command('show', { isDefault: true })
    .description('show the host settings')
    .action(async () => {
      const settings = context.withStore('read', (store) => store.getHost());
      const row: Record<string, string | number> = { ...hostRow(settings) };
      // A running msnld whose command line overrides a stored setting: show what it uses too.
      const status = await runningStatus(context.options().socket);
      const overridden = (status?.overrides ?? '').split(',');
      if (status !== undefined && overridden.includes('address')) row.address_in_effect = status.address ?? '(none)';
      if (status !== undefined && overridden.includes('listen')) row.listen_in_effect = status.listen ?? '(none)';
      const note = (key: string): string => (row[key] === undefined ? '' : ` (stored; msnld uses ${row[key]} from its command line)`);
      printObject(context, row, (r) => `address ${r.msnl_address}${note('address_in_effect')}\nlisten ${formatHostPort({ host: String(r.listen_host), port: Number(r.listen_port) })}${note('listen_in_effect')}`);
    });

  host
    .command('set')
    .description('set the default MSNL address and/or the underlay UDP listen address')
    .argument('<settings...>', 'address MSNLADDR | listen HOST:PORT')
    .addHelpText('after', '\nExamples:\n  msnl host set address 128.232.65.42\n  msnl host set listen 0.0.0.0:1994')
    .action((settings: string[]) => {
      const keywords = parseKeywords(settings, ['address', 'listen']);
      if (keywords.size === 0) throw new UsageError('nothing to set: give address MSNLADDR and/or listen HOST:PORT');
      const addressText = keywords.get('address');
      const listenText = keywords.get('listen');
      const msnlAddress = addressText === undefined ? undefined : must(parseDottedQuad(addressText, 'MSNL address'));
      const listen = listenText === undefined ? undefined : must(parseHostPort(listenText));
      context.withStore('write', (store) => store.updateHost({ msnlAddress, listenHost: listen?.host, listenPort: listen?.port }));
    });
}

/** msnld's status when it answers within a second, else undefined (not running, no permission, ...). */
async function runningStatus(socket: string): Promise<StatusRow | undefined> {
  try {
    return await new ControlClient(socket, { timeoutMs: 1000 }).status();
  } catch {
    return undefined;
  }
}
