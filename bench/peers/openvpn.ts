// OpenVPN point-to-point over UDP with no crypto at all (--cipher none --auth none, no --secret,
// no TLS): the cheapest data path OpenVPN has, so the comparison is about the tunnel, not AES.
// OpenVPN 2.6 still accepts this p2p mode (it warns that encryption is disabled); it refuses
// `--cipher none` only together with TLS unless --data-ciphers none is given.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep, type Topology } from '../../src/demo/topology.js';
import type { Path, Peer } from './peer.js';
import { stopChildren } from './wireguard.js';

const DEV = 'bovpn0';
const PORT = 1194;

export class OpenvpnPeer implements Peer {
  readonly name = 'OpenVPN';
  readonly packages = ['openvpn'];
  private readonly children: ChildProcess[] = [];

  async setup(topology: Topology): Promise<Path[]> {
    const hosts = [topology.host(1), topology.host(2)] as const;
    const logs: string[] = [];
    hosts.forEach((host, i) => {
      const other = hosts[1 - i]!;
      const log = path.join(topology.dir, `openvpn-h${host.index}.log`);
      logs.push(log);
      const fd = openSync(log, 'w'); // fresh, so the wait below sees this run's lines only
      const child = spawn('ip', ['netns', 'exec', host.netns, 'openvpn',
        '--dev', DEV, '--dev-type', 'tun', '--proto', 'udp', '--local', host.underlay, '--lport', String(PORT),
        '--remote', other.underlay, '--rport', String(PORT),
        '--ifconfig', `10.60.0.${host.index}`, `10.60.0.${other.index}`,
        '--cipher', 'none', '--auth', 'none', '--tun-mtu', '1500',
        '--ping', '1', '--verb', '3'], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      this.children.push(child);
    });
    // p2p mode sends its first packet once and, if the peer was not up yet, again only after
    // 10 s; --ping 1 makes the two find each other at once. The wait keeps slack beyond that.
    for (const [i, host] of hosts.entries()) {
      const deadline = Date.now() + 25_000;
      while (!/Initialization Sequence Completed/.test(read(logs[i]!))) {
        const child = this.children[i]!;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`openvpn on h${host.index} did not come up: ${read(logs[i]!).trim().split('\n').slice(-4).join(' | ')}`);
        }
        await sleep(100);
      }
    }
    return [{ label: 'OpenVPN', client: '10.60.0.1', server: '10.60.0.2', mtu: 1500 }];
  }

  pids(): number[] {
    return this.children.filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!);
  }

  async teardown(): Promise<void> {
    await stopChildren(this.children);
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
