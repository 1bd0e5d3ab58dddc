// msnl ifconfig: the desired state of ms0..ms3, in the spirit of ifconfig(8), with msnld's live
// fields (RUNNING, bound, connections, counters) added when the daemon answers.
import type { Command } from 'commander';
import { ArgumentError, formatDottedQuad, parseInterfaceAddress, parseNetmask, prefixMask } from '../abi/inet.js';
import { TUNNEL_INTERFACES, interfaceByName } from '../abi/interfaces.js';
import type { InterfaceConfig } from '../store/types.js';
import { parseKeywords } from './args.js';
import type { CliContext, LiveInterfaceInfo } from './context.js';
import { UsageError, must } from './errors.js';
import { printRows } from './output.js';

// Linux IFF_* values, so the number reads like ifconfig's.
const FLAG_BITS: ReadonlyArray<readonly [string, number]> = [
  ['UP', 0x1],
  ['POINTOPOINT', 0x10],
  ['RUNNING', 0x40],
  ['NOARP', 0x80],
];

export interface InterfaceRow {
  readonly [key: string]: string | number | boolean | null | readonly string[];
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly mtu: number;
  readonly admin_up: boolean;
  readonly address: string | null;
  readonly prefix_length: number | null;
  readonly netmask: string | null;
  readonly msnl_port: number;
}

/** The live fields msnld reports per interface, in the order rows and text show them. */
const LIVE_KEYS = ['oper_up', 'bound', 'connections', 'rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'drops'] as const;

/** Builds the row of one interface; live fields are present only when the daemon gave them. */
export function interfaceRow(config: InterfaceConfig, live: LiveInterfaceInfo | undefined): InterfaceRow {
  const spec = interfaceByName(config.name);
  if (spec === undefined) throw new UsageError(`unknown interface ${config.name} in the database`);
  const flags = ['POINTOPOINT', 'NOARP'];
  if (config.adminUp) flags.push('UP');
  if (live?.oper_up) flags.push('RUNNING');
  const row: Record<string, string | number | boolean | null | readonly string[]> = {
    ifname: config.name,
    flags: FLAG_BITS.map(([name]) => name).filter((name) => flags.includes(name)),
    mtu: spec.mtu,
    admin_up: config.adminUp,
    address: config.address === null ? null : formatDottedQuad(config.address),
    prefix_length: config.prefixLength,
    netmask: config.prefixLength === null ? null : formatDottedQuad(prefixMask(config.prefixLength)),
    msnl_port: spec.port,
  };
  for (const key of LIVE_KEYS) {
    const value = live?.[key];
    if (value !== undefined) row[key] = value;
  }
  return row as InterfaceRow;
}

export function interfaceText(row: InterfaceRow): string {
  const value = FLAG_BITS.reduce((sum, [name, bit]) => (row.flags.includes(name) ? sum + bit : sum), 0);
  const lines = [`${row.ifname}: flags=${value}<${row.flags.join(',')}>  mtu ${row.mtu}`];
  if (row.address !== null) lines.push(`        inet ${row.address}  netmask ${row.netmask}  prefixlen ${row.prefix_length}`);
  const bound = row.bound === undefined ? '' : row.bound ? '  bound' : '  not bound';
  lines.push(`        msnl port 0x${row.msnl_port.toString(16).padStart(4, '0')}${bound}`);
  if (row.connections !== undefined) lines.push(`        connections ${row.connections}`);
  if (row.rx_packets !== undefined || row.rx_bytes !== undefined) lines.push(`        RX packets ${row.rx_packets ?? 0}  bytes ${row.rx_bytes ?? 0}`);
  if (row.tx_packets !== undefined || row.tx_bytes !== undefined) lines.push(`        TX packets ${row.tx_packets ?? 0}  bytes ${row.tx_bytes ?? 0}`);
  if (row.drops !== undefined) lines.push(`        dropped ${row.drops}`);
  return `${lines.join('\n')}\n`;
}

async function liveInfo(context: CliContext): Promise<ReadonlyMap<string, LiveInterfaceInfo> | undefined> {
  const provider = context.live.interfaces;
  if (provider === undefined) return undefined;
  try {
    return await provider(context.options());
  } catch {
    return undefined; // no daemon: show the desired state only
  }
}

function checkName(name: string): void {
  if (interfaceByName(name) === undefined) {
    throw new ArgumentError(name, `no such interface, expected one of ${TUNNEL_INTERFACES.map((s) => s.name).join(', ')}`);
  }
}

/** Applies `msN up|down|delete` or `msN ADDR[/LEN] [netmask MASK] [up|down]`. */
function configure(context: CliContext, name: string, args: readonly string[]): void {
  const first = args[0] as string;
  if (args.length === 1 && (first === 'up' || first === 'down')) {
    context.withStore('write', (store) => store.setInterfaceAdmin(name, first === 'up'));
    return;
  }
  if (first === 'delete') {
    if (args.length > 1) throw new UsageError('"delete" takes no further arguments');
    context.withStore('write', (store) => store.deleteInterfaceAddress(name));
    return;
  }
  const keywords = parseKeywords(args.slice(1), ['netmask'], ['up', 'down']);
  if (keywords.has('up') && keywords.has('down')) throw new UsageError('give "up" or "down", not both');
  const address = must(parseInterfaceAddress(first, 32));
  const mask = keywords.get('netmask');
  let length = address.length;
  if (mask !== undefined) {
    if (first.includes('/')) throw new ArgumentError(mask, `the prefix length is already given in ${first}`);
    length = must(parseNetmask(mask));
  }
  const adminUp = keywords.has('up') ? true : keywords.has('down') ? false : undefined;
  context.withStore('write', (store) => store.setInterfaceAddress(name, { address: address.address, length }, adminUp));
}

export function register(program: Command, context: CliContext): void {
  program
    .command('ifconfig')
    .description('show or configure the tunnel interfaces ms0..ms3')
    .argument('[interface]', 'ms0, ms1, ms2 or ms3')
    .argument('[settings...]', 'ADDR[/LEN] [netmask MASK] [up|down] | up | down | delete')
    .option('-a, --all', 'list all interfaces, also those that are down')
    .addHelpText(
      'after',
      '\nWithout an interface, lists the interfaces that are up (all with -a).\n' +
        'A bare ADDR gets prefix length 32, as with ip-address(8).\n\n' +
        'Examples:\n  msnl ifconfig ms1 10.0.0.1/24 up\n  msnl ifconfig ms1 10.0.0.1 netmask 255.255.255.0\n  msnl ifconfig ms1 down\n  msnl ifconfig ms1 delete',
    )
    .action(async (name: string | undefined, settings: string[], options: { all?: boolean }) => {
      if (name !== undefined) checkName(name);
      if (name !== undefined && settings.length > 0) {
        configure(context, name, settings);
        return;
      }
      const configs = context.withStore('read', (store) => (name === undefined ? store.listInterfaces() : [store.getInterface(name)]));
      const shown = name === undefined && options.all !== true ? configs.filter((c) => c.adminUp) : configs;
      const live = await liveInfo(context);
      printRows(context, shown.map((c) => interfaceRow(c, live?.get(c.name))), interfaceText);
    });
}
