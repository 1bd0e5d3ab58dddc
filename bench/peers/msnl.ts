// msnl itself: msnld on hosts 1 and 2, configured through the msnl CLI exactly as an operator
// would, with ms0 (MTU 1500) and ms3 (MTU 65535) up, plus ms1/ms2 for fresh call-setup samples.
// Plain (routes `auth none`), or with `auth: true` keyed secure MSNL (host keys, routes `key
// PUBKEY`): ms0 and ms3 are measured, as the columns `msnl ms0 (auth)` and `msnl ms3 (auth)`. With family 6 the daemons
// listen and route on the IPv6 underlay addresses of a dual-stack topology, and only ms0 is
// measured (the row "msnl ms0 IPv6", beside the IPv4 one).
import { readFileSync, rmSync, statSync } from 'node:fs';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { UNDERLAY_PORT, type Host, type Topology } from '../../src/demo/topology.js';
import type { Path, Peer } from './peer.js';

/** Tunnel address of host `index` on interface msN: 10.N.0.index. */
export function msnlAddress(iface: number, index: number): string {
  return `10.${iface}.0.${index}`;
}

/** The column label of the keyed ms0 path. */
export const AUTH_LABEL = 'msnl ms0 (auth)';
/** The column label of the keyed ms3 path (64 KiB packets, each cut into sealed segments). */
export const AUTH_MS3_LABEL = 'msnl ms3 (auth)';
/** The column label of plain ms0 over an underlay whose links are 1400 octets (issue 14). */
export const SMALL_PATH_LABEL = 'msnl ms0 u1400';

/** How long setup waits at most for both msnld to finish their warm-up (src/daemon/warm-daemons.ts). */
const WARM_UP_WAIT_MS = 5_000;

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Waits until each host's msnld has logged its `warm-up:` line (verbose) after `from[i]`, or
 * `timeoutMs` has passed. msnld answers its control socket 0.3 s after start at the latest while
 * its warm-up may run on (up to about 1.5 s on a loaded machine): a first ping sent in that time
 * measures msnld's start-up racing the call, not the call. The other peers have no start-up work
 * left when their setup returns, so the first reply is timed once msnld has none either.
 */
async function warmedUp(hosts: readonly Host[], from: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const done = (host: Host, i: number): boolean => {
    try {
      return /warm-up: /.test(readFileSync(host.log).subarray(from[i] ?? 0).toString('utf8'));
    } catch {
      return false;
    }
  };
  while (!hosts.every(done) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

export class MsnlPeer implements Peer {
  readonly name: string;
  readonly packages: readonly string[] = [];
  /** Interfaces brought up; the first ping to each of them measures a call setup. */
  readonly interfaces = [0, 1, 2, 3];
  /** Set when msnld started but did not answer on its control socket (no `msnl status` yet). */
  note: string | undefined;

  /**
   * `underlayMtu`: the underlay links' MTU during this peer's runs (then only ms0 is measured);
   * `nodeArgs` go to node for each msnld (e.g. `--cpu-prof` in bench/keyed.ts).
   */
  constructor(private readonly topology: Topology, readonly auth = false, readonly family: 4 | 6 = 4, readonly underlayMtu?: number, private readonly nodeArgs: readonly string[] = [], private readonly daemonArgs: readonly string[] = []) {
    this.name = auth ? 'msnl (auth)' : family === 6 ? 'msnl IPv6' : underlayMtu !== undefined ? `msnl u${underlayMtu}` : 'msnl';
  }

  private setUnderlayMtu(topology: Topology, mtu: number): void {
    for (const host of topology.hosts.slice(0, 2)) {
      const r = topology.exec(host, ['ip', 'link', 'set', 'u0', 'mtu', String(mtu)]);
      if (r.code !== 0) throw new Error(`failed to set the underlay MTU to ${mtu}: ${r.stderr.trim()}`);
    }
  }

  /** `HOST:PORT` of a host's msnld on the underlay of this peer's family. */
  private endpoint(host: Host): string {
    if (this.family === 4) return `${host.underlay}:${UNDERLAY_PORT}`;
    if (host.underlay6 === undefined) throw new Error('the topology has no IPv6 underlay (underlayFamily 6 or dual)');
    return `[${host.underlay6}]:${UNDERLAY_PORT}`;
  }

  async setup(topology: Topology): Promise<Path[]> {
    const hosts = [topology.host(1), topology.host(2)] as const;
    for (const [i, host] of hosts.entries()) {
      const other = hosts[1 - i]!;
      topology.mustMsnl(host, ['host', 'set', 'address', host.msnlAddress]);
      // The database outlives a peer's teardown: replace the route, keyed or plain as asked.
      topology.msnl(host, ['route', 'del', other.msnlAddress]);
      const peerAuth = this.auth ? ['key', topology.publicKey(other)] : ['auth', 'none'];
      topology.mustMsnl(host, ['route', 'add', other.msnlAddress, 'via', this.endpoint(other), ...peerAuth]);
      for (const iface of this.interfaces) {
        topology.msnl(host, ['map', 'del', `${msnlAddress(iface, other.index)}/32`]);
        topology.mustMsnl(host, ['map', 'add', `${msnlAddress(iface, other.index)}/32`, other.msnlAddress]);
        topology.mustMsnl(host, ['ifconfig', `ms${iface}`, `${msnlAddress(iface, host.index)}/24`, 'up']);
      }
    }
    if (this.underlayMtu !== undefined) this.setUnderlayMtu(topology, this.underlayMtu);
    // The logs are appended to across daemons: each start's warm-up line is looked for after this.
    const logStart = hosts.map((host) => sizeOf(host.log));
    for (const host of hosts) {
      try {
        await topology.startDaemon(host, this.daemonArgs, this.nodeArgs, this.endpoint(host));
      } catch (error) {
        // Until the CLI has a readiness probe the daemon may run fine without answering it.
        const daemon = host.daemon;
        if (daemon === undefined || daemon.exitCode !== null || !/did not answer/.test((error as Error).message)) throw error;
        this.note = (this.note === undefined ? '' : this.note + '; ') + `msnld on h${host.index} runs but did not answer the readiness probe: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    await warmedUp(hosts, logStart, WARM_UP_WAIT_MS);
    return (this.family === 6 || this.underlayMtu !== undefined ? [0] : [0, 3]).map((iface) => ({
      label: this.auth ? (iface === 3 ? AUTH_MS3_LABEL : AUTH_LABEL) : this.underlayMtu !== undefined ? SMALL_PATH_LABEL : `msnl ms${iface}${this.family === 6 ? ' IPv6' : ''}`,
      client: msnlAddress(iface, 1),
      server: msnlAddress(iface, 2),
      mtu: TUNNEL_INTERFACES[iface]!.mtu,
    }));
  }

  pids(): number[] {
    return this.topology.hosts.slice(0, 2).flatMap((h) => (h.daemon?.pid !== undefined && h.daemon.exitCode === null ? [h.daemon.pid] : []));
  }

  /** Stops the daemons and removes their databases, so the next setup starts afresh. */
  async teardown(topology: Topology): Promise<void> {
    for (const host of topology.hosts.slice(0, 2)) {
      await topology.stopDaemon(host).catch(() => undefined);
      for (const suffix of ['', '-wal', '-shm']) rmSync(host.db + suffix, { force: true });
    }
    if (this.underlayMtu !== undefined) this.setUnderlayMtu(topology, 1500);
  }
}
