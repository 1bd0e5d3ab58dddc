// wireguard-go (the user-space WireGuard) between hosts 1 and 2: one wg interface per namespace,
// keys made with `wg genkey`, the peer's endpoint on the underlay.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { must, run, sleep, type Topology } from '../../src/demo/topology.js';
import type { Path, Peer } from './peer.js';

// wireguard-go's control socket is /var/run/wireguard/NAME.sock, outside the network namespace,
// so each host's interface needs its own name.
const dev = (index: number): string => `bwg${index}`;
const PORT = 51820;

export class WireguardPeer implements Peer {
  readonly name = 'wireguard-go';
  readonly packages = ['wireguard-go', 'wireguard-tools'];
  private readonly children: ChildProcess[] = [];

  async setup(topology: Topology): Promise<Path[]> {
    const hosts = [topology.host(1), topology.host(2)] as const;
    const keys = hosts.map((host) => {
      const secret = must(['wg', 'genkey']).trim();
      const file = path.join(topology.dir, `wg-h${host.index}.key`);
      writeFileSync(file, secret + '\n', { mode: 0o600 });
      const pub = run(['sh', '-c', `wg pubkey < ${file}`]);
      if (pub.code !== 0) throw new Error(`failed to derive a wireguard public key: ${pub.stderr.trim()}`);
      return { file, pub: pub.stdout.trim() };
    });
    for (const host of hosts) {
      // Foreground mode keeps wireguard-go our child, so its PID is known and ours to end.
      const child = spawn('ip', ['netns', 'exec', host.netns, 'wireguard-go', '-f', dev(host.index)], {
        stdio: 'ignore', env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
      });
      this.children.push(child);
    }
    for (const host of hosts) {
      const deadline = Date.now() + 5_000;
      while (topology.exec(host, ['ip', 'link', 'show', dev(host.index)]).code !== 0) {
        if (Date.now() > deadline) throw new Error(`wireguard-go made no ${dev(host.index)} in ${host.netns} within 5 s`);
        await sleep(50);
      }
    }
    hosts.forEach((host, i) => {
      const other = hosts[1 - i]!;
      const otherKey = keys[1 - i]!;
      const mine = keys[i]!;
      const wg = topology.exec(host, ['wg', 'set', dev(host.index), 'listen-port', String(PORT), 'private-key', mine.file,
        'peer', otherKey.pub, 'allowed-ips', `10.50.0.${other.index}/32`, 'endpoint', `${other.underlay}:${PORT}`]);
      if (wg.code !== 0) throw new Error(`failed to configure wireguard on h${host.index}: ${wg.stderr.trim()}`);
      must(['ip', '-n', host.netns, 'addr', 'add', `10.50.0.${host.index}/24`, 'dev', dev(host.index)]);
      must(['ip', '-n', host.netns, 'link', 'set', dev(host.index), 'mtu', '1420', 'up']);
    });
    return [{ label: 'wireguard-go', client: '10.50.0.1', server: '10.50.0.2', mtu: 1420 }];
  }

  pids(): number[] {
    return this.children.filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!);
  }

  async teardown(topology: Topology): Promise<void> {
    for (const host of topology.hosts.slice(0, 2)) topology.exec(host, ['ip', 'link', 'del', dev(host.index)]);
    await stopChildren(this.children);
  }
}

/** Ends the processes we started (SIGTERM, then SIGKILL after a bounded wait). */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.length = 0;
}
