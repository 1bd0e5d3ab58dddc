// msnl fleet show: the fleet as this host last applied it (msnld --cluster, msnld(8) FLEET), read
// from the database so it works with msnld or etcd down; with etcd reachable each host's lease TTL
// left is asked for too (`-` when it cannot be).
//
//   fleet http://192.0.2.4:2379 ttl 30 revision 42 hosts 3 conflicts 1
//   128.232.0.1 endpoints 192.0.2.1:7010 prefixes 10.0.0.1/32 ttl 27 key yes
//   conflict 10.0.0.9/32 winner 128.232.0.1 losers 128.232.0.2
import type { Command } from 'commander';
import { formatDottedQuad, formatIpv4Prefix } from '../abi/inet.js';
import { formatHostPort } from '../abi/endpoint.js';
import { decodeRecord, recordKey } from '../fleet/record.js';
import { resolveFleet, type FleetHost } from '../fleet/resolve.js';
import type { CliContext } from './context.js';
import { printObject } from './output.js';
import { etcdModule } from './lazy.js';

export interface FleetHostRow {
  readonly msnl_address: string;
  readonly endpoints: string[];
  readonly public_key: string | null;
  readonly prefixes: string[];
  readonly lease: string;
  /** Seconds left on the host's lease, or null when etcd did not say. */
  readonly ttl_left: number | null;
  readonly create_revision: number;
}

export interface FleetConflictRow {
  readonly prefix: string;
  readonly winner: string;
  readonly losers: string[];
}

export interface FleetRow {
  readonly cluster: string;
  readonly ttl: number;
  readonly revision: number;
  readonly hosts: FleetHostRow[];
  readonly conflicts: FleetConflictRow[];
}

export function fleetText(row: FleetRow): string {
  const lines = [`fleet ${row.cluster === '' ? '(none set; msnld --cluster may still give one)' : row.cluster} ttl ${row.ttl} revision ${row.revision} hosts ${row.hosts.length} conflicts ${row.conflicts.length}`];
  for (const h of row.hosts) {
    lines.push(`${h.msnl_address} endpoints ${h.endpoints.join(',')} prefixes ${h.prefixes.join(',') || '-'} ttl ${h.ttl_left ?? '-'} key ${h.public_key === null ? 'no' : 'yes'}`);
  }
  for (const c of row.conflicts) lines.push(`conflict ${c.prefix} winner ${c.winner} losers ${c.losers.join(',')}`);
  return lines.join('\n');
}

/** Asks etcd for each lease's TTL, 16 at a time, within about a second; null where it cannot. */
async function ttlsLeft(urlsText: string, leases: readonly string[]): Promise<Map<string, number | null>> {
  const result = new Map<string, number | null>(leases.map((l) => [l, null]));
  const { EtcdClient, parseClusterUrls } = etcdModule();
  const urls = parseClusterUrls(urlsText);
  if (typeof urls === 'string' || leases.length === 0 || urls.some((u) => u.protocol === 'https:')) return result;
  const client = new EtcdClient({ urls, timeoutMs: 1000 });
  const queue = [...new Set(leases)].filter((l) => l !== '0');
  const deadline = Date.now() + 3000;
  let reachable = true;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let lease = queue.shift(); lease !== undefined && reachable && Date.now() < deadline; lease = queue.shift()) {
      try {
        const ttl = await client.timeToLive(lease);
        result.set(lease, ttl < 0 ? 0 : ttl);
      } catch {
        reachable = false;
      }
    }
  }));
  return result;
}

export async function fleetRow(context: CliContext): Promise<FleetRow> {
  const { settings, revision, stored, self } = context.withStore('read', (store) => {
    const fleet = store.fleet();
    return { settings: fleet.settings(), revision: fleet.revision(), stored: fleet.hosts(), self: store.getHost().msnlAddress };
  });
  const hosts: FleetHost[] = [];
  for (const s of stored) {
    const record = decodeRecord(recordKey(s.msnlAddress), s.record);
    if (typeof record !== 'string') hosts.push({ record, lease: s.lease, createRevision: s.createRevision, modRevision: s.modRevision });
  }
  const ttls = await ttlsLeft(settings.urls, hosts.map((h) => h.lease));
  const view = resolveFleet(hosts, self);
  return {
    cluster: settings.urls,
    ttl: settings.ttlS,
    revision,
    hosts: hosts.map((h) => ({
      msnl_address: formatDottedQuad(h.record.msnlAddress),
      endpoints: h.record.endpoints.map(formatHostPort),
      public_key: h.record.publicKey === null ? null : Buffer.from(h.record.publicKey).toString('base64'),
      prefixes: h.record.prefixes.map(formatIpv4Prefix),
      lease: h.lease,
      ttl_left: ttls.get(h.lease) ?? null,
      create_revision: h.createRevision,
    })),
    conflicts: view.conflicts.map((c) => ({ prefix: formatIpv4Prefix(c.prefix), winner: formatDottedQuad(c.winner), losers: c.losers.map(formatDottedQuad) })),
  };
}

export function register(program: Command, context: CliContext): void {
  const fleet = program.command('fleet').description('the fleet this host shares its mapping with through etcd (msnld --cluster; default: show)');
  fleet
    .command('show', { isDefault: true })
    .description('hosts, their MSNL address, endpoints, prefixes, lease TTL left, and conflicts, as last applied')
    .action(async () => {
      printObject(context, await fleetRow(context), fleetText);
    });
}
