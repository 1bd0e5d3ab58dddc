// msnld's engine: the four tunnels, the manager, the MSNL endpoint and the underlay, brought to the
// stored desired state by reconcile(). Every I/O edge is injected (store, TUN factory, address
// events, underlay, clock), so two whole daemons run in one process over fakes in tests, and over
// real TUN devices and UDP in msnld.

import { defaultAead } from './aead.js';
import { WakeTimer } from './wake-timer.js';
import { Housekeeping } from './housekeeping.js';
import { TUNNEL_INTERFACES } from '../abi/interfaces.js';
import { formatDottedQuad } from '../abi/inet.js';
import { MmReason, MmType } from '../abi/constants.js';
import { ConnectionTunnels } from './conn-tunnels.js';
import { mmTypeOf } from '../abi/mm.js';
import { MsnlEndpoint } from '../msnl/endpoint.js';
import { AuthFailureLog } from '../msnl/auth-log.js';
import { keyPairOf } from '../crypto/primitives.js';
import { DATA_HEADER_SIZE } from '../msnl/constants.js';
import { SEAL_OVERHEAD } from '../msnl/secure-wire.js';
import { HealthWatch } from './health-watch.js';
import { Manager } from '../manager/manager.js';
import { Tunnel } from '../tunnel/tunnel.js';
import type { TunDevice } from '../tun/device.js';
import type { DesiredSettings } from '../store/types.js';
import { causeOf } from '../base/logger.js';
import { DaemonEvents } from './events.js';
import { Reconciler } from './reconciler.js';
import { InterfaceConfigurator } from './interface-config.js';
import { RouteTables } from './route-tables.js';
import { UnderlayBinding } from './underlay-binding.js';
import { DaemonView } from './daemon-view.js';
import { EchoWaiters } from './echo-waiters.js';
import type { DaemonOptions } from './daemon-types.js';

export type { CallView, ConnectionView, DaemonCounters, DaemonOptions, InterfaceView, LostTunnelView } from './daemon-types.js';

export class Daemon<L> {
  // The parts, readable by tests; the control socket reads `view` (daemon-view.ts) instead.
  readonly endpoint: MsnlEndpoint<L>;
  readonly manager: Manager<L>;
  readonly tunnels: Tunnel[] = [];
  readonly devices: TunDevice[] = [];
  /** What `msnl monitor` follows. */
  readonly events: DaemonEvents;
  private readonly healthWatch: HealthWatch;
  /** connection id -> the tunnel that owns it, learned from the MM messages between the two halves. */
  private readonly tunnelOfConn = new ConnectionTunnels<Tunnel>();
  /** Waiters for MSNL Echo replies (the control socket's ping). */
  private readonly echoes = new EchoWaiters();
  /** What the control socket and the health watch read. */
  readonly view: DaemonView<L>;
  private undeliverable = 0;
  readonly startedAt: number;
  /** The mapping table, kept equal to the store from its change log. */
  private readonly reconciler: Reconciler;
  private reconciling: Promise<void> = Promise.resolve();
  /** The stored routes by MSNL prefix: exits, keys, pinned MTUs. */
  private readonly routes: RouteTables<L>;
  private readonly authLog = new AuthFailureLog();
  /** The underlay socket, bound where the store says to listen. */
  private readonly underlay: UnderlayBinding<L>;
  private readonly interfaceConfig: InterfaceConfigurator;
  private lastToken = '';
  private pollBusy = false;
  /** The periodic work: one turn a second, faster only while a tunnel redials, the store watched. */
  private readonly housekeeping: Housekeeping;
  /** Runs the endpoint's timers at its next deadline. */
  private readonly endpointTimer: WakeTimer;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private stopped = false;
  private readonly upUntil = (conn: number): number => this.endpoint.upUntil(conn);
  private readonly stillUp = (conn: number, now: number): boolean => this.healthWatch.stillUpAt(conn, now, this.upUntil);
  reconciles = 0;

  constructor(private readonly options: DaemonOptions<L>) {
    // Wall-clock milliseconds with sub-millisecond resolution, so probe RTTs are not whole ms.
    // performance.timeOrigin is a getter (some 65 ns a read): read once; a call reads the clock
    // some twenty times.
    const origin = performance.timeOrigin;
    const perf = performance;
    this.now = options.now ?? (() => origin + perf.now());
    this.startedAt = this.now();
    this.events = new DaemonEvents(() => this.now());
    this.healthWatch = new HealthWatch(options.log, this.events);
    this.reconciler = new Reconciler({
      log: options.store.mappingLog,
      onMapping: (address, length, msnl) => {
        if (!this.events.listening) return;
        const prefix = `${formatDottedQuad(address)}/${length}`;
        this.events.emit({ event: 'mapping', prefix, state: msnl === undefined ? 'deleted' : 'set', remote_address: msnl === undefined ? null : formatDottedQuad(msnl) });
      },
    });
    this.interfaceConfig = new InterfaceConfigurator(options.log);
    const underlay = (this.underlay = new UnderlayBinding(options.underlay, options.log));
    this.routes = new RouteTables<L>((host, port) => options.underlay.link(host, port));
    const log = options.log;
    this.endpointTimer = new WakeTimer(() => this.endpoint.tick(), this.now, options.tickMs ?? 20);
    this.housekeeping = new Housekeeping({
      second: () => {
        this.tunnelTick();
        this.refreshDevices();
        this.healthWatch.second(this.now(), this.manager.connectionsGeneration, (now) => this.view.watched(now, this.stillUp), (ids, now) => this.view.watchedOnly(ids, now, this.stillUp));
      },
      fast: () => this.tunnelTick(),
      fastWanted: () => this.tunnels.some((t) => t.redialing),
      pollStore: () => this.pollStore(),
      storePath: options.store.path,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      onWatchError: (error) => options.log.verbose(`not watching the database for changes (polled each second): ${error.message}`),
    });
    this.endpoint = new MsnlEndpoint<L>({
      wake: (at) => this.endpointTimer.arm(at),
      localAddress: options.address ?? 0,
      clock: { now: this.now },
      transmit: (link, buf, offset, length) => underlay.socket?.send(link, buf, offset, length),
      transmitRun: (link, count, stride, last, fill) => underlay.socket?.sendRun?.(link, count, stride, last, fill) ?? null,
      sameLink: (a, b) => options.underlay.same(a, b),
      ...(options.underlay.pathKey === undefined ? {} : { pathKeyOf: (link: L) => options.underlay.pathKey!(link) }),
      peerKeyOf: (address) => this.routes.keyOf(address),
      aead: defaultAead(),
      scheduleSeals: queueMicrotask,
      scheduleIdle: (work) => void setImmediate(work),
      pathLimitOf: (link, address) => {
        const pinned = this.routes.mtuOf(address);
        if (pinned !== undefined) return { maxDatagram: pinned - options.underlay.headerOctets(link), pinned: true };
        const maxDatagram = options.underlay.pathLimit?.(link);
        return maxDatagram === undefined ? undefined : { maxDatagram, pinned: false };
      },
      exitsOf: (address) => this.routes.exitsOf(address),
      receivedAgo: () => underlay.socket?.receivedAgo?.() ?? NaN,
      config: options.endpointConfig,
      events: {
        incomingCall: (call) => this.manager.onIncomingCall(call),
        connected: (handle, info) => {
          // An accepted call: its confirm is queued, and the caller waits for it while the manager
          // writes its line and tells the tunnel (bench/README.md "First reply, issue 20").
          if (handle === undefined) underlay.socket?.sendSoon?.();
          this.manager.onConnected(handle, info);
        },
        callFailed: (handle, reason, code) => this.manager.onCallFailed(handle, reason, code),
        data: (connId, buf, offset, length, authenticated) => this.deliver(connId, buf, offset, length, authenticated),
        disconnected: (connId, reason, byPeer) => this.manager.onDisconnected(connId, reason, byPeer),
        idle: (connId) => this.manager.onIdle(connId),
        echoReply: (ident, from, payload, rttMs) => this.echoes.replied(ident, rttMs),
        exitMoved: (connId, link, reason) => log.info(`connection ${connId} moved to exit ${options.underlay.linkText(link)} (${reason === 'down' ? 'the exit in use stopped answering' : 'a preferred exit answers again'})`),
        authFailed: (address, reason) => {
          const line = this.authLog.line(address, reason, this.now());
          if (line !== undefined) log.error(line);
        },
      },
    });
    this.manager = new Manager<L>({
      endpoint: this.endpoint,
      down: (sock, message) => this.toTunnel(sock, message),
      msnlAddressOf: (ip) => this.reconciler.table.lookup(ip),
      linkOf: (msnl) => this.routes.linkOf(msnl),
      isRouteExit: (msnl, link) => this.routes.exitsOf(msnl)?.some((e) => options.underlay.same(e.link, link)) === true,
      sameLink: (a, b) => options.underlay.same(a, b),
      log,
      now: this.now,
      onEvent: (event) => this.events.fromManager(event, (sock) => this.tunnels[sock - 1]?.spec.name),
      eventsWanted: () => this.events.listening,
      connectionLinesPerSecond: options.connectionLinesPerSecond,
    });
    for (const spec of TUNNEL_INTERFACES) {
      const device = options.openTun(spec);
      this.devices.push(device);
      const tunnel = new Tunnel({
        spec,
        device,
        data: this.endpoint,
        mappings: { msnlAddressOf: (ip) => this.reconciler.table.lookup(ip) },
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
    this.view = new DaemonView<L>({
      endpoint: this.endpoint,
      manager: this.manager,
      tunnels: this.tunnels,
      devices: this.devices,
      routes: this.routes,
      underlay: options.underlay,
      binding: underlay,
      msnlAddressOf: (ip) => this.reconciler.table.lookup(ip),
      overrides: [...(options.address !== undefined ? ['address'] : []), ...(options.listen !== undefined ? ['listen'] : [])],
      own: () => ({ undeliverable: this.undeliverable, reconciles: this.reconciles }),
    });
  }

  // The manager-message channel. Messages go across synchronously, in order, as encoded bytes:
  // each side decodes a message before acting on it, so a reply sent from inside a handler is safe,
  // and data that follows a MMDOWN_CONNECTED/NEWCONN can never overtake it. The daemon reads the
  // messages that start and end connections as they pass, so the packet path finds a connection's
  // tunnel without asking the manager (the two halves could run in separate processes).
  private toManager(message: Uint8Array): void {
    this.tunnelOfConn.up(this.manager, message);
  }

  private toTunnel(sock: number, message: Uint8Array): void {
    const tunnel = this.tunnelOfConn.down(this.tunnels, sock, message);
    if (tunnel !== undefined && mmTypeOf(message) === MmType.MMDOWN_DISCONNECT && tunnel.redialing) this.housekeeping.fastFollows();
  }

  private deliver(connId: number, buf: Uint8Array, offset: number, length: number, authenticated: boolean): void {
    const tunnel = this.tunnelOfConn.get(connId);
    if (tunnel === undefined) {
      this.undeliverable++;
      return;
    }
    tunnel.deliver(connId, buf, offset, length, authenticated);
  }

  /** Starts everything and applies the stored state. */
  async start(): Promise<void> {
    this.options.addrEvents?.onEvent((ev) => {
      if (ev.kind === 'overrun') this.refreshDevices();
      else this.refreshDevice(TUNNEL_INTERFACES.findIndex((s) => s.name === ev.ifname));
    });
    await this.reconcile(true);
    this.endpointTimer.start();
    this.endpoint.tick();
    this.housekeeping.start();
  }

  private pollStore(): void {
    if (this.pollBusy) return; // a reconcile is still running: the next poll looks again
    try {
      if (this.options.store.changeToken() === this.lastToken) return;
    } catch (error) {
      this.options.log.error(`failed to read database: ${causeOf(error)}`);
      return;
    }
    this.pollBusy = true;
    void this.reconcile(false)
      .catch((error) => {
        if (!this.stopped) this.options.log.error(`failed to read database: ${causeOf(error)}`);
      })
      .finally(() => (this.pollBusy = false));
  }

  /** Reconciles when the database changed since the last reconcile (the poll, and `msnl`'s edits through sync=1). */
  async applyChanges(): Promise<void> {
    if (this.options.store.changeToken() !== this.lastToken) await this.reconcile(false);
  }

  /**
   * Brings running state to the stored state. Idempotent: with `force` (start, SIGHUP) every
   * interface is re-applied and the mappings are re-read whole (in slices); otherwise only what
   * changed since the last reconcile, mappings from the store's change log. Serialised.
   */
  reconcile(force: boolean): Promise<void> {
    const next = this.reconciling.catch(() => undefined).then(() => this.reconcileNow(force));
    this.reconciling = next;
    return next;
  }

  private async reconcileNow(force: boolean): Promise<void> {
    if (this.stopped) return;
    const { store, log } = this.options;
    this.lastToken = store.changeToken();
    const desired = store.settings();
    this.reconciles++;
    await this.applyUnderlay(desired);
    this.applyHost(desired);
    const routesChanged = this.applyRoutes(desired, force);
    const synced = await this.reconciler.sync(force);
    if (this.stopped) return;
    if (routesChanged || synced.kind !== 'none') {
      this.manager.mappingsChanged();
      for (const tunnel of this.tunnels) tunnel.revalidate();
    }
    desired.interfaces.forEach((cfg) => this.interfaceConfig.apply(this.devices[TUNNEL_INTERFACES.findIndex((s) => s.name === cfg.name)], cfg, force));
    this.refreshDevices();
    this.scheduleExpiry();
    log.verbose(`reconciled: ${this.reconciler.table.size} mappings (${synced.kind}, ${synced.changes} changes), ${desired.routes.length} routes`);
    this.events.emit({ event: 'reconcile', reason: force ? 'forced' : 'database changed' });
  }

  /** The mapping table's size and memory, and the whole re-reads done (bench, tests). */
  get mappingStats(): { readonly size: number; readonly bytes: number; readonly fullReads: number; readonly appliedSeq: number; readonly longestSliceMs: number } {
    const { table, fullReads, appliedSeq, longestSliceMs } = this.reconciler;
    return { size: table.size, bytes: table.byteLength, fullReads, appliedSeq, longestSliceMs };
  }

  // Tunnel timers, and the TCP segment size: whole datagrams of the smallest path in use.
  private tunnelTick(): void {
    const payload = this.endpoint.smallestPathDatagram() - DATA_HEADER_SIZE - SEAL_OVERHEAD;
    for (const t of this.tunnels) {
      t.setDatagramPayload(payload);
      t.tick();
    }
  }

  private async applyUnderlay(desired: DesiredSettings): Promise<void> {
    const listen = this.options.listen ?? { host: desired.host.listenHost, port: desired.host.listenPort };
    await this.underlay.bind(listen.host, listen.port, this.endpoint);
  }

  private applyHost(desired: DesiredSettings): void {
    this.endpoint.setIdentity(desired.privateKey === null ? null : keyPairOf(desired.privateKey));
    const address = this.options.address ?? desired.host.msnlAddress;
    if (address === this.endpoint.localAddress) return;
    this.endpoint.setLocalAddress(address);
    this.manager.hostSet(address);
    this.options.log.info(`default MSNL address ${formatDottedQuad(address)}`);
  }

  /** Rebuilds the route tables when they changed or on a forced reconcile; true if rebuilt. */
  private applyRoutes(desired: DesiredSettings, force: boolean): boolean {
    if (!this.routes.apply(desired.routes, force)) return false;
    this.endpoint.preparePeers(this.routes.peerKeys);
    return true;
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

  /**
   * Runs the read path of every device and of the underlay socket as their readable events would:
   * they read what waits (handled as always) and nothing when nothing does. msnld's warm-up calls
   * it each turn, so a first call finds the real devices' and socket's code warm, not only the
   * warm-up's stand-ins' (bench/README.md "First reply, the real path").
   */
  pollNow(): void {
    for (const device of this.devices) device.pollNow?.();
    this.underlay.socket?.pollNow?.();
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
    return this.echoes.wait(this.endpoint.echo(msnlAddress, link, payload), this.endpoint.config.echoTimeoutMs, signal);
  }

  /**
   * Disconnects every connection so peers learn at once, then closes the underlay and devices.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.reconciler.cancel();
    this.housekeeping.stop();
    this.endpointTimer.stop();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.manager.releaseAll(MmReason.SHUTDOWN);
    this.manager.summariseLog();
    this.options.addrEvents?.onEvent(null);
    this.options.addrEvents?.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.underlay.close();
    for (const device of this.devices) {
      device.onReadable(null);
      device.close();
    }
  }
}

