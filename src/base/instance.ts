// Per-network-namespace instances: `msnl -n NETNS` and `msnld -n NETNS` derive the database,
// control socket and log file from the namespace name, as `ip -n NETNS` names the namespace
// whose /run/netns/NETNS it enters, so several daemons on one machine never share a file.
// Pure (the namespace check in msnld reads /proc itself).

export interface InstancePaths {
  readonly db: string;
  readonly socket: string;
  readonly logFile: string;
}

/** The paths without -n: the defaults every front end documents. */
export const DEFAULT_PATHS: InstancePaths = { db: '/var/lib/msnl/msnl.db', socket: '/run/msnl/msnld.sock', logFile: '/var/log/msnld.log' };

/** A namespace name as ip-netns(8) accepts it: a file name under /run/netns. */
export function netnsNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'is not a namespace name';
  if (name.length > 64) return 'is longer than 64 characters';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return 'may hold only letters, digits, "_", "." and "-"';
  return undefined;
}

/** The database, socket and log file of the instance for namespace `netns`. */
export function instancePaths(netns: string | undefined): InstancePaths {
  if (netns === undefined) return DEFAULT_PATHS;
  return { db: `/var/lib/msnl/netns/${netns}/msnl.db`, socket: `/run/msnl/netns/${netns}.sock`, logFile: `/var/log/msnld-${netns}.log` };
}
