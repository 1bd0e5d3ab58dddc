// msnl route: where an MSNL address (or prefix) is reached on the UDP underlay.
import type { Command } from 'commander';
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
}

export function routeRow(route: Route): RouteRow {
  return { dst: formatIpv4Prefix(route.prefix), host: route.host, port: route.port };
}

export function register(program: Command, context: CliContext): void {
  const route = program.command('route').description('MSNL routes: MSNL address or prefix -> underlay UDP HOST:PORT (default: show)');

  route
    .command('show', { isDefault: true })
    .aliases(['list', 'ls'])
    .description('list the MSNL routes')
    .action(() => {
      const routes = context.withStore('read', (store) => store.listRoutes());
      printRows(context, routes.map(routeRow), (r) => `${r.dst} via ${formatHostPort(r)}`);
    });

  route
    .command('add')
    .description('reach MSNL address MSNLADDR (or the prefix MSNLADDR/LEN) at underlay HOST:PORT')
    .argument('<msnladdr>', 'MSNL address or prefix, a.b.c.d[/len]')
    .argument('[via]', 'the keyword "via"')
    .argument('[endpoint]', 'underlay UDP endpoint HOST:PORT (IPv4, [IPv6] or host name)')
    .action((dstText: string, via: string | undefined, endpointText: string | undefined) => {
      if (via !== 'via') throw new UsageError(`expected keyword "via" after ${dstText}${via === undefined ? '' : `, found "${via}"`} (route add MSNLADDR via HOST:PORT)`);
      if (endpointText === undefined) throw new UsageError('expected HOST:PORT after "via"');
      const prefix = must(parseIpv4Prefix(dstText));
      const endpoint = must(parseHostPort(endpointText));
      context.withStore('write', (store) => store.addRoute({ prefix, ...endpoint }));
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
