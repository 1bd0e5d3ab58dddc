// msnl route: where an MSNL address (or prefix) is reached on the UDP underlay, and with which key.
import type { Command } from 'commander';
import { formatKey, parseKey } from '../crypto/keys.js';
import { formatIpv4Prefix, parseIpv4Prefix } from '../abi/inet.js';
import type { Route } from '../store/types.js';
import type { CliContext } from './context.js';
import { UsageError, must } from './errors.js';
import { formatHostPort, parseHostPort } from '../abi/endpoint.js';
import { printRows } from './output.js';

export interface RouteRow {
  readonly [key: string]: string | number;
  readonly dst: string;
  readonly host: string;
  readonly port: number;
  /** 'key' (secure MSNL) or 'none' (the historic plain framing). */
  readonly auth: string;
  /** The peer's public key in base64, or "" for auth none. */
  readonly public_key: string;
  /** 'cluster' for a route learned from the fleet, else 'cli'. */
  readonly origin: string;
}

export function routeRow(route: Route): RouteRow {
  const key = route.publicKey ?? null;
  return { dst: formatIpv4Prefix(route.prefix), host: route.host, port: route.port, auth: key === null ? 'none' : 'key', public_key: key === null ? '' : formatKey(key), origin: route.origin ?? 'cli' };
}

/** `key PUBKEY` or `auth none` after the endpoint: the key, or null for auth none. */
export function parseRouteAuth(words: readonly string[]): Uint8Array | null {
  const [word, value, ...rest] = words;
  if (word === undefined) throw new UsageError('a route needs "key PUBKEY" (the peer\'s `msnl host show` public key) or "auth none" (no authentication)');
  if (rest.length > 0) throw new UsageError(`unexpected "${rest[0]}" after ${word} ${value}`);
  if (word === 'auth') {
    if (value !== 'none') throw new UsageError(`expected "auth none", found "auth ${value ?? ''}"`);
    return null;
  }
  if (word !== 'key') throw new UsageError(`expected "key PUBKEY" or "auth none", found "${word}"`);
  if (value === undefined) throw new UsageError('argument "key" needs a value');
  const key = parseKey(value, 'the public key');
  if (typeof key === 'string') throw new UsageError(`argument "${value}" is wrong: ${key}`);
  return key;
}

function routeText(r: RouteRow): string {
  return `${r.dst} via ${formatHostPort(r)} ${r.auth === 'none' ? 'auth none' : `key ${r.public_key}`}${r.origin === 'cluster' ? ' origin cluster' : ''}`;
}

export function register(program: Command, context: CliContext): void {
  const route = program.command('route').description('MSNL routes: MSNL address or prefix -> underlay UDP HOST:PORT (default: show)');

  route
    .command('show', { isDefault: true })
    .aliases(['list', 'ls'])
    .description('list the MSNL routes')
    .action(() => {
      const routes = context.withStore('read', (store) => store.listRoutes());
      printRows(context, routes.map(routeRow), routeText);
    });

  route
    .command('add')
    .description('reach MSNL address MSNLADDR (or the prefix MSNLADDR/LEN) at underlay HOST:PORT, authenticated by the peer\'s public key (or not: auth none)')
    .argument('<msnladdr>', 'MSNL address or prefix, a.b.c.d[/len]')
    .argument('[via]', 'the keyword "via"')
    .argument('[endpoint]', 'underlay UDP endpoint HOST:PORT (IPv4, [IPv6] or host name)')
    .argument('[auth...]', 'key PUBKEY (base64, as `msnl host show` prints it) | auth none')
    .addHelpText('after', '\nExamples:\n  msnl route add 128.232.0.2 via 192.0.2.2:1994 key JhG3...Q2c=\n  msnl route add 128.233.0.0/16 via gw.example:1994 auth none')
    .action((dstText: string, via: string | undefined, endpointText: string | undefined, authWords: string[]) => {
      if (via !== 'via') throw new UsageError(`expected keyword "via" after ${dstText}${via === undefined ? '' : `, found "${via}"`} (route add MSNLADDR via HOST:PORT key PUBKEY|auth none)`);
      if (endpointText === undefined) throw new UsageError('expected HOST:PORT after "via"');
      const prefix = must(parseIpv4Prefix(dstText));
      const endpoint = must(parseHostPort(endpointText));
      const publicKey = parseRouteAuth(authWords);
      context.withStore('write', (store) => store.addRoute({ prefix, ...endpoint, publicKey }));
    });

  route
    .command('del')
    .alias('delete')
    .description('delete the route for exactly MSNLADDR[/LEN]')
    .argument('<msnladdr>', 'MSNL address or prefix, a.b.c.d[/len]')
    .action((dstText: string) => {
      const prefix = must(parseIpv4Prefix(dstText));
      context.withStore('write', (store) => store.delRoute(prefix));
    });
}
