// msnl host: this host's default MSNL address, the underlay listen address, and its key pair.
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatKey, parseKey } from '../crypto/keys.js';
import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';
import type { HostSettings } from '../store/types.js';
import { parseKeywords } from './args.js';
import type { CliContext } from './context.js';
import { FailureError, UsageError, must } from './errors.js';
import { formatHostPort, parseHostPort } from '../abi/endpoint.js';
import { printObject } from './output.js';
import type { StatusRow } from '../control/rows.js';
import { clientModule, etcdModule, primitivesModule } from './lazy.js';
import { ArgumentError } from '../abi/inet.js';

export interface HostRow {
  readonly [key: string]: string | number;
  readonly msnl_address: string;
  /** Underlay listen address, `HOST:PORT` (the key and form of status's `listen`). */
  readonly listen: string;
  /** The public key in base64, or "" when the host has no key pair. Never the private key. */
  readonly public_key: string;
}

export function hostRow(host: HostSettings): HostRow {
  return {
    msnl_address: formatDottedQuad(host.msnlAddress),
    listen: formatHostPort({ host: host.listenHost, port: host.listenPort }),
    public_key: host.publicKey === null ? '' : formatKey(host.publicKey),
  };
}

/** Reads a private key from FILE or - (stdin): base64, as `wg genkey` writes it. */
function readPrivateKey(context: CliContext, file: string): Uint8Array {
  let text: string;
  try {
    text = file === '-' ? context.stdinRead() : fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new FailureError(`failed to read the private key from ${file}: ${(error as Error).message}`);
  }
  const key = parseKey(text, 'the private key');
  if (typeof key === 'string') throw new UsageError(`${file}: ${key}`);
  return key;
}

export function register(program: Command, context: CliContext): void {
  const host = program.command('host').description("this host's MSNL address and underlay listen address (default: show)");

  host
    .command('show', { isDefault: true })
    .description('show the host settings')
    .action(async () => {
      const settings = context.withStore('read', (store) => store.getHost());
      const row: Record<string, string | number> = { ...hostRow(settings) };
      // A running msnld whose command line overrides a stored setting: show what it uses too.
      const status = await runningStatus(context.options().socket);
      const overridden = (status?.overrides ?? '').split(',');
      if (status !== undefined && overridden.includes('address')) row.msnl_address_in_effect = status.msnl_address ?? '(none)';
      if (status !== undefined && overridden.includes('listen')) row.listen_in_effect = status.listen ?? '(none)';
      const note = (key: string): string => (row[key] === undefined ? '' : ` (stored; msnld uses ${row[key]} from its command line)`);
      printObject(context, row, (r) => `address ${r.msnl_address}${note('msnl_address_in_effect')}\nlisten ${r.listen}${note('listen_in_effect')}\npublic-key ${r.public_key === '' ? '(none)' : r.public_key}`);
    });

  const key = host.command('key').description("this host's X25519 key pair for secure MSNL");
  key
    .command('generate')
    .description('make a new key pair, store it (database mode 0600) and print the public key')
    .option('--force', 'replace an existing key pair (every peer must then learn the new public key)')
    .action((options: { force?: boolean }) => {
      const pair = primitivesModule().generateKeyPair();
      context.withStore('write', (store) => {
        const existing = store.getHost().publicKey;
        if (existing !== null && options.force !== true) throw new UsageError(`this host already has a key pair (public key ${formatKey(existing)}); give --force to replace it`);
        store.setPrivateKey(pair.privateKey);
      });
      context.stdout(`${formatKey(pair.publicKey)}\n`);
    });

  host
    .command('set')
    .description('set the default MSNL address and/or the underlay UDP listen address')
    .argument('<settings...>', 'address MSNLADDR | listen HOST:PORT | private-key FILE|- | cluster URL[,URL...]|none | cluster-ttl SECONDS | cluster-endpoint HOST:PORT[,...]|none')
    .addHelpText('after', '\nExamples:\n  msnl host set address 128.232.65.42\n  msnl host set listen 0.0.0.0:1994\n  wg genkey | msnl host set private-key -\n  msnl host set cluster http://192.0.2.10:2379 cluster-ttl 30')
    .action((settings: string[]) => {
      const keywords = parseKeywords(settings, ['address', 'listen', 'private-key', 'cluster', 'cluster-ttl', 'cluster-endpoint']);
      if (keywords.size === 0) throw new UsageError('nothing to set: give address MSNLADDR, listen HOST:PORT, private-key FILE|- and/or cluster URL[,URL...]');
      const cluster = clusterSettings(keywords);
      const addressText = keywords.get('address');
      const listenText = keywords.get('listen');
      const keyFile = keywords.get('private-key');
      const msnlAddress = addressText === undefined ? undefined : must(parseDottedQuad(addressText, 'MSNL address'));
      const listen = listenText === undefined ? undefined : must(parseHostPort(listenText));
      const privateKey = keyFile === undefined ? undefined : readPrivateKey(context, keyFile);
      context.withStore('write', (store) => {
        if (msnlAddress !== undefined || listen !== undefined) store.updateHost({ msnlAddress, listenHost: listen?.host, listenPort: listen?.port });
        if (privateKey !== undefined) store.setPrivateKey(privateKey);
        if (cluster !== undefined) store.fleet().setSettings(cluster);
      });
    });
}

/** The fleet settings among `host set`'s keywords (msnld reads them at start), or undefined. */
function clusterSettings(keywords: Map<string, string>): { urls?: string; ttlS?: number; endpoint?: string } | undefined {
  const urls = keywords.get('cluster');
  const ttl = keywords.get('cluster-ttl');
  const endpoint = keywords.get('cluster-endpoint');
  if (urls === undefined && ttl === undefined && endpoint === undefined) return undefined;
  if (urls !== undefined && urls !== 'none') {
    const parsed = etcdModule().parseClusterUrls(urls);
    if (typeof parsed === 'string') throw new ArgumentError(urls, parsed);
  }
  if (ttl !== undefined && (!/^[0-9]+$/.test(ttl) || Number(ttl) < 2 || Number(ttl) > 3600)) throw new ArgumentError(ttl, 'cluster TTL must be a whole number of seconds, 2 to 3600');
  if (endpoint !== undefined && endpoint !== 'none') for (const text of endpoint.split(',')) must(parseHostPort(text));
  return {
    urls: urls === undefined ? undefined : urls === 'none' ? '' : urls,
    ttlS: ttl === undefined ? undefined : Number(ttl),
    endpoint: endpoint === undefined ? undefined : endpoint === 'none' ? '' : endpoint,
  };
}

/** msnld's status when it answers within a second, else undefined (not running, no permission, ...). */
async function runningStatus(socket: string): Promise<StatusRow | undefined> {
  try {
    return await new (clientModule().ControlClient)(socket, { timeoutMs: 1000 }).status();
  } catch {
    return undefined;
  }
}
