// msnl ifconfig: ms0..ms3 in the spirit of ifconfig(8). When msnld answers, the flags and the inet
// line are the kernel's as they are now, msnld's live fields (RUNNING, bound, connections,
// counters) are added, and a `stored` line shows the database's state where it differs from the
// kernel (an address set or removed with ip(8)). Without the daemon, the stored state alone.
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
  readonly interface: string;
  readonly flags: readonly string[];
  readonly mtu: number;
  readonly admin_up: boolean;
  readonly address: string | null;
  readonly prefix_length: number | null;
  readonly netmask: string | null;
  readonly msnl_port: number;
}

/** The kernel's side of a row, present when the daemon reported it. */
interface KernelState {
  readonly address: string | null;
  readonly prefixLength: number | null;
  readonly adminUp: boolean;
}

function kernelState(live: LiveInterfaceInfo | undefined): KernelState | undefined {
  if (live?.admin_up === undefined) return undefined;
  const text = live.address ?? null;
  const slash = text === null ? -1 : text.indexOf('/');
  if (text === null || slash < 0) return { address: null, prefixLength: null, adminUp: live.admin_up };
  return { address: text.slice(0, slash), prefixLength: Number(text.slice(slash + 1)), adminUp: live.admin_up };
}

/** The live fields msnld reports per interface, in the order rows and text show them. */
const LIVE_KEYS = ['oper_up', 'bound', 'connections', 'rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'drops'] as const;

/**
 * Builds the row of one interface. `admin_up`, `address`, `prefix_length` and `netmask` are the
 * stored state; `kernel_admin_up`, `kernel_address`, `kernel_prefix_length` and `differs` (the
 * names of the stored fields the kernel does not match) come with the daemon's live fields, and
 * then `flags` are the kernel's.
 */
export function interfaceRow(config: InterfaceConfig, live: LiveInterfaceInfo | undefined): InterfaceRow {
  const spec = interfaceByName(config.name);
  if (spec === undefined) throw new UsageError(`unknown interface ${config.name} in the database`);
  const kernel = kernelState(live);
  const flags = ['POINTOPOINT', 'NOARP'];
  if (kernel?.adminUp ?? config.adminUp) flags.push('UP');
  if (live?.oper_up) flags.push('RUNNING');
  const address = config.address === null ? null : formatDottedQuad(config.address);
  const row: Record<string, string | number | boolean | null | readonly string[]> = {
    interface: config.name,
    flags: FLAG_BITS.map(([name]) => name).filter((name) => flags.includes(name)),
    mtu: spec.mtu,
    admin_up: config.adminUp,
    address,
    prefix_length: config.prefixLength,
    netmask: config.prefixLength === null ? null : formatDottedQuad(prefixMask(config.prefixLength)),
    msnl_port: spec.port,
  };
  if (kernel !== undefined) {
    row.kernel_admin_up = kernel.adminUp;
    row.kernel_address = kernel.address;
    row.kernel_prefix_length = kernel.prefixLength;
    const differs: string[] = [];
    if (kernel.address !== address || kernel.prefixLength !== config.prefixLength) differs.push('address');
    if (kernel.adminUp !== config.adminUp) differs.push('admin_up');
    row.differs = differs;
  }
  for (const key of LIVE_KEYS) {
    const value = live?.[key];
    if (value !== undefined) row[key] = value;
  }
  return row as InterfaceRow;
}

function inetText(address: unknown, prefixLength: unknown): string {
  if (typeof address !== 'string' || typeof prefixLength !== 'number') return '';
  return `inet ${address}  netmask ${formatDottedQuad(prefixMask(prefixLength))}  prefixlen ${prefixLength}`;
}

export function interfaceText(row: InterfaceRow): string {
  const value = FLAG_BITS.reduce((sum, [name, bit]) => (row.flags.includes(name) ? sum + bit : sum), 0);
  const lines = [`${row.interface}: flags=${value}<${row.flags.join(',')}>  mtu ${row.mtu}`];
  const kernelKnown = row.kernel_admin_up !== undefined;
  const inet = kernelKnown ? inetText(row.kernel_address, row.kernel_prefix_length) : inetText(row.address, row.prefix_length);
  if (inet !== '') lines.push(`        ${inet}`);
  if (Array.isArray(row.differs) && row.differs.length > 0) {
    const stored = row.address === null ? 'no address' : `inet ${row.address}/${row.prefix_length}`;
    lines.push(`        stored ${stored}  ${row.admin_up ? 'up' : 'down'}  (the kernel differs: ${row.differs.join(', ')})`);
  }
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
        'A bare ADDR gets prefix length 32, as with ip-address(8).\n' +
        'With msnld running, flags and inet are the kernel\'s; a "stored" line shows the database\'s state\n' +
        'where the kernel differs (changed with ip). msnld leaves such changes alone until\n' +
        '"msnl reload" or an msnl edit of that interface; interfaces without a stored address that\n' +
        'are stored down belong to ip and msnld never touches them.\n\n' +
        'Examples:\n  msnl ifconfig ms1 10.0.0.1/24 up\n  msnl ifconfig ms1 10.0.0.1 netmask 255.255.255.0\n  msnl ifconfig ms1 down\n  msnl ifconfig ms1 delete',
    )
    .action(async (name: string | undefined, settings: string[], options: { all?: boolean }) => {
      if (name !== undefined) checkName(name);
      if (name !== undefined && settings.length > 0) {
        configure(context, name, settings);
        return;
      }
      const configs = context.withStore('read', (store) => (name === undefined ? store.listInterfaces() : [store.getInterface(name)]));
      const live = await liveInfo(context);
      const rows = configs.map((c) => interfaceRow(c, live?.get(c.name)));
      // Up as the kernel has it when the daemon says, else as stored.
      const shown = name === undefined && options.all !== true ? rows.filter((r) => r.kernel_admin_up ?? r.admin_up) : rows;
      printRows(context, shown, interfaceText);
    });
}
