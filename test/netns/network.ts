// Shared set-up for the root-only multi-host suites: a topology of hosts in network namespaces,
// configured the way an operator would, through the msnl CLI, with the daemons stopped.

import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { Topology, type Host } from '../../src/demo/topology.js';

/** Host k's address on msN is 10.N.0.k/24; every host maps the others' addresses and has a keyed
 *  route to each (each host's key pair is made on first use). */
export function configure(t: Topology, hosts: readonly Host[] = t.hosts): void {
  for (const h of hosts) {
    t.mustMsnl(h, ['host', 'set', 'address', h.msnlAddress]);
    for (const o of t.hosts) {
      if (o === h) continue;
      t.mustMsnl(h, ['route', 'add', o.msnlAddress, 'via', o.listen, 'key', t.publicKey(o)]);
      for (const spec of TUNNEL_INTERFACES) t.mustMsnl(h, ['map', 'add', `10.${spec.index}.0.${o.index}/32`, o.msnlAddress]);
    }
    for (const spec of TUNNEL_INTERFACES) t.mustMsnl(h, ['ifconfig', spec.name, `10.${spec.index}.0.${h.index}/24`, 'up']);
  }
}

export async function startAll(t: Topology): Promise<void> {
  for (const h of t.hosts) await t.startDaemon(h);
}

/** `ping -M do` at the full MTU of msN, from host a to host b. */
export async function pingAtMtu(t: Topology, a: Host, b: Host, index: number, count = 2): Promise<{ ok: boolean; output: string }> {
  const spec = TUNNEL_INTERFACES[index];
  if (spec === undefined) throw new Error(`no ms${index}`);
  const size = Math.min(spec.mtu, 65535) - 28;
  const result = await t.execAsync(a, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '3', '-M', 'do', '-s', String(size), `10.${index}.0.${b.index}`], 30_000);
  return { ok: result.code === 0, output: result.stdout + result.stderr };
}

export interface HealthJson {
  interface: string;
  peer_ip: string;
  state: string;
  tx_proven: boolean;
  rx_proven: boolean;
}

export function health(t: Topology, h: Host): HealthJson[] {
  const r = t.msnl(h, ['-j', 'health']);
  if (r.code !== 0 && r.code !== 3) throw new Error(`msnl health failed on h${h.index}: ${r.stderr}`);
  return JSON.parse(r.stdout) as HealthJson[];
}

/** The open connections `msnl conn show` lists; calls in progress or failed (connection 0) are left out. */
export function connections(t: Topology, h: Host): Array<{ interface: string; peer_ip: string; state: string }> {
  const r = t.msnl(h, ['-j', 'conn', 'show']);
  if (r.code !== 0) throw new Error(`msnl conn show failed on h${h.index}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Array<{ connection: number; interface: string; peer_ip: string; state: string }>).filter((row) => row.connection !== 0);
}

/** Polls `check` every 200 ms until it holds, or fails after `timeoutMs` with `what`. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
