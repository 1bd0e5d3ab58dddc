// The kernel baselines: the bare veth underlay, and a VXLAN tunnel over it (the in-kernel ceiling
// of an encapsulating tunnel: no user-space crossing at all).
import { must, type Topology } from '../../src/demo/topology.js';
import type { Path, Peer } from './peer.js';

export const underlayPeer: Peer = {
  name: 'underlay',
  packages: [],
  async setup(topology: Topology): Promise<Path[]> {
    return [{ label: 'underlay', client: topology.host(1).underlay, server: topology.host(2).underlay, mtu: 1500 }];
  },
  pids: () => [],
  async teardown(): Promise<void> {},
};

const VXLAN_DEV = 'bvx0';

export const vxlanPeer: Peer = {
  name: 'kernel VXLAN',
  packages: [],
  async setup(topology: Topology): Promise<Path[]> {
    const [a, b] = [topology.host(1), topology.host(2)];
    for (const [host, other] of [[a, b], [b, a]] as const) {
      const ns = ['ip', '-n', host.netns];
      must([...ns, 'link', 'add', VXLAN_DEV, 'type', 'vxlan', 'id', '42', 'local', host.underlay, 'remote', other.underlay, 'dstport', '4789', 'dev', 'u0']);
      must([...ns, 'addr', 'add', `10.40.0.${host.index}/24`, 'dev', VXLAN_DEV]);
      must([...ns, 'link', 'set', VXLAN_DEV, 'up']);
    }
    return [{ label: 'kernel VXLAN', client: '10.40.0.1', server: '10.40.0.2', mtu: 1450 }];
  },
  pids: () => [],
  async teardown(topology: Topology): Promise<void> {
    for (const host of topology.hosts.slice(0, 2)) topology.exec(host, ['ip', 'link', 'del', VXLAN_DEV]);
  },
};
