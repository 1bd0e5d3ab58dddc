// A small etcd v3 client over etcd's own JSON gateway (/v3/kv/range, /v3/kv/put, /v3/watch,
// /v3/lease/grant|keepalive|revoke|timetolive, /v3/auth/authenticate), served by every etcd 3.4+
// on its client URL, with node:http/https only: no gRPC stack, no dependency. Keys and values are
// base64 on the wire, 64-bit numbers decimal strings. Several URLs are tried in turn; TLS takes a
// CA, a client certificate and key; user/password get a token from /v3/auth/authenticate.
import http from 'node:http';
import https from 'node:https';

export interface EtcdOptions {
  readonly urls: readonly URL[];
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly user?: string;
  readonly password?: string;
  /** Bound on one unary request (ms, default 3000). */
  readonly timeoutMs?: number;
}

export interface KeyValue {
  readonly key: string;
  /** Raw value bytes as UTF-8 text. */
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Lease id, decimal ('0': none). */
  readonly lease: string;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
}

export type WatchMessage =
  | { readonly kind: 'events'; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly kind: 'compacted'; readonly compactRevision: number }
  | { readonly kind: 'created'; readonly revision: number };

export class EtcdError extends Error {}

/** Parses `--cluster URL[,URL...]`: http(s):// or etcd(s):// (the same, named for etcd). */
export function parseClusterUrls(text: string): URL[] | string {
  const urls: URL[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      return `"${part}" is not a URL (expected http://HOST:PORT or https://HOST:PORT)`;
    }
    const scheme = { 'http:': 'http:', 'etcd:': 'http:', 'https:': 'https:', 'etcds:': 'https:' }[url.protocol];
    if (scheme === undefined) return `"${part}": scheme must be http, https, etcd or etcds`;
    if (url.pathname !== '/' && url.pathname !== '') return `"${part}": an etcd URL has no path`;
    urls.push(new URL(`${scheme}//${url.host}`));
  }
  if (urls.length === 0) return 'no etcd URL given';
  if (urls.length > 16) return 'at most 16 etcd URLs';
  return urls;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: unknown): string => (typeof text === 'string' ? Buffer.from(text, 'base64').toString('utf8') : '');
const num = (value: unknown): number => (typeof value === 'string' || typeof value === 'number' ? Number(value) || 0 : 0);

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]! += 1;
      return bytes.subarray(0, i + 1).toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

function toKeyValue(raw: Record<string, unknown>): KeyValue {
  return { key: unb64(raw.key), value: unb64(raw.value), createRevision: num(raw.create_revision), modRevision: num(raw.mod_revision), lease: String(raw.lease ?? '0') };
}

export class EtcdClient {
  private current = 0;
  private token: string | undefined;
  /** The local address of the last connection to etcd (what this host looks like from the fleet). */
  localAddress: string | undefined;

  constructor(private readonly options: EtcdOptions) {
    if (options.urls.length === 0) throw new EtcdError('no etcd URL');
    if ((options.user === undefined) !== (options.password === undefined)) throw new EtcdError('a user needs a password, and a password a user');
  }

  get url(): URL {
    return this.options.urls[this.current % this.options.urls.length]!;
  }

  private rotate(): void {
    this.current = (this.current + 1) % this.options.urls.length;
  }

  private request(path: string, headers: Record<string, string>): http.ClientRequest {
    const url = this.url;
    const base = { method: 'POST', host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (url.protocol === 'https:' ? 443 : 80), path, headers: { 'content-type': 'application/json', ...headers } };
    return url.protocol === 'https:'
      ? https.request({ ...base, ca: this.options.ca, cert: this.options.cert, key: this.options.key, agent: false })
      : http.request({ ...base, agent: false });
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (this.options.user === undefined) return {};
    if (this.token === undefined) {
      const reply = await this.raw('/v3/auth/authenticate', { name: this.options.user, password: this.options.password }, {});
      if (typeof reply.token !== 'string') throw new EtcdError('etcd gave no auth token');
      this.token = reply.token;
    }
    return { authorization: this.token };
  }

  private raw(path: string, body: unknown, headers: Record<string, string>, timeoutMs = this.options.timeoutMs ?? 3000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = this.request(path, headers);
      const timer = setTimeout(() => req.destroy(new EtcdError(`no answer from ${this.url.host} within ${timeoutMs} ms`)), timeoutMs);
      req.on('socket', (socket) => socket.on('connect', () => (this.localAddress = socket.localAddress)));
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new EtcdError(`etcd ${this.url.host}${path} answered HTTP ${res.statusCode} without JSON`));
            return;
          }
          const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
          if (res.statusCode !== 200) {
            const message = typeof obj.error === 'string' ? obj.error : typeof obj.message === 'string' ? obj.message : `HTTP ${res.statusCode}`;
            if (/token/i.test(message)) this.token = undefined;
            reject(new EtcdError(`etcd ${path}: ${message}`));
            return;
          }
          resolve(obj);
        });
      });
      req.end(JSON.stringify(body));
    });
  }

  /** One unary call; on a connection failure the next URL is tried once each. */
  async call(path: string, body: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    let last: unknown;
    for (let i = 0; i < this.options.urls.length; i++) {
      try {
        return await this.raw(path, body, await this.authHeaders(), timeoutMs);
      } catch (error) {
        last = error;
        if (error instanceof EtcdError && !/no answer/.test(error.message)) throw error;
        this.rotate();
      }
    }
    throw last instanceof Error ? last : new EtcdError(String(last));
  }

  /** Every key under `prefix`, with the store revision the listing is at. */
  async range(prefix: string): Promise<{ revision: number; kvs: KeyValue[] }> {
    const reply = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) }, 30_000);
    const kvs = Array.isArray(reply.kvs) ? (reply.kvs as Array<Record<string, unknown>>).map(toKeyValue) : [];
    return { revision: num((reply.header as Record<string, unknown> | undefined)?.revision), kvs };
  }

  /** etcd's current revision (a count-only range of one key). */
  async revision(): Promise<number> {
    const reply = await this.call('/v3/kv/range', { key: b64('/'), count_only: true });
    return num((reply.header as Record<string, unknown> | undefined)?.revision);
  }

  async put(key: string, value: string, lease = '0'): Promise<number> {
    const reply = await this.call('/v3/kv/put', { key: b64(key), value: b64(value), lease });
    return num((reply.header as Record<string, unknown> | undefined)?.revision);
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  async compact(revision: number): Promise<void> {
    await this.call('/v3/kv/compaction', { revision: String(revision), physical: true }, 30_000);
  }

  /** A new lease of `ttlS` seconds; its id. */
  async grant(ttlS: number): Promise<string> {
    const reply = await this.call('/v3/lease/grant', { TTL: String(ttlS) });
    if (reply.ID === undefined) throw new EtcdError(`etcd granted no lease${typeof reply.error === 'string' ? `: ${reply.error}` : ''}`);
    return String(reply.ID);
  }

  /** Renews a lease; its TTL afterwards, 0 when the lease is gone. */
  async keepAlive(lease: string): Promise<number> {
    const reply = await this.call('/v3/lease/keepalive', { ID: lease });
    return num((reply.result as Record<string, unknown> | undefined)?.TTL);
  }

  async revoke(lease: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: lease });
  }

  /** Seconds left on a lease, -1 when it is gone. */
  async timeToLive(lease: string): Promise<number> {
    const reply = await this.call('/v3/lease/timetolive', { ID: lease });
    return num(reply.TTL);
  }

  /**
   * Watches every key under `prefix` from `startRevision`. `onMessage` gets each response; `onEnd`
   * once, when the stream ends or fails (the caller reconnects). Returns a cancel function.
   */
  watch(prefix: string, startRevision: number, onMessage: (message: WatchMessage) => void, onEnd: (error: Error) => void): () => void {
    let ended = false;
    const end = (error: Error): void => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    let req: http.ClientRequest | undefined;
    void this.authHeaders().then((headers) => {
      if (ended) return;
      req = this.request('/v3/watch', headers);
      req.on('error', (error) => end(error));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(new EtcdError(`etcd /v3/watch answered HTTP ${res.statusCode}`));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line !== '') this.watchLine(line, onMessage, end);
          }
          if (buffered.length > 64 << 20) end(new EtcdError('watch response line longer than 64 MiB'));
        });
        res.on('end', () => end(new EtcdError('etcd ended the watch')));
        res.on('error', (error) => end(error));
      });
      req.end(JSON.stringify({ create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: String(startRevision), progress_notify: true } }));
    }, (error: Error) => end(error));
    return () => {
      ended = true;
      req?.destroy();
    };
  }

  private watchLine(line: string, onMessage: (message: WatchMessage) => void, end: (error: Error) => void): void {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(line) as Record<string, unknown>;
    } catch {
      end(new EtcdError('etcd sent a watch line that is not JSON'));
      return;
    }
    if (json.error !== undefined) {
      const e = json.error as Record<string, unknown>;
      end(new EtcdError(`etcd watch: ${String(e.message ?? JSON.stringify(e))}`));
      return;
    }
    const result = (json.result ?? {}) as Record<string, unknown>;
    const revision = num((result.header as Record<string, unknown> | undefined)?.revision);
    if (num(result.compact_revision) > 0) {
      onMessage({ kind: 'compacted', compactRevision: num(result.compact_revision) });
      return;
    }
    if (result.canceled === true) {
      end(new EtcdError(`etcd cancelled the watch${typeof result.cancel_reason === 'string' ? `: ${result.cancel_reason}` : ''}`));
      return;
    }
    if (result.created === true) {
      onMessage({ kind: 'created', revision });
      return;
    }
    const raw = Array.isArray(result.events) ? (result.events as Array<Record<string, unknown>>) : [];
    const events = raw.map((e): WatchEvent => ({ type: e.type === 'DELETE' ? 'delete' : 'put', kv: toKeyValue((e.kv ?? {}) as Record<string, unknown>) }));
    onMessage({ kind: 'events', revision, events });
  }
}
