// The daemon's route tables, built from the stored routes (msnl route, msnl(7) Exits): per MSNL
// prefix the exit a call goes out on, every exit where there are several, the pinned path MTU and
// the peer's key. Routes are few, so a change rebuilds the four tables whole; the hot paths (a
// call, a sealed frame) read them by longest prefix.
import type { Ipv4Prefix } from '../abi/inet.js';
import { PrefixTable } from '../manager/prefix-table.js';
import type { ExitSpec } from '../msnl/exits.js';
import { routeExits, type Route } from '../store/types.js';

export class RouteTables<L> {
  private routes = PrefixTable.build<L>([]);
  /** Per route: the peer's public key, or 'none' (secure MSNL, man/msnl.7). */
  private keys = PrefixTable.build<Uint8Array | 'none'>([]);
  /** Per route with several exits: the exits (msnl(7) Exits). */
  private exits = PrefixTable.build<readonly ExitSpec<L>[]>([]);
  /** Per route with `mtu N`: N. */
  private mtus = PrefixTable.build<number>([]);
  private text: string | undefined;
  /** The configured peers' keys, as of the last rebuild. */
  peerKeys: readonly Uint8Array[] = [];

  /** `link` makes an underlay link of an exit's host and port. */
  constructor(private readonly link: (host: string, port: number) => L) {}

  /** Rebuilds the tables when the routes changed, or always with `force`; true if rebuilt. */
  apply(routes: readonly Route[], force: boolean): boolean {
    const text = routes.map((r) => `${r.prefix.address}/${r.prefix.length} ${routeExits(r).map((e) => `${e.host} ${e.port} ${e.priority}`).join(' ')} ${r.mtu ?? '-'} ${r.publicKey === null || r.publicKey === undefined ? '-' : Buffer.from(r.publicKey).toString('hex')}`).join('\n');
    if (!force && text === this.text) return false;
    this.text = text;
    const links: Array<{ prefix: Ipv4Prefix; value: L }> = [];
    const exits: Array<{ prefix: Ipv4Prefix; value: readonly ExitSpec<L>[] }> = [];
    for (const route of routes) {
      const specs = routeExits(route).map((e) => ({ link: this.link(e.host, e.port), priority: e.priority }));
      // A call goes out on the most preferred exit (the first of equals); its retransmissions try
      // the others in turn (msnl(7) Exits).
      const best = specs.reduce((a, b) => (b.priority < a.priority ? b : a));
      links.push({ prefix: route.prefix, value: best.link });
      if (specs.length > 1) exits.push({ prefix: route.prefix, value: specs });
    }
    this.routes = PrefixTable.build(links);
    this.exits = PrefixTable.build(exits);
    this.mtus = PrefixTable.build(routes.flatMap((r) => (r.mtu === undefined || r.mtu === null ? [] : [{ prefix: r.prefix, value: r.mtu }])));
    this.keys = PrefixTable.build(routes.map((r) => ({ prefix: r.prefix, value: r.publicKey ?? ('none' as const) })));
    this.peerKeys = routes.flatMap((r) => (r.publicKey instanceof Uint8Array ? [r.publicKey] : []));
    return true;
  }

  /** The exit a call to `address` goes out on. */
  linkOf(address: number): L | undefined {
    return this.routes.lookup(address);
  }

  /** The peer's key for `address`, 'none' for a plain route, undefined with no route. */
  keyOf(address: number): Uint8Array | 'none' | undefined {
    return this.keys.lookup(address);
  }

  /** Every exit of a route with several, undefined otherwise. */
  exitsOf(address: number): readonly ExitSpec<L>[] | undefined {
    return this.exits.lookup(address);
  }

  /** The path MTU pinned by the route's `mtu N`. */
  mtuOf(address: number): number | undefined {
    return this.mtus.lookup(address);
  }
}
