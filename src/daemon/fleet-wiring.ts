// msnld's --cluster flags, and the fleet session they start (src/fleet). The flags win over the
// environment, which wins over `msnl host set cluster` (the cluster_state row).
import { readFileSync } from 'node:fs';
import { ArgumentError } from '../abi/inet.js';
import { parseHostPort } from '../abi/endpoint.js';
import type { Logger } from '../base/logger.js';
import type { Store } from '../store/store.js';
import { EtcdClient, parseClusterUrls } from '../fleet/etcd.js';
import { FleetSession } from '../fleet/session.js';
import type { Daemon } from './daemon.js';

export interface ClusterFlags {
  cluster?: string;
  clusterTtl?: string;
  clusterCa?: string;
  clusterCert?: string;
  clusterKey?: string;
  clusterUser?: string;
  clusterEndpoint?: string;
}

export const DEFAULT_CLUSTER_TTL_S = 30;

/** Checks the cluster flags alone (before anything starts); an ArgumentError for the first wrong one. */
export function checkClusterFlags(flags: ClusterFlags): ArgumentError | undefined {
  if (flags.cluster !== undefined && flags.cluster !== '') {
    const urls = parseClusterUrls(flags.cluster);
    if (typeof urls === 'string') return new ArgumentError(flags.cluster, urls);
  }
  if (flags.clusterTtl !== undefined) {
    const ttl = Number(flags.clusterTtl);
    if (!/^[0-9]+$/.test(flags.clusterTtl) || ttl < 2 || ttl > 3600) return new ArgumentError(flags.clusterTtl, 'cluster TTL must be a whole number of seconds, 2 to 3600');
  }
  if ((flags.clusterCert === undefined) !== (flags.clusterKey === undefined)) return new ArgumentError('--cluster-cert', 'a client certificate needs --cluster-key, and a key --cluster-cert');
  for (const text of (flags.clusterEndpoint ?? '').split(',').filter(Boolean)) {
    const parsed = parseHostPort(text);
    if (parsed instanceof ArgumentError) return parsed;
  }
  if (flags.clusterUser !== undefined && (process.env.MSNL_CLUSTER_PASSWORD ?? '') === '') {
    return new ArgumentError(flags.clusterUser, '--cluster-user needs the password in the environment variable MSNL_CLUSTER_PASSWORD');
  }
  return undefined;
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`failed to read the ${what} ${file}: ${(error as Error).message}`);
  }
}

/** The fleet session these flags (or the stored settings) ask for, started; undefined outside a fleet. */
export function startFleet(flags: ClusterFlags, store: Store, daemon: Daemon<unknown>, log: Logger): FleetSession | undefined {
  const stored = store.fleet().settings();
  const text = flags.cluster !== undefined && flags.cluster !== '' ? flags.cluster : stored.urls;
  if (text === '') return undefined;
  const urls = parseClusterUrls(text);
  if (typeof urls === 'string') throw new Error(`the stored cluster URLs are wrong: ${urls}`);
  const client = new EtcdClient({
    urls,
    ca: readPem(flags.clusterCa, 'cluster CA'),
    cert: readPem(flags.clusterCert, 'cluster certificate'),
    key: readPem(flags.clusterKey, 'cluster key'),
    user: flags.clusterUser,
    password: flags.clusterUser === undefined ? undefined : process.env.MSNL_CLUSTER_PASSWORD,
  });
  const session = new FleetSession({
    store,
    client,
    ttlS: flags.clusterTtl !== undefined ? Number(flags.clusterTtl) : stored.ttlS,
    log,
    identity: () => ({ msnlAddress: daemon.view.localAddress, listen: daemon.view.listening }),
    endpoints: flags.clusterEndpoint ?? stored.endpoint,
  });
  session.start();
  return session;
}
