// The whole-configuration file of `msnl showconf` and `msnl apply`: an INI-like text in the spirit
// of wg-quick's NAME.conf, one section per table and one `KEY = VALUE` line per entry, so a bad line
// can be named by number, the file diffs well under version control, and no parser dependency is
// needed for what are flat records. Pure: parse, format and compare; the store is the caller's.
//
//   [Host]
//   Address = 128.232.0.1          # default MSNL address (left out when not set)
//   Listen = 0.0.0.0:1994          # underlay UDP HOST:PORT
//   [Interfaces]
//   ms0 = 10.0.0.1/24 up           # ADDR/LEN or none, then up or down; unlisted: none down
//   [Routes]
//   128.232.0.2/32 = 192.0.2.2:1994 key PUBKEY   # or: auth none
//   128.232.0.3/32 = 198.51.100.3:1994 priority 10 via 203.0.113.3:1994 priority 20 key PUBKEY mtu 1400
//   [Mappings]
//   10.0.0.2/32 = 128.232.0.2 comment lab B
//
// Blank lines and lines starting with # or ; are ignored; section and key names are not
// case-sensitive. Mappings with a lifetime are runtime state: showconf leaves them out and apply
// leaves them alone unless the file names the same prefix. The host's private key is not part of
// the file (it stays in the database, see `msnl host key`); routes carry the peers' public keys.

import { ArgumentError, formatDottedQuad, formatIpv4Prefix, parseDottedQuad, parseInterfaceAddress, parseIpv4Prefix, type Ipv4Prefix } from '../abi/inet.js';
import { formatHostPort, parseHostPort } from '../abi/endpoint.js';
import { TUNNEL_INTERFACES, interfaceByName } from '../abi/interfaces.js';
import { formatRouteWords, parseRouteWords, sameRouteSpec, type RouteSpec } from './route-spec.js';
import type { DesiredState } from '../store/types.js';
import { LineError } from './errors.js';

export interface ConfInterface {
  readonly address: Ipv4Prefix | null;
  readonly adminUp: boolean;
}

export interface ConfMapping {
  readonly prefix: Ipv4Prefix;
  readonly msnlAddress: number;
  readonly comment: string;
}

/** A route: its first exit, further exits, key (null: `auth none`) and pinned MTU (route-spec.ts). */
export interface ConfRoute extends RouteSpec {
  readonly prefix: Ipv4Prefix;
}

/** `HOST:PORT [priority N] [via HOST:PORT [priority N]]... key PUBKEY|auth none [mtu N]`: `msnl route add`'s words, the first `via` left out. */
function parseRouteValue(value: string): RouteSpec {
  const words = value.split(/\s+/);
  const spec = parseRouteWords(words[0] === 'via' ? words : ['via', ...words]);
  if (typeof spec === 'string') throw new Error(spec);
  return spec;
}

/** A whole configuration: what the database is made equal to. */
export interface Conf {
  readonly host: { readonly msnlAddress: number; readonly listenHost: string; readonly listenPort: number };
  /** ms0..ms3, every one present. */
  readonly interfaces: ReadonlyMap<string, ConfInterface>;
  readonly routes: readonly ConfRoute[];
  readonly mappings: readonly ConfMapping[];
}

/** The listen address a file without `Listen` gets (the database's default). */
export const DEFAULT_LISTEN = { host: '0.0.0.0', port: 1994 } as const;

type Section = 'host' | 'interfaces' | 'routes' | 'mappings';
const SECTIONS: ReadonlyMap<string, Section> = new Map([['host', 'host'], ['interfaces', 'interfaces'], ['routes', 'routes'], ['mappings', 'mappings']]);

/** A prefix as one number (address and length), for maps of 100 000 entries. */
function prefixKey(prefix: Ipv4Prefix): number {
  return prefix.address * 64 + prefix.length;
}

function ok<T>(value: T | ArgumentError): T {
  if (value instanceof ArgumentError) throw value;
  return value;
}

/** Parses a configuration; a bad line throws LineError naming it (and nothing is applied). */
export function parseConf(text: string): Conf {
  let section: Section | undefined;
  let msnlAddress = 0;
  let listen: { host: string; port: number } = { ...DEFAULT_LISTEN };
  const interfaces = new Map<string, ConfInterface>();
  const routes = new Map<number, ConfRoute>();
  const mappings = new Map<number, ConfMapping>();
  const seenHostKeys = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    try {
      const header = line.startsWith('[') ? /^\[\s*([A-Za-z]+)\s*\]$/.exec(line) : null;
      if (header !== null) {
        section = SECTIONS.get(header[1]!.toLowerCase());
        if (section === undefined) throw new Error(`unknown section [${header[1]}], expected [Host], [Interfaces], [Routes] or [Mappings]`);
        return;
      }
      const eq = line.indexOf('=');
      if (eq < 0) throw new Error('expected KEY = VALUE or a [Section]');
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === '' || value === '') throw new Error('expected KEY = VALUE');
      if (section === undefined) throw new Error('an entry before any [Section]');
      switch (section) {
        case 'host': {
          const name = key.toLowerCase();
          if (seenHostKeys.has(name)) throw new Error(`${key} is given twice`);
          seenHostKeys.add(name);
          if (name === 'address') msnlAddress = ok(parseDottedQuad(value));
          else if (name === 'listen') listen = { ...ok(parseHostPort(value)) };
          else throw new Error(`unknown key ${key} in [Host], expected Address or Listen`);
          return;
        }
        case 'interfaces': {
          const name = key.toLowerCase();
          if (interfaceByName(name) === undefined) throw new Error(`no interface ${key}, expected one of ${TUNNEL_INTERFACES.map((s) => s.name).join(', ')}`);
          if (interfaces.has(name)) throw new Error(`${name} is given twice`);
          const words = value.split(/\s+/);
          if (words.length !== 2 || (words[1] !== 'up' && words[1] !== 'down')) throw new Error('expected ADDR/LEN or none, then up or down');
          const address = words[0] === 'none' ? null : ok(parseInterfaceAddress(words[0]!, 32));
          interfaces.set(name, { address, adminUp: words[1] === 'up' });
          return;
        }
        case 'routes': {
          const prefix = ok(parseIpv4Prefix(key));
          if (routes.has(prefixKey(prefix))) throw new Error(`route ${formatIpv4Prefix(prefix)} is given twice`);
          routes.set(prefixKey(prefix), { prefix, ...parseRouteValue(value) });
          return;
        }
        case 'mappings': {
          const prefix = ok(parseIpv4Prefix(key));
          if (mappings.has(prefixKey(prefix))) throw new Error(`mapping ${formatIpv4Prefix(prefix)} is given twice`);
          const match = /^(\S+)(?:\s+comment\s+(.*))?$/.exec(value);
          if (match === null) throw new Error('expected MSNLADDR [comment TEXT]');
          mappings.set(prefixKey(prefix), { prefix, msnlAddress: ok(parseDottedQuad(match[1]!)), comment: match[2] ?? '' });
          return;
        }
      }
    } catch (error) {
      throw new LineError(index + 1, error instanceof Error ? error : new Error(String(error)));
    }
  });
  for (const spec of TUNNEL_INTERFACES) if (!interfaces.has(spec.name)) interfaces.set(spec.name, { address: null, adminUp: false });
  return {
    host: { msnlAddress, listenHost: listen.host, listenPort: listen.port },
    interfaces,
    routes: [...routes.values()].sort(byPrefix),
    mappings: [...mappings.values()].sort(byPrefix),
  };
}

function byPrefix(a: { prefix: Ipv4Prefix }, b: { prefix: Ipv4Prefix }): number {
  return a.prefix.address - b.prefix.address || a.prefix.length - b.prefix.length;
}

/** The configuration a stored state amounts to (mappings with a lifetime left out). */
export function confOf(state: DesiredState): Conf {
  const interfaces = new Map<string, ConfInterface>();
  for (const i of state.interfaces) {
    const address = i.address === null || i.prefixLength === null ? null : { address: i.address, length: i.prefixLength };
    interfaces.set(i.name, { address, adminUp: i.adminUp });
  }
  return {
    host: { ...state.host },
    interfaces,
    // Fleet rows (origin cluster) are msnld's to write, not part of this host's configuration.
    routes: state.routes.filter((r) => r.origin !== 'cluster').map((r) => ({
      prefix: r.prefix, host: r.host, port: r.port, publicKey: r.publicKey ?? null,
      ...(r.priority === undefined ? {} : { priority: r.priority }), ...(r.moreExits === undefined ? {} : { moreExits: r.moreExits }), ...(r.mtu === undefined || r.mtu === null ? {} : { mtu: r.mtu }),
    })),
    mappings: state.mappings.filter((m) => m.expiresAt === null && m.origin !== 'cluster').map((m) => ({ prefix: m.prefix, msnlAddress: m.msnlAddress, comment: m.comment })),
  };
}

function interfaceValue(i: ConfInterface): string {
  const address = i.address === null ? 'none' : `${formatDottedQuad(i.address.address)}/${i.address.length}`;
  return `${address} ${i.adminUp ? 'up' : 'down'}`;
}

const routeValue = (r: ConfRoute): string => formatRouteWords(r).replace(/^via /, '');
const mappingValue = (m: ConfMapping): string => `${formatDottedQuad(m.msnlAddress)}${m.comment === '' ? '' : ` comment ${m.comment}`}`;

/** Writes a configuration in the format parseConf reads; interfaces that are `none down` are left out. */
export function formatConf(conf: Conf, header: readonly string[] = []): string {
  const out: string[] = header.map((line) => `# ${line}`);
  out.push('[Host]');
  if (conf.host.msnlAddress !== 0) out.push(`Address = ${formatDottedQuad(conf.host.msnlAddress)}`);
  out.push(`Listen = ${formatHostPort({ host: conf.host.listenHost, port: conf.host.listenPort })}`, '', '[Interfaces]');
  for (const [name, i] of conf.interfaces) if (i.address !== null || i.adminUp) out.push(`${name} = ${interfaceValue(i)}`);
  out.push('', '[Routes]');
  for (const r of conf.routes) out.push(`${formatIpv4Prefix(r.prefix)} = ${routeValue(r)}`);
  out.push('', '[Mappings]');
  for (const m of conf.mappings) out.push(`${formatIpv4Prefix(m.prefix)} = ${mappingValue(m)}`);
  return `${out.join('\n')}\n`;
}

/** The edits that turn `from` into `to`, in the order they are applied. */
export interface ConfDiff {
  readonly host: boolean;
  readonly interfaces: ReadonlyArray<{ name: string; to: ConfInterface }>;
  readonly routesDeleted: readonly ConfRoute[];
  readonly routesAdded: readonly ConfRoute[];
  readonly mappingsDeleted: readonly ConfMapping[];
  readonly mappingsAdded: readonly ConfMapping[];
  /** `-`/`+` lines in the file's own syntax, for the operator. */
  readonly lines: readonly string[];
  /** Entries added, changed or deleted (a changed entry is one `-` and one `+` line). */
  readonly changes: number;
}

function keyed<T extends { prefix: Ipv4Prefix }>(items: readonly T[]): Map<number, T> {
  return new Map(items.map((item) => [prefixKey(item.prefix), item]));
}

function sameAddress(a: Ipv4Prefix | null, b: Ipv4Prefix | null): boolean {
  return a === null || b === null ? a === b : a.address === b.address && a.length === b.length;
}

/** Compares two configurations; `lines` is empty when they are equal. */
export function diffConf(from: Conf, to: Conf): ConfDiff {
  const lines: string[] = [];
  const h = (c: Conf): string => `Address = ${c.host.msnlAddress === 0 ? 'none' : formatDottedQuad(c.host.msnlAddress)}, Listen = ${formatHostPort({ host: c.host.listenHost, port: c.host.listenPort })}`;
  const host = h(from) !== h(to);
  if (host) lines.push(`- [Host] ${h(from)}`, `+ [Host] ${h(to)}`);
  const interfaces: Array<{ name: string; to: ConfInterface }> = [];
  for (const [name, want] of to.interfaces) {
    const have = from.interfaces.get(name);
    if (have !== undefined && sameAddress(have.address, want.address) && have.adminUp === want.adminUp) continue;
    interfaces.push({ name, to: want });
    if (have !== undefined) lines.push(`- [Interfaces] ${name} = ${interfaceValue(have)}`);
    lines.push(`+ [Interfaces] ${name} = ${interfaceValue(want)}`);
  }
  const table = <T extends { prefix: Ipv4Prefix }>(name: string, a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean, value: (item: T) => string) => {
    const have = keyed(a);
    const want = keyed(b);
    const deleted: T[] = [];
    const added: T[] = [];
    const line = (sign: string, item: T): void => void lines.push(`${sign} [${name}] ${formatIpv4Prefix(item.prefix)} = ${value(item)}`);
    for (const [key, item] of have) {
      const other = want.get(key);
      if (other === undefined || !same(other, item)) {
        deleted.push(item);
        line('-', item);
      }
    }
    let changed = 0;
    for (const [key, item] of want) {
      const other = have.get(key);
      if (other === undefined || !same(other, item)) {
        added.push(item);
        line('+', item);
        if (other !== undefined) changed++;
      }
    }
    return { deleted, added, count: deleted.length + added.length - changed };
  };
  const routes = table('Routes', from.routes, to.routes, sameRouteSpec, routeValue);
  const maps = table('Mappings', from.mappings, to.mappings, (x, y) => x.msnlAddress === y.msnlAddress && x.comment === y.comment, mappingValue);
  return { host, interfaces, routesDeleted: routes.deleted, routesAdded: routes.added, mappingsDeleted: maps.deleted, mappingsAdded: maps.added, lines,
    changes: (host ? 1 : 0) + interfaces.length + routes.count + maps.count };
}
