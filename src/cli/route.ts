// msnl route: where an MSNL address (or prefix) is reached on the UDP underlay (one or more exits,
// route-spec.ts), with which key and pinned MTU; `show` adds each exit's live state from msnld.
import type { Command } from 'commander';
import { formatKey } from '../crypto/keys.js';
import { formatIpv4Prefix, parseIpv4Prefix } from '../abi/inet.js';
import { routeExits, type Route } from '../store/types.js';
import type { CliContext } from './context.js';
import { UsageError, must } from './errors.js';
import { formatHostPort } from '../abi/endpoint.js';
import { printRows } from './output.js';
import { parseExits, type ExitRow, type HealthRow } from '../control/rows.js';
import { MAX_ROUTE_MTU, MIN_ROUTE_MTU, ROUTE_GRAMMAR, parseRouteWords } from './route-spec.js';

export interface RouteRow {
  readonly [key: string]: unknown;
  readonly dst: string;
  /** The first exit (the one-exit form's endpoint). */
  readonly host: string;
  readonly port: number;
  /** 'key' (secure MSNL) or 'none' (the historic plain framing). */
  readonly auth: string;
  /** The peer's public key in base64, or "" for auth none. */
  readonly public_key: string;
  /** 'cluster' for a route learned from the fleet, else 'cli'. */
  readonly origin: string;
  /** Every exit, the first one first; with msnld running and a connection on the route, each
   *  with what its probes found (state, rtt_ms, loss, pmtu; msnl(7) Exits). */
  readonly exits: ReadonlyArray<{ readonly host: string; readonly port: number; readonly priority: number } & Partial<Omit<ExitRow, 'endpoint' | 'priority'>>>;
  /** The pinned path MTU (`mtu N`), or null: probed. */
  readonly mtu: number | null;
}

export function routeRow(route: Route, live?: ReadonlyMap<string, ExitRow>): RouteRow {
  const key = route.publicKey ?? null;
  const exits = routeExits(route).map((e) => {
    const seen = live?.get(formatHostPort(e));
    return seen === undefined ? { ...e } : { ...e, state: seen.state, rtt_ms: seen.rtt_ms, loss: seen.loss, pmtu: seen.pmtu };
  });
  return { dst: formatIpv4Prefix(route.prefix), host: route.host, port: route.port, auth: key === null ? 'none' : 'key', public_key: key === null ? '' : formatKey(key), origin: route.origin ?? 'cli', exits, mtu: route.mtu ?? null };
}

function routeText(r: RouteRow): string {
  const exits = r.exits.map((e) => `via ${formatHostPort(e)}${e.priority === 0 ? '' : ` priority ${e.priority}`}`).join(' ');
  const head = `${r.dst} ${exits} ${r.auth === 'none' ? 'auth none' : `key ${r.public_key}`}${r.mtu === null ? '' : ` mtu ${r.mtu}`}${r.origin === 'cluster' ? ' origin cluster' : ''}`;
  const live = r.exits.filter((e) => e.state !== undefined);
  if (live.length === 0) return head;
  return [head, ...live.map((e) => `    exit ${formatHostPort(e)} ${exitStateText(e)}`)].join('\n');
}

/** `state active rtt 0.3ms loss 0% pmtu 1500`, as msnl health prints an exit. */
export function exitStateText(e: Partial<Pick<ExitRow, 'state' | 'rtt_ms' | 'loss' | 'pmtu'>>): string {
  return `state ${e.state ?? 'unknown'} rtt ${e.rtt_ms === null || e.rtt_ms === undefined ? '-' : `${e.rtt_ms.toFixed(3)}ms`} loss ${Number(((e.loss ?? 0) * 100).toFixed(1))}% pmtu ${e.pmtu ?? '-'}`;
}

/** What msnld's connections found of each exit, by `HOST:PORT` (the first connection that has it); empty without msnld. */
async function liveExits(context: CliContext): Promise<Map<string, ExitRow>> {
  const seen = new Map<string, ExitRow>();
  let rows: HealthRow[];
  try {
    rows = await context.daemon('read tunnel health', (client) => client.health());
  } catch {
    return seen; // no daemon: the stored routes alone
  }
  for (const row of rows) {
    if (row.exits === null) continue;
    const exits = parseExits(row.exits);
    if (!Array.isArray(exits)) continue;
    for (const e of exits) if (!seen.has(e.endpoint) || e.state === 'active') seen.set(e.endpoint, e);
  }
  return seen;
}

export function register(program: Command, context: CliContext): void {
  const route = program.command('route').description('MSNL routes: MSNL address or prefix -> underlay UDP HOST:PORT (default: show)');

  route
    .command('show', { isDefault: true })
    .aliases(['list', 'ls'])
    .description('list the MSNL routes')
    .action(async () => {
      const routes = context.withStore('read', (store) => store.listRoutes());
      const live = routes.some((r) => (r.moreExits?.length ?? 0) > 0) ? await liveExits(context) : undefined;
      printRows(context, routes.map((r) => routeRow(r, live)), routeText);
    });

  route
    .command('add')
    .description('reach MSNL address MSNLADDR (or the prefix MSNLADDR/LEN) at one or more underlay exits HOST:PORT, authenticated by the peer\'s public key (or not: auth none)')
    .argument('<msnladdr>', 'MSNL address or prefix, a.b.c.d[/len]')
    .argument('[words...]', `${ROUTE_GRAMMAR}: each "via" an exit, "priority" (0..65535, lower preferred, default 0) the exit before it; "mtu" (${MIN_ROUTE_MTU}..${MAX_ROUTE_MTU}) pins the path MTU instead of probing it`)
    .addHelpText('after', '\nExamples:\n  msnl route add 128.232.0.2 via 192.0.2.2:1994 key JhG3...Q2c=\n  msnl route add 128.233.0.0/16 via gw.example:1994 auth none\n  msnl route add 128.232.65.43 via 198.51.100.2:7001 priority 10 via 203.0.113.2:7001 priority 20 key JhG3...Q2c= mtu 1400')
    .action((dstText: string, words: string[]) => {
      if (words[0] !== 'via') throw new UsageError(`expected keyword "via" after ${dstText}${words[0] === undefined ? '' : `, found "${words[0]}"`} (route add MSNLADDR ${ROUTE_GRAMMAR})`);
      const prefix = must(parseIpv4Prefix(dstText));
      const spec = parseRouteWords(words);
      if (typeof spec === 'string') throw new UsageError(spec);
      context.withStore('write', (store) => store.addRoute({ prefix, ...spec }));
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
