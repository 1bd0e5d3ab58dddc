// What every tunnel under test provides to the benchmark: set up across hosts 1 and 2 of a
// Topology, the addresses to measure between, the processes whose CPU counts, and a teardown
// that removes everything the setup made (also after a setup that failed half way).
import type { Topology } from '../../src/demo/topology.js';

export interface Path {
  /** Row label, e.g. "msnl ms0", "wireguard-go". */
  readonly label: string;
  /** Host 1's address inside the tunnel (the iperf3/ping client side). */
  readonly client: string;
  /** Host 2's address inside the tunnel (where the iperf3 server listens). */
  readonly server: string;
  /** MTU of the tunnel interface. */
  readonly mtu: number;
}

export interface Peer {
  readonly name: string;
  /** Debian packages whose tools this peer needs. */
  readonly packages: readonly string[];
  /** Builds the tunnel; returns the paths to measure. Throws with a clear message on failure. */
  setup(topology: Topology): Promise<Path[]>;
  /** PIDs of the user-space processes carrying the tunnel, on both hosts (empty for kernel tunnels). */
  pids(): number[];
  /** Removes what setup made. Never throws. */
  teardown(topology: Topology): Promise<void>;
}
