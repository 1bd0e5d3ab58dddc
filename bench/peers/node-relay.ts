// The floor under msnl: a bare Node.js relay (bench/relay-child.ts) between a TUN device and a UDP
// socket on each host, over the same I/O layers as msnld but with no MSNL at all. What separates
// it from OpenVPN is the cost of a Node.js event loop; what separates msnl from it is MSNL.
// Its TUN MTU is 1472 (relay-child.ts): the underlay socket sets DF, so a packet must fit one datagram.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sleep, type Topology } from '../../src/demo/topology.js';
import type { Path, Peer } from './peer.js';
import { stopChildren } from './wireguard.js';

const DEV = 'brelay0';
const PORT = 7030;
const CHILD = path.resolve(__dirname, '..', 'relay-child.js');

export class NodeRelayPeer implements Peer {
  readonly name = 'node relay';
  readonly packages: readonly string[] = [];
  private readonly children: ChildProcess[] = [];

  async setup(topology: Topology): Promise<Path[]> {
    const hosts = [topology.host(1), topology.host(2)] as const;
    const ready: Promise<void>[] = [];
    hosts.forEach((host, i) => {
      const other = hosts[1 - i]!;
      const child = spawn('ip', ['netns', 'exec', host.netns, process.execPath, CHILD, DEV, `10.70.0.${host.index}/24`, host.underlay, other.underlay, String(PORT)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.children.push(child);
      let output = '';
      ready.push(new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          if (output.includes('ready')) resolve();
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the relay on h${host.index} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`)));
      }));
    });
    await Promise.race([Promise.all(ready), sleep(15_000).then(() => Promise.reject(new Error('the relays did not start within 15 s')))]);
    return [{ label: this.name, client: '10.70.0.1', server: '10.70.0.2', mtu: 1472 }];
  }

  pids(): number[] {
    return this.children.filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!);
  }

  async teardown(): Promise<void> {
    await stopChildren(this.children);
  }
}
