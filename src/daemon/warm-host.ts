// One host of the warm-up (warmup.ts): the parts msnld's Daemon wires, wired the same way (an MSNL
// endpoint with the addon's AEAD and batched sealing, the manager, the four tunnels with their
// mapping table and route tables), over fakes: the in-memory hub for the underlay and fake TUN
// devices (offloading on ms0..ms2, as msnld opens them). Nothing here has a timer or leaves the
// process; the warm-up steps it by hand: flushes that msnld runs as microtasks are queued in
// `later`, and the fake devices are read when the warm-up says so (no setImmediate of theirs).

import { TUNNEL_INTERFACES } from '../abi/interfaces.js';
import { createLogger } from '../base/logger.js';
import type { KeyPair } from '../crypto/primitives.js';
import { Manager } from '../manager/manager.js';
import { MappingTable } from '../manager/mapping-table.js';
import type { MemoryHub, MemoryPeer } from '../msdl/memory.js';
import { DATA_HEADER_SIZE } from '../msnl/constants.js';
import { MsnlEndpoint } from '../msnl/endpoint.js';
import { SEAL_OVERHEAD } from '../msnl/secure-wire.js';
import type { EndpointConfig } from '../msnl/types.js';
import { createFakeTun, type FakeTunPeer } from '../tun/fake.js';
import type { TunDevice } from '../tun/device.js';
import { Tunnel } from '../tunnel/tunnel.js';
import { defaultAead } from './aead.js';
import { ConnectionTunnels } from './conn-tunnels.js';

/** The other host, which this one has a route and mappings to. */
export interface WarmPeer {
  readonly name: string;
  readonly msnl: number;
  /** Its public key, or 'none' (a plain route); read at each call, so the warm-up can switch it. */
  key(): Uint8Array | 'none';
  /** The last octet of its IP address on every msN (10.N.0.<host>). */
  readonly host: number;
}

// Hundreds of calls a second from one source: the per-source call and handshake limits would refuse them.
const UNLIMITED = 1e9;
const CONFIG: Partial<EndpointConfig> = {
  handshakeRatePerSecond: UNLIMITED, handshakeBurst: UNLIMITED, handshakeLoadPerSecond: UNLIMITED,
  callRatePerSource: UNLIMITED, callBurstPerSource: UNLIMITED, callRateTotal: UNLIMITED, callBurstTotal: UNLIMITED,
};
const SILENT = createLogger('info', () => undefined);

export class WarmHost {
  readonly endpoint: MsnlEndpoint<MemoryPeer>;
  readonly manager: Manager<MemoryPeer>;
  readonly tunnels: Tunnel[] = [];
  readonly peers: FakeTunPeer[] = [];
  private readonly devices: TunDevice[] = [];
  private readonly tunnelOfConn = new ConnectionTunnels<Tunnel>();
  private readonly mappings = new MappingTable();

  /** `later`: where the flushes msnld runs as microtasks go (the warm-up runs them). */
  constructor(hub: MemoryHub, readonly name: string, msnl: number, readonly host: number, identity: KeyPair | null, other: WarmPeer, later: Array<() => void>) {
    const node = hub.attach(name);
    const clock = { now: () => performance.timeOrigin + performance.now() };
    // One route: plain functions (msnld's PrefixTable look-ups are a few typed-array reads; building
    // one, a 64 Ki-bucket radix sort, is what the warm-up would otherwise spend its time on).
    const link = hub.peer(other.name);
    this.endpoint = new MsnlEndpoint<MemoryPeer>({
      localAddress: msnl,
      clock,
      transmit: (to, buf, offset, length) => node.send(to, buf.subarray(offset, offset + length)),
      sameLink: (a, b) => a === b,
      peerKeyOf: (address) => (address === other.msnl ? other.key() : undefined),
      identity,
      aead: defaultAead(),
      scheduleSeals: (flush) => later.push(flush),
      scheduleIdle: (work) => later.push(work),
      pathLimitOf: () => ({ maxDatagram: hub.maxDatagram, pinned: false }),
      config: CONFIG,
      events: {
        incomingCall: (call) => this.manager.onIncomingCall(call),
        connected: (handle, info) => this.manager.onConnected(handle, info),
        callFailed: (handle, reason, code) => this.manager.onCallFailed(handle, reason, code),
        data: (connId, buf, offset, length, authenticated) => this.tunnelOfConn.get(connId)?.deliver(connId, buf, offset, length, authenticated),
        disconnected: (connId, reason, byPeer) => this.manager.onDisconnected(connId, reason, byPeer),
        idle: (connId) => this.manager.onIdle(connId),
        echoReply: () => undefined,
      },
    });
    node.onReceive((bytes, from) => this.endpoint.receive(bytes, from));
    this.manager = new Manager<MemoryPeer>({
      endpoint: this.endpoint,
      down: (sock, message) => this.toTunnel(sock, message),
      msnlAddressOf: (ip) => this.mappings.lookup(ip),
      linkOf: (address) => (address === other.msnl ? link : undefined),
      isRouteExit: () => false,
      sameLink: (a, b) => a === b,
      log: SILENT,
      now: clock.now,
    });
    for (const spec of TUNNEL_INTERFACES) {
      // ms0 offloads, as msnld opens it (ms1 and ms2 would run the same framing code; each
      // offloading fake holds 256 KiB of frames).
      const { device, peer } = createFakeTun(spec.name, { mtu: spec.mtu, offload: spec.index === 0 });
      device.setUp(true);
      this.mappings.set(ipOf(spec.index, other.host), 32, other.msnl);
      const tunnel = new Tunnel({
        spec,
        device,
        data: this.endpoint,
        mappings: { msnlAddressOf: (ip) => this.mappings.lookup(ip) },
        up: (message) => this.toManager(message),
        headroom: DATA_HEADER_SIZE,
        // Two packets a call: small read batches (msnld's hold 32, or 8 of 64 KiB on ms3).
        batch: 2,
        datagramPayload: this.endpoint.config.maxDatagram - DATA_HEADER_SIZE - SEAL_OVERHEAD,
        now: clock.now,
      });
      tunnel.setState(ipOf(spec.index, host), 24, true);
      this.devices.push(device);
      this.peers.push(peer);
      this.tunnels.push(tunnel);
    }
  }

  /** Connections the manager holds. */
  get connections(): number {
    return this.manager.connections().size;
  }

  /** Hands a packet to msN as the kernel would route it there, and reads the device. */
  inject(index: number, packet: Uint8Array): void {
    this.peers[index]?.inject(packet);
    this.tunnels[index]?.onReadable();
  }

  /** Releases every connection (the peers learn it) and closes the fake devices. */
  close(): void {
    this.manager.releaseAll(0);
    for (const d of this.devices) d.close();
  }

  // As Daemon.toManager/toTunnel: the connection -> tunnel map follows the MM messages.
  private toManager(message: Uint8Array): void {
    this.tunnelOfConn.up(this.manager, message);
  }

  private toTunnel(sock: number, message: Uint8Array): void {
    this.tunnelOfConn.down(this.tunnels, sock, message);
  }
}

/** 10.N.0.<host>: the warm-up's IP address of a host on msN. */
export function ipOf(index: number, host: number): number {
  return ((10 << 24) | (index << 16) | host) >>> 0;
}
