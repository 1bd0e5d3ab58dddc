// msnld's engine: the four tunnels, the manager, the MSNL endpoint and the underlay, brought to the
// stored desired state by reconcile(). Every I/O edge is injected (store, TUN factory, address
// events, underlay, clock), so two whole daemons run in one process over fakes in tests, and over
// real TUN devices and UDP in msnld.

import { WakeTimer } from './wake-timer.js';
import { warmUp } from './warmup.js';
import { TUNNEL_INTERFACES, type TunnelInterfaceSpec } from '../abi/interfaces.js';
import { formatDottedQuad, type Ipv4Prefix } from '../abi/inet.js';
import { MmReason } from '../abi/constants.js';
import { DecodeError } from '../abi/decode-error.js';
import { decodeMm } from '../abi/mm.js';
import { MsnlEndpoint } from '../msnl/endpoint.js';
import { AuthFailureLog } from '../msnl/auth-log.js';
import { keyPairOf } from '../crypto/primitives.js';
import { DATA_HEADER_SIZE } from '../msnl/constants.js';
import { SEAL_OVERHEAD } from '../msnl/secure-wire.js';
import type { ConnectionInfo, EndpointConfig, EndpointCounters, Health } from '../msnl/types.js';
import { Manager } from '../manager/manager.js';
import { PrefixTable } from '../manager/prefix-table.js';
import { Tunnel } from '../tunnel/tunnel.js';
import type { TunDevice } from '../tun/device.js';
import type { AddrEventSource } from '../tun/addr-events.js';
import type { Store } from '../store/store.js';
import type { DesiredState, InterfaceConfig } from '../store/types.js';
import { causeOf, type Logger } from '../base/logger.js';
import type { Underlay, UnderlaySocket } from '../msdl/underlay.js';
import { DaemonEvents } from './events.js';

export interface DaemonOptions<L> {
  readonly store: Store;
  readonly underlay: Underlay<L>;
  readonly openTun: (spec: TunnelInterfaceSpec) => TunDevice;
  readonly addrEvents?: AddrEventSource;
  readonly log: Logger;
  /** Wall clock, Unix milliseconds. */
  readonly now?: () => number;
  /** --address: overrides the stored default MSNL address. */
  readonly address?: number;
  /** --listen: overrides the stored underlay listen address. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly endpointConfig?: Partial<EndpointConfig>;
  /** How often the store is polled for changes made by other processes (ms). */
  readonly pollMs?: number;
  /** The shortest gap between two runs of the endpoint's timers (ms; default 20). They run when
   *  the earliest deadline comes, not at a fixed rate. */
  readonly tickMs?: number;
  /** Whether start() makes one in-process warm-up call first (src/daemon/warmup.ts; default true). */
  readonly warmUp?: boolean;
}

/** The endpoint's counters and the daemon's own. */
export interface DaemonCounters extends Readonly<EndpointCounters> {
  readonly managerRefusedCalls: number;
  readonly managerBadMessages: number;
  readonly undeliverable: number;
  readonly reconciles: number;
}

/** One tunnel interface as the control socket shows it. */
export interface InterfaceView {
  readonly spec: TunnelInterfaceSpec;
  readonly tunnel: Tunnel;
  readonly device: TunDevice | undefined;
}

/** One live connection as the control socket shows it. */
export interface ConnectionView<L> {
  readonly conn: number;
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number;
  readonly initiator: boolean;
  readonly info: ConnectionInfo<L>;
  readonly health: Health | undefined;
}

/** A call in progress, or the last failed call to a host with no connection since. */
export interface CallView {
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number;
  /** The MSNL port called (the interface's tunnelling port). */
  readonly port: number;
  readonly state: 'calling' | 'failed';
  /** When the call started (calling) or failed (failed), Unix ms. */
  readonly since: number;
  /** msnl(7) reason code of a failed call. */
  readonly reason: number | undefined;
}

/** A tunnel whose peer was lost and is being called again. */
export interface LostTunnelView {
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number | undefined;
  readonly since: number;
}

interface AppliedInterface {
  readonly address: number | null;
  readonly prefixLength: number | null;
  readonly adminUp: boolean;
}

export class Daemon<L> {
  // The parts, readable by tests; the control socket uses the views below instead.
  readonly endpoint: MsnlEndpoint<L>;
  readonly manager: Manager<L>;
  readonly tunnels: Tunnel[] = [];
  readonly devices: TunDevice[] = [];
  /** What `msnl monitor` follows. */
  readonly events: DaemonEvents;
  /** connection id -> the tunnel that owns it, learned from the MM messages between the two halves. */
  private readonly tunnelOfConn = new Map<number, Tunnel>();
  /** Waiters for MSNL Echo replies, by ident (the control socket's ping). */
  private readonly echoWaiters = new Map<number, (rttMs: number) => void>();
  private undeliverable = 0;
  readonly startedAt: number;
  private mappings = PrefixTable.build<number>([]);
  private routes = PrefixTable.build<L>([]);
  /** Per route: the peer's public key, or 'none' (secure MSNL, man/msnl.7). */
  private routeKeys = PrefixTable.build<Uint8Array | 'none'>([]);
  private readonly authLog = new AuthFailureLog();
  private socket: UnderlaySocket<L> | undefined;
  private listenText: string | undefined;
  private readonly applied = new Map<string, AppliedInterface>();
  private lastToken = '';
  private timers: NodeJS.Timeout[] = [];
  /** Runs the endpoint's timers at its next deadline. */
  private readonly endpointTimer: WakeTimer;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private stopped = false;
  reconciles = 0;

  constructor(private readonly options: DaemonOptions<L>) {
    // Wall-clock milliseconds with sub-millisecond resolution, so probe RTTs are not whole ms.
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.startedAt = this.now();
    this.events = new DaemonEvents(() => this.now());
    const log = options.log;
    this.endpointTimer = new WakeTimer(() => this.endpoint.tick(), this.now, options.tickMs ?? 20);
    this.endpoint = new MsnlEndpoint<L>({
      wake: (at) => this.endpointTimer.arm(at),
      localAddress: options.address ?? 0,
      clock: { now: this.now },
      transmit: (link, buf, offset, length) => this.socket?.send(link, buf, offset, length),
      sameLink: (a, b) => options.underlay.same(a, b),
      peerKeyOf: (address) => this.routeKeys.lookup(address),
      config: options.endpointConfig,
      events: {
        incomingCall: (call) => this.manager.onIncomingCall(call),
        connected: (handle, info) => this.manager.onConnected(handle, info),
        callFailed: (handle, reason, code) => this.manager.onCallFailed(handle, reason, code),
        data: (connId, buf, offset, length) => this.deliver(connId, buf, offset, length),
        disconnected: (connId, reason, byPeer) => this.manager.onDisconnected(connId, reason, byPeer),
        idle: (connId) => this.manager.onIdle(connId),
        echoReply: (ident, from, payload, rttMs) => this.echoWaiters.get(ident)?.(rttMs),
        authFailed: (address, reason) => {
          const line = this.authLog.line(address, reason, this.now());
          if (line !== undefined) log.error(line);
        },
      },
    });
    this.manager = new Manager<L>({
      endpoint: this.endpoint,
      down: (sock, message) => this.toTunnel(sock, message),
      msnlAddressOf: (ip) => this.mappings.lookup(ip),
      linkOf: (msnl) => this.routes.lookup(msnl),
      sameLink: (a, b) => options.underlay.same(a, b),
      log,
      now: this.now,
      onEvent: (event) => this.events.fromManager(event, (sock) => this.tunnels[sock - 1]?.spec.name),
    });
    for (const spec of TUNNEL_INTERFACES) {
      const device = options.openTun(spec);
      this.devices.push(device);
      const tunnel = new Tunnel({
        spec,
        device,
        data: this.endpoint,
        mappings: { msnlAddressOf: (ip) => this.mappings.lookup(ip) },
        up: (message) => this.toManager(message),
        headroom: DATA_HEADER_SIZE,
        // Room for the sealed-frame header and tag too, so a keyed connection's TCP segment is one
        // sealed datagram, not two (a plain one gives up 32 of 1456 octets).
        datagramPayload: this.endpoint.config.maxDatagram - DATA_HEADER_SIZE - SEAL_OVERHEAD,
        now: this.now,
      });
      this.tunnels.push(tunnel);
      device.onReadable(() => tunnel.onReadable());
    }
  }

  // The manager-message channel. Messages go across synchronously, in order, as encoded bytes:
  // each side decodes a message before acting on it, so a reply sent from inside a handler is safe,
  // and data that follows a MMDOWN_CONNECTED/NEWCONN can never overtake it. The daemon reads the
  // messages that start and end connections as they pass, so the packet path finds a connection's
  // tunnel without asking the manager (the two halves could run in separate processes).
  private toManager(message: Uint8Array): void {
    const msg = decodeMm(message);
    if (!(msg instanceof DecodeError) && msg.type === 'MMUP_DISCONNECT') this.tunnelOfConn.delete(msg.conn);
    this.manager.onUp(message);
  }

  private toTunnel(sock: number, message: Uint8Array): void {
    const tunnel = this.tunnels[sock - 1];
    if (tunnel === undefined) return;
    const msg = decodeMm(message);
    if (!(msg instanceof DecodeError)) {
      switch (msg.type) {
        case 'MMDOWN_NEWCONN':
        case 'MMDOWN_CONNECTED':
          this.tunnelOfConn.set(msg.conn, tunnel);
          break;
        case 'MMDOWN_DISCONNECT':
          this.tunnelOfConn.delete(msg.conn);
          break;
        case 'MMDOWN_FINAL':
          for (const [conn, owner] of this.tunnelOfConn) if (owner === tunnel) this.tunnelOfConn.delete(conn);
          break;
        default:
      }
    }
    tunnel.onDown(message);
  }

  private deliver(connId: number, buf: Uint8Array, offset: number, length: number): void {
    const tunnel = this.tunnelOfConn.get(connId);
    if (tunnel === undefined) {
      this.undeliverable++;
      return;
    }
    tunnel.deliver(connId, buf, offset, length);
  }

  /** Starts everything and applies the stored state. */
  async start(): Promise<void> {
    this.options.addrEvents?.onEvent((ev) => {
      if (ev.kind === 'overrun') this.refreshDevices();
      else this.refreshDevice(TUNNEL_INTERFACES.findIndex((s) => s.name === ev.ifname));
    });
    await this.reconcile(true);
    if (this.options.warmUp !== false) {
      const started = performance.now();
      const keyed = this.endpoint.publicKey !== null;
      const ok = warmUp(keyed);
      this.options.log.verbose(`warm-up call${keyed ? ' (keyed)' : ''} ${ok ? 'done' : 'did not complete'} in ${(performance.now() - started).toFixed(1)} ms`);
    }
    this.endpointTimer.start();
    this.endpoint.tick();
    this.timers.push(setInterval(() => this.tunnels.forEach((t) => t.tick()), 250));
    this.timers.push(setInterval(() => void this.pollStore(), this.options.pollMs ?? 250));
    this.timers.push(setInterval(() => this.refreshDevices(), 1000));
  }

  private async pollStore(): Promise<void> {
    try {
      if (this.options.store.changeToken() !== this.lastToken) await this.reconcile(false);
    } catch (error) {
      this.options.log.error(`failed to read database: ${causeOf(error)}`);
    }
  }

  /**
   * Brings running state to the stored state. Idempotent: with `force` (start, SIGHUP) every
   * interface is re-applied; otherwise only what changed since the last reconcile.
   */
  async reconcile(force: boolean): Promise<void> {
    if (this.stopped) return;
    const { store, log } = this.options;
    this.lastToken = store.changeToken();
    const desired = store.snapshot();
    this.reconciles++;
    await this.applyUnderlay(desired);
    this.applyHost(desired);
    this.applyTables(desired);
    desired.interfaces.forEach((cfg) => this.applyInterface(cfg, force));
    this.refreshDevices();
    this.scheduleExpiry();
    log.verbose(`reconciled: ${desired.mappings.length} mappings, ${desired.routes.length} routes`);
    this.events.emit({ event: 'reconcile', reason: force ? 'forced' : 'database changed' });
  }

  private async applyUnderlay(desired: DesiredState): Promise<void> {
    const listen = this.options.listen ?? { host: desired.host.listenHost, port: desired.host.listenPort };
    const text = `${listen.host}:${listen.port}`;
    if (text === this.listenText && this.socket !== undefined) return;
    const previous = this.socket;
    this.socket = undefined;
    if (previous !== undefined) await previous.close();
    try {
      this.socket = await this.options.underlay.open(listen.host, listen.port, (buf, offset, length, link) => this.endpoint.receiveFrame(buf, offset, length, link));
      this.listenText = text;
      const kind = this.socket.kind;
      this.options.log.info(`listening on underlay ${this.socket.describe()}${kind === undefined ? '' : ` (${kind})`}`);
    } catch (error) {
      this.listenText = undefined;
      this.options.log.error(`failed to listen on underlay ${text}: ${causeOf(error)}`);
    }
  }

  private applyHost(desired: DesiredState): void {
    this.endpoint.setIdentity(desired.privateKey === null ? null : keyPairOf(desired.privateKey));
    const address = this.options.address ?? desired.host.msnlAddress;
    if (address === this.endpoint.localAddress) return;
    this.endpoint.setLocalAddress(address);
    this.manager.hostSet(address);
    this.options.log.info(`default MSNL address ${formatDottedQuad(address)}`);
  }

  private applyTables(desired: DesiredState): void {
    this.mappings = PrefixTable.build(desired.mappings.map((m) => ({ prefix: m.prefix, value: m.msnlAddress })));
    const links: Array<{ prefix: Ipv4Prefix; value: L }> = [];
    for (const route of desired.routes) links.push({ prefix: route.prefix, value: this.options.underlay.link(route.host, route.port) });
    this.routes = PrefixTable.build(links);
    this.routeKeys = PrefixTable.build(desired.routes.map((r) => ({ prefix: r.prefix, value: r.publicKey ?? ('none' as const) })));
    this.manager.mappingsChanged();
    for (const tunnel of this.tunnels) tunnel.revalidate();
  }

  /**
   * Applies one interface's stored state to the kernel. An interface is msnl's when the database
   * gives it an address or stores it up; one that is neither (the default) belongs to ip(8) and
   * is never touched, except to carry out an msnl edit that hands it back (delete, down). msnl's
   * interfaces get the stored state at start, on reload (`force`) and when it changes; in between,
   * changes made with ip(8) stay (msnl ifconfig shows them beside the stored state), and when
   * msnld does override the kernel it logs what the kernel had.
   */
  private applyInterface(cfg: InterfaceConfig, force: boolean): void {
    const index = TUNNEL_INTERFACES.findIndex((s) => s.name === cfg.name);
    const device = this.devices[index];
    if (device === undefined) return;
    const last = this.applied.get(cfg.name);
    const want: AppliedInterface = { address: cfg.address, prefixLength: cfg.prefixLength, adminUp: cfg.adminUp };
    const changed = last === undefined || last.address !== want.address || last.prefixLength !== want.prefixLength || last.adminUp !== want.adminUp;
    if (!force && !changed) return;
    const managed = (s: AppliedInterface | undefined): boolean => s !== undefined && (s.address !== null || s.adminUp);
    if (!managed(want) && !(changed && managed(last))) {
      this.applied.set(cfg.name, want);
      return;
    }
    const log = this.options.log;
    try {
      const actual = device.getAddress();
      if (want.address !== null && want.prefixLength !== null) {
        if (actual?.address !== want.address || actual.prefixLength !== want.prefixLength) {
          const stored = `${formatDottedQuad(want.address)}/${want.prefixLength}`;
          if (actual !== undefined) log.info(`${cfg.name}: replacing the kernel's address ${formatDottedQuad(actual.address)}/${actual.prefixLength} with the stored ${stored}`);
          device.setAddress(want.address, want.prefixLength);
        }
      } else if (changed && last !== undefined && last.address !== null && actual !== undefined) {
        device.removeAddress();
      }
      if (want.adminUp !== device.isUp()) {
        if (!changed) log.info(`${cfg.name}: setting the interface ${want.adminUp ? 'up' : 'down'} as stored (it was set ${want.adminUp ? 'down' : 'up'} outside msnl)`);
        device.setUp(want.adminUp);
      }
      this.applied.set(cfg.name, want);
    } catch (error) {
      log.error(`failed to configure ${cfg.name}: ${causeOf(error)}`);
    }
  }

  /** Reads the devices' actual address and state into the tunnels (bind/unbind as needed). */
  refreshDevices(): void {
    for (let i = 0; i < this.tunnels.length; i++) this.refreshDevice(i);
  }

  private refreshDevice(index: number): void {
    const device = this.devices[index];
    const tunnel = this.tunnels[index];
    if (device === undefined || tunnel === undefined || device.closed) return;
    try {
      const address = device.getAddress();
      tunnel.setState(address?.address, address?.prefixLength ?? 0, device.isUp());
    } catch (error) {
      this.options.log.error(`failed to read the state of ${tunnel.spec.name}: ${causeOf(error)}`);
    }
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.options.store.nextExpiry();
    if (next === undefined) return;
    const delay = Math.min(Math.max(next - this.now(), 0) + 5, 0x7fffffff);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      void this.reconcile(false).catch((error) => this.options.log.error(`failed to expire mappings: ${causeOf(error)}`));
    }, delay);
  }

  // Read-only views for the control socket: it renders these and never holds the daemon's parts.

  /** True when the route to an MSNL address has a key (secure MSNL). */
  isKeyed(msnlAddress: number): boolean {
    return this.routeKeys.lookup(msnlAddress) instanceof Uint8Array;
  }

  /** The MSNL route to an address, for ping. */
  linkOf(msnlAddress: number): L | undefined {
    return this.routes.lookup(msnlAddress);
  }

  /** MSNL address an IP maps to, for display. */
  msnlAddressOf(ip: number): number | undefined {
    return this.mappings.lookup(ip);
  }

  /** The stored settings this daemon's command line overrides (--address, --listen). */
  get overrides(): string[] {
    return [...(this.options.address !== undefined ? ['address'] : []), ...(this.options.listen !== undefined ? ['listen'] : [])];
  }

  get listening(): string | undefined {
    return this.socket?.describe();
  }

  get localAddress(): number {
    return this.endpoint.localAddress;
  }

  get echoTimeoutMs(): number {
    return this.endpoint.config.echoTimeoutMs;
  }

  /** The endpoint's counters and the daemon's own, by camelCase name. */
  counters(): DaemonCounters {
    return {
      ...this.endpoint.counters,
      managerRefusedCalls: this.manager.refusedCalls,
      managerBadMessages: this.manager.badMessages,
      undeliverable: this.undeliverable,
      reconciles: this.reconciles,
    };
  }

  *interfaces(): IterableIterator<InterfaceView> {
    for (let i = 0; i < this.tunnels.length; i++) {
      const tunnel = this.tunnels[i]!;
      yield { spec: tunnel.spec, tunnel, device: this.devices[i] };
    }
  }

  *connections(): IterableIterator<ConnectionView<L>> {
    for (const c of this.manager.connections().values()) {
      const info = this.endpoint.connection(c.conn);
      if (info === undefined) continue;
      const interfaceName = this.tunnels[c.sock - 1]?.spec.name ?? '?';
      yield { conn: c.conn, interfaceName, peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, initiator: c.initiator, info, health: this.endpoint.health(c.conn) };
    }
  }

  *calls(): IterableIterator<CallView> {
    for (const call of this.manager.callRecords()) {
      const interfaceName = this.tunnels[call.sock - 1]?.spec.name ?? '?';
      yield { interfaceName, peerIp: call.peerIp, remoteMsnl: call.remoteMsnl, port: call.port, state: call.state, since: call.since, reason: call.reason };
    }
  }

  *lostTunnels(): IterableIterator<LostTunnelView> {
    for (const tunnel of this.tunnels) {
      for (const lost of tunnel.lostPeers()) {
        yield { interfaceName: tunnel.spec.name, peerIp: lost.peer, remoteMsnl: this.mappings.lookup(lost.peer), since: lost.since };
      }
    }
  }

  /** Releases a connection as an operator asked; false when there is no such connection. */
  disconnect(connId: number): boolean {
    if (!this.manager.connections().has(connId)) return false;
    this.manager.release(connId, MmReason.NORMAL, true);
    return true;
  }

  /**
   * Sends one MSNL Echo to `msnlAddress` over `link`; resolves with the round trip in ms, or null
   * on timeout or abort.
   */
  echo(msnlAddress: number, link: L, payload: Uint8Array, signal: AbortSignal): Promise<number | null> {
    return new Promise<number | null>((resolve) => {
      const ident = this.endpoint.echo(msnlAddress, link, payload);
      const finish = (value: number | null): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        this.echoWaiters.delete(ident);
        resolve(value);
      };
      const aborted = (): void => finish(null);
      const timer = setTimeout(() => finish(null), this.endpoint.config.echoTimeoutMs);
      signal.addEventListener('abort', aborted);
      this.echoWaiters.set(ident, (rttMs) => finish(rttMs));
    });
  }

  /**
   * Disconnects every connection so peers learn at once, then closes the underlay and devices.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.endpointTimer.stop();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.manager.releaseAll(MmReason.SHUTDOWN);
    this.options.addrEvents?.onEvent(null);
    this.options.addrEvents?.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.socket?.close();
    this.socket = undefined;
    for (const device of this.devices) {
      device.onReadable(null);
      device.close();
    }
  }
}
