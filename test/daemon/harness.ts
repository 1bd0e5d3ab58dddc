// Whole daemons in one process: real stores (SQLite files in a temp dir), fake TUN devices (with
// TUN offload on ms0..ms2 or not, as msnld opens them with or without --no-offload) and the
// in-memory data-link hub with real timers. Used by the daemon suites.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { parseDottedQuad, parseIpv4Prefix, type Ipv4Prefix } from '../../src/abi/inet.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { useNativeHandshake } from '../../src/daemon/aead.js';
import { createLogger } from '../../src/base/logger.js';
import { MemoryHub, MemoryUnderlay, type MemoryPeer } from '../../src/msdl/memory.js';
import { openStore, type Store } from '../../src/store/store.js';
import { createFakeTun, type FakeTunPeer } from '../../src/tun/fake.js';
import type { TunDevice } from '../../src/tun/device.js';
import { MAX_PACKET_SIZE } from '../../src/msnl/constants.js';
import type { EndpointConfig } from '../../src/msnl/types.js';

// The handshakes' X25519 and HKDF in the addon, as msnld has them from its start.
useNativeHandshake();

export function ip(text: string): number {
  const value = parseDottedQuad(text);
  if (typeof value !== 'number') throw new Error(value.message);
  return value;
}

export function prefix(text: string): Ipv4Prefix {
  const value = parseIpv4Prefix(text);
  if ('reason' in value) throw new Error(value.message);
  return value;
}

export interface TestHost {
  readonly name: string;
  readonly msnl: string;
  readonly store: Store;
  readonly daemon: Daemon<MemoryPeer>;
  readonly peers: Map<string, FakeTunPeer>;
  readonly devices: Map<string, TunDevice>;
  readonly logs: string[];
}

export class Lab {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'msnl-lab-'));
  readonly hub: MemoryHub;
  readonly underlay: MemoryUnderlay;
  readonly hosts: TestHost[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Whether the fake TUNs offload (ms0..ms2; ms3's 64 KiB MTU stays plain, as in msnld). */
  readonly offload: boolean;

  constructor(options: { seed?: number; loss?: number; offload?: boolean } = {}) {
    this.offload = options.offload ?? false;
    this.hub = new MemoryHub({
      clock: { now: Date.now },
      seed: options.seed ?? 1,
      loss: options.loss ?? 0,
      delayMs: 0,
      maxDatagram: 1472,
      schedule: (delay) => {
        setTimeout(() => this.hub.deliverDue(), Math.max(0, delay));
      },
    });
    this.underlay = new MemoryUnderlay(this.hub);
  }

  /** Creates a host's store with its host settings; the daemon is created by start(). */
  store(name: string, msnl: string): Store {
    const store = openStore(path.join(this.dir, `${name}.db`));
    store.updateHost({ msnlAddress: ip(msnl), listenHost: name, listenPort: 7010 });
    return store;
  }

  async start(name: string, msnl: string, store: Store, endpointConfig: Partial<EndpointConfig> = {}, connectionLinesPerSecond = 0): Promise<TestHost> {
    const peers = new Map<string, FakeTunPeer>();
    const devices = new Map<string, TunDevice>();
    const logs: string[] = [];
    const daemon = new Daemon<MemoryPeer>({
      store,
      underlay: this.underlay,
      openTun: (spec) => {
        const { device, peer } = createFakeTun(spec.name, { mtu: spec.mtu, offload: this.offload && spec.mtu < MAX_PACKET_SIZE });
        peers.set(spec.name, peer);
        devices.set(spec.name, device);
        return device;
      },
      log: createLogger('verbose', (line) => logs.push(line)),
      pollMs: 50,
      tickMs: 10,
      connectionLinesPerSecond,
      endpointConfig: { probeIntervalMs: 200, healthWindowMs: 1000, ...endpointConfig },
    });
    await daemon.start();
    const host = { name, msnl, store, daemon, peers, devices, logs };
    this.hosts.push(host);
    return host;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const host of this.hosts) {
      await host.daemon.stop();
      host.store.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Configures ms0..ms3 as 10.N.0.<hostIndex>/24, up. */
export function addressAll(store: Store, hostIndex: number): void {
  for (const spec of TUNNEL_INTERFACES) store.setInterfaceAddress(spec.name, { address: ip(`10.${spec.index}.0.${hostIndex}`), length: 24 }, true);
}

/** A valid IPv4/UDP packet of `size` octets (20-octet header, checksum left zero). */
export function udpPacket(src: string, dst: string, size: number, fill = 0x5a): Buffer {
  const packet = Buffer.alloc(size, fill);
  packet[0] = 0x45;
  packet[1] = 0;
  packet.writeUInt16BE(size, 2);
  packet.writeUInt32BE(0, 4);
  packet[8] = 64;
  packet[9] = 17;
  packet.writeUInt16BE(0, 10);
  packet.writeUInt32BE(ip(src), 12);
  packet.writeUInt32BE(ip(dst), 16);
  if (size >= 28) {
    packet.writeUInt16BE(40000, 20);
    packet.writeUInt16BE(9, 22);
    packet.writeUInt16BE(size - 20, 24);
    packet.writeUInt16BE(0, 26);
  }
  return packet;
}

/** Waits until `check` returns true, polling every 10 ms, failing after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects what a fake TUN peer receives. */
export function collect(peer: FakeTunPeer | undefined): Buffer[] {
  if (peer === undefined) throw new Error('no such fake TUN');
  const got: Buffer[] = [];
  peer.onPacket((packet) => got.push(packet));
  return got;
}

/** Stores for hosts A (128.232.0.1) and B (128.232.0.2): routes to both, mappings 10.N.0.1/2 on every interface, all four up. */
export function configurePair(lab: Lab) {
  const a = lab.store('hostA', '128.232.0.1');
  const b = lab.store('hostB', '128.232.0.2');
  for (const store of [a, b]) {
    store.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010 });
    store.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010 });
    for (const spec of TUNNEL_INTERFACES) {
      store.addMapping({ prefix: prefix(`10.${spec.index}.0.1/32`), msnlAddress: ip('128.232.0.1') });
      store.addMapping({ prefix: prefix(`10.${spec.index}.0.2/32`), msnlAddress: ip('128.232.0.2') });
    }
  }
  addressAll(a, 1);
  addressAll(b, 2);
  return { a, b };
}
