// msnld's membership of a fleet: the I/O shell around FleetState. One session at a time: grant a
// lease, put this host's record on it, re-list when there is no applied revision (or after a
// compaction), watch from the revision last applied, renew the lease every TTL/3. Each watch
// response becomes one store transaction (FleetStore.apply); the daemon's change detection then
// reconciles as after any local edit. When etcd fails the session ends, the cached table stays
// and forwarding goes on; a new session starts with back-off (0.5 s doubling to 5 s).
import { ArgumentError, formatDottedQuad } from '../abi/inet.js';
import { parseHostPort, type HostPort } from '../abi/endpoint.js';
import { causeOf, type Logger } from '../base/logger.js';
import type { Store } from '../store/store.js';
import type { ClusterBatch } from '../store/fleet-store.js';
import type { EtcdClient, WatchMessage } from './etcd.js';
import { KEY_PREFIX, MAX_PREFIXES, encodeRecord, recordKey, type HostRecord } from './record.js';
import { FleetState, type KvEvent } from './state.js';

export interface FleetIdentity {
  /** This host's MSNL address as the daemon uses it (0: none yet). */
  readonly msnlAddress: number;
  /** The underlay address the daemon listens on, `HOST:PORT`, if it does. */
  readonly listen: string | undefined;
}

export interface FleetSessionOptions {
  readonly store: Store;
  readonly client: EtcdClient;
  readonly ttlS: number;
  readonly log: Logger;
  readonly identity: () => FleetIdentity;
  /** Endpoints to publish instead of the listen address (`HOST:PORT`, comma-separated); '' for none. */
  readonly endpoints?: string;
  /** How often the store is checked for changes to this host's own record (ms, default 500). */
  readonly pollMs?: number;
}

export interface FleetStatus {
  readonly live: boolean;
  readonly revision: number;
  readonly hosts: number;
  readonly conflicts: number;
  readonly skipped: number;
  readonly error: string | undefined;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export class FleetSession {
  private readonly state: FleetState;
  private stopped = false;
  private live = false;
  private lastError: string | undefined;
  private lease: string | undefined;
  private published: { key: string; value: string } | undefined;
  private token: string | undefined;
  private cleanups: Array<() => void> = [];
  private pending: KvEvent[] = [];
  private pendingRevision = 0;
  private flushScheduled = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: FleetSessionOptions) {
    this.state = new FleetState(options.identity().msnlAddress, options.log);
  }

  /** Loads the cached fleet (so forwarding starts at once) and starts the first session. */
  start(): void {
    const fleet = this.options.store.fleet();
    this.state.load(fleet.hosts(), fleet.revision());
    this.options.log.info(`fleet: ${this.state.hosts.size} cached hosts at revision ${this.state.revision}; joining ${this.options.client.url.host}`);
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cleanup();
    const lease = this.lease;
    this.lease = undefined;
    // Leaving on purpose: the record goes now, not after the TTL.
    if (lease !== undefined) await this.options.client.revoke(lease).catch(() => undefined);
    await this.running;
  }

  status(): FleetStatus {
    return { live: this.live, revision: this.state.revision, hosts: this.state.hosts.size, conflicts: this.state.conflictCount, skipped: this.state.skipped, error: this.lastError };
  }

  /** One line for `msnl status`. */
  describe(): string {
    const s = this.status();
    const head = s.live ? `live, watching at revision ${s.revision}` : `not live (${s.error ?? 'connecting'}), cached revision ${s.revision}`;
    return `${head}, ${s.hosts} hosts, ${s.conflicts} conflicts via ${this.options.client.url.host}`;
  }

  private async loop(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      try {
        await this.session();
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof CompactedError) {
          this.state.revision = 0; // the next session lists the fleet again
          this.live = false;
          this.cleanup();
          continue;
        }
        const message = causeOf(error);
        if (message !== this.lastError || this.live) this.options.log.warn(`fleet: etcd ${this.options.client.url.host}: ${message}; forwarding goes on from the cached table (revision ${this.state.revision}), retrying`);
        this.lastError = message;
        if (this.live) backoff = 500;
      }
      this.live = false;
      this.cleanup();
      this.lease = undefined;
      if (this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private cleanup(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  private session(): Promise<void> {
    return new Promise<void>((_resolve, reject) => {
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        this.cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const { client, ttlS } = this.options;
      void (async () => {
        this.lease = await client.grant(ttlS);
        this.published = undefined;
        await this.publish(true);
        // A cached revision ahead of etcd's: another (or a rebuilt) etcd cluster; list it afresh
        // rather than wait for revisions it may never reach.
        if (this.state.revision > 0 && this.state.revision > (await client.revision())) {
          this.options.log.warn(`fleet: etcd is at an older revision than the cached ${this.state.revision} (another cluster?); listing the fleet again`);
          this.state.revision = 0;
        }
        if (this.state.revision === 0) await this.relist();
        if (failed || this.stopped) return;
        this.startWatch(fail);
        const keepAlive = setInterval(() => {
          const lease = this.lease;
          if (lease === undefined) return;
          client.keepAlive(lease).then((ttl) => {
            if (ttl <= 0) fail(new Error(`lease ${lease} expired before it was renewed`));
          }, fail);
        }, Math.max(500, (ttlS * 1000) / 3));
        const poll = setInterval(() => void this.publish(false).catch(fail), this.options.pollMs ?? 500);
        this.cleanups.push(() => clearInterval(keepAlive), () => clearInterval(poll));
      })().catch(fail);
    });
  }

  private startWatch(fail: (error: unknown) => void): void {
    const from = this.state.revision + 1;
    const cancel = this.options.client.watch(KEY_PREFIX, from, (message) => this.onWatch(message, fail), fail);
    this.cleanups.push(cancel);
  }

  private onWatch(message: WatchMessage, fail: (error: unknown) => void): void {
    switch (message.kind) {
      case 'created':
        this.live = true;
        this.lastError = undefined;
        this.options.log.info(`fleet: watching ${KEY_PREFIX} on ${this.options.client.url.host} from revision ${this.state.revision + 1}`);
        return;
      case 'compacted':
        this.options.log.info(`fleet: etcd compacted past revision ${this.state.revision} (to ${message.compactRevision}); listing the fleet again`);
        this.cleanup(); // the watch; timers restart with the next session
        fail(new CompactedError());
        return;
      case 'events':
        if (message.events.length === 0) return; // progress notification
        this.pending.push(...message.events);
        this.pendingRevision = Math.max(this.pendingRevision, message.revision);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flush(fail));
        }
    }
  }

  /** Writes the events gathered since the last flush as one store transaction. */
  private flush(fail: (error: unknown) => void): void {
    this.flushScheduled = false;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return;
    this.write(this.state.applyEvents(events, this.pendingRevision), fail);
  }

  private write(batch: ClusterBatch, fail?: (error: unknown) => void): void {
    try {
      this.options.store.fleet().apply(batch);
    } catch (error) {
      // The memory state ran ahead of the database: reload it and watch again from the stored revision.
      this.options.log.error(`fleet: failed to store revision ${batch.revision}: ${causeOf(error)}`);
      const fleet = this.options.store.fleet();
      this.state.load(fleet.hosts(), fleet.revision());
      fail?.(error);
    }
  }

  private async relist(): Promise<void> {
    const started = Date.now();
    const { revision, kvs } = await this.options.client.range(KEY_PREFIX);
    this.write(this.state.relist(kvs, revision));
    this.options.log.info(`fleet: listed ${this.state.hosts.size} hosts at revision ${revision} in ${Date.now() - started} ms`);
  }

  /** This host's record as the store and daemon say now; undefined while it has no MSNL address or endpoint. */
  ownRecord(): HostRecord | undefined {
    const { store } = this.options;
    const identity = this.options.identity();
    if (identity.msnlAddress === 0) return undefined;
    const endpoints: HostPort[] = [];
    const given = this.options.endpoints ?? '';
    for (const text of given === '' ? [identity.listen ?? ''] : given.split(',')) {
      const parsed = parseHostPort(text.trim());
      if (parsed instanceof ArgumentError) continue;
      // A wildcard listen address is useless to the others: publish the address this host reaches etcd from.
      if (WILDCARD.has(parsed.host)) {
        const local = this.options.client.localAddress;
        if (local === undefined || local.includes(':')) continue;
        endpoints.push({ host: local, port: parsed.port });
      } else endpoints.push(parsed);
    }
    if (endpoints.length === 0) return undefined;
    const prefixes = store
      .listInterfaces()
      .filter((i) => i.adminUp && i.address !== null)
      .map((i) => ({ address: i.address!, length: 32 }));
    prefixes.push(...store.fleet().publishedPrefixes());
    return { msnlAddress: identity.msnlAddress, endpoints: endpoints.slice(0, 8), publicKey: store.getHost().publicKey, prefixes: prefixes.slice(0, MAX_PREFIXES) };
  }

  /** Puts this host's record when it changed (or always, with force). */
  private async publish(force: boolean): Promise<void> {
    const token = this.options.store.changeToken();
    if (!force && token === this.token) return;
    this.token = token;
    const identity = this.options.identity();
    const selfBatch = this.state.setSelf(identity.msnlAddress);
    if (selfBatch !== undefined) this.write(selfBatch);
    const record = this.ownRecord();
    const lease = this.lease;
    if (record === undefined || lease === undefined) {
      if (force) this.options.log.warn('fleet: this host has no MSNL address or underlay endpoint yet; it watches the fleet but publishes no record');
      return;
    }
    const next = { key: recordKey(record.msnlAddress), value: encodeRecord(record) };
    if (this.published !== undefined && this.published.key === next.key && this.published.value === next.value) return;
    const old = this.published;
    await this.options.client.put(next.key, next.value, lease);
    this.published = next;
    if (old !== undefined && old.key !== next.key) await this.options.client.delete(old.key);
    this.options.log.info(`fleet: published ${formatDottedQuad(record.msnlAddress)} with ${record.prefixes.length} prefixes at ${record.endpoints.map((e) => `${e.host}:${e.port}`).join(', ')}`);
  }
}

class CompactedError extends Error {
  constructor() {
    super('the watch revision was compacted');
  }
}
