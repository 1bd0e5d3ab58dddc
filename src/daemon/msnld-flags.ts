// msnld's command line: its flags (with their environment defaults) and the settings checked from
// them. Pure but for reading the environment; msnld.ts acts on the settings.

import { Command } from 'commander';
import { ArgumentError, parseDottedQuad } from '../abi/inet.js';
import { DEFAULT_SOCKET_PATH, socketPathProblem } from '../control/server.js';
import { DEFAULT_DB_PATH } from '../store/store.js';
import { VERSION } from '../base/version.js';
import { parseLogLevel, type LogLevel } from '../base/logger.js';
import { parseHostPort } from '../abi/endpoint.js';
import { checkClusterFlags, type ClusterFlags } from './fleet-wiring.js';

export const DEFAULT_LOG_FILE = '/var/log/msnld.log';

export interface Flags extends ClusterFlags {
  db: string;
  socket: string;
  address?: string;
  listen?: string;
  foreground?: boolean;
  logLevel: string;
  idleTimeout: string;
  logFile: string;
  gso?: boolean;
  offload?: boolean;
  ioUring?: boolean;
  receiveBuffer: string;
  netns?: string;
  metrics?: string;
}

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function program(): Command {
  return new Command('msnld')
    .description('IP over MSNL daemon: the ms0..ms3 tunnel interfaces, the MSNL transport over UDP, and the manager')
    .version(VERSION, '-v, --version')
    .option('--db <path>', 'database file holding the desired state (env MSNL_DB)', env('MSNL_DB', DEFAULT_DB_PATH))
    .option('--socket <path>', 'control socket (env MSNL_SOCKET)', env('MSNL_SOCKET', DEFAULT_SOCKET_PATH))
    .option('--address <msnladdr>', 'default MSNL address, overriding the stored one (env MSNL_ADDRESS)', process.env.MSNL_ADDRESS || undefined)
    .option('--listen <host:port>', 'underlay UDP address, overriding the stored one (env MSNL_LISTEN)', process.env.MSNL_LISTEN || undefined)
    .option('-f, --foreground', 'stay in the foreground and log to standard error')
    .option('--log-level <level>', 'error, warn, info or debug (verbose: debug) (env MSNL_LOG_LEVEL)', env('MSNL_LOG_LEVEL', 'info'))
    .option('--idle-timeout <seconds>', 'release connections that carried no data this long', '1200')
    .option('--receive-buffer <bytes>', 'underlay socket receive buffer (SO_RCVBUF), room for call and hang-up bursts; K and M suffixes', '32M')
    .option('--no-gso', 'send every underlay datagram on its own instead of runs with UDP segmentation offload')
    .option('--no-offload', 'read and write the msN devices one plain packet at a time (no TCP segmentation offload)')
    .option('--no-io-uring', 'read the msN devices with one read() per packet instead of batches of reads through io_uring')
    .option('-n, --netns <name>', 'run in network namespace NAME (ip netns exec), with the database, socket and log file of that instance')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (env MSNL_METRICS)', process.env.MSNL_METRICS || undefined)
    .option('--log-file <path>', 'log file (timestamped, reopened on SIGUSR1) of a detached msnld, or of a foreground one when given (env MSNL_LOG_FILE)', env('MSNL_LOG_FILE', DEFAULT_LOG_FILE))
    .option('--cluster <urls>', 'join the fleet in etcd at URL[,URL...] (http://, https://; env MSNL_CLUSTER; else `msnl host set cluster`)', process.env.MSNL_CLUSTER || undefined)
    .option('--cluster-ttl <seconds>', 'lease TTL of this host\'s fleet record (default 30, or the stored one)')
    .option('--cluster-ca <file>', 'PEM CA certificate that signs the etcd servers\' certificates (https URLs)')
    .option('--cluster-cert <file>', 'PEM client certificate for etcd (with --cluster-key)')
    .option('--cluster-key <file>', 'PEM private key of --cluster-cert')
    .option('--cluster-user <name>', 'etcd user; the password comes from env MSNL_CLUSTER_PASSWORD')
    .option('--cluster-endpoint <host:port>', 'underlay endpoint(s) to publish, comma-separated, instead of the listen address')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error: ') ? `Error: ${text.slice(7)}` : text) });
}

export interface Settings {
  readonly flags: Flags;
  readonly address?: number;
  readonly listen?: { host: string; port: number };
  readonly logLevel: LogLevel;
  /** Log to flags.logFile rather than stderr: detached, or --log-file given with --foreground. */
  readonly logToFile: boolean;
  readonly idleMs: number;
  /** MSNL_REKEY_SECONDS: rekey keyed connections this often (tests and labs; default 120 s). */
  readonly rekeyAfterMs?: number;
  /** SO_RCVBUF asked for the underlay socket (octets). */
  readonly receiveBuffer: number;
  readonly metrics?: { host: string; port: number };
}

export function settingsFrom(flags: Flags, logFileGiven: boolean): Settings {
  const logLevel = parseLogLevel(flags.logLevel);
  if (logLevel === undefined) throw new ArgumentError(flags.logLevel, 'log level must be error, warn, info or debug (or verbose, the same as debug)');
  let address: number | undefined;
  if (flags.address !== undefined) {
    const parsed = parseDottedQuad(flags.address, 'MSNL address');
    if (parsed instanceof ArgumentError) throw parsed;
    address = parsed;
  }
  let listen: { host: string; port: number } | undefined;
  if (flags.listen !== undefined) {
    const parsed = parseHostPort(flags.listen);
    if (parsed instanceof ArgumentError) throw parsed;
    listen = parsed;
  }
  let metrics: { host: string; port: number } | undefined;
  if (flags.metrics !== undefined) {
    const parsed = parseHostPort(flags.metrics);
    if (parsed instanceof ArgumentError) throw parsed;
    metrics = parsed;
  }
  const clusterProblem = checkClusterFlags(flags);
  if (clusterProblem !== undefined) throw clusterProblem;
  const socketProblem = socketPathProblem(flags.socket);
  if (socketProblem !== undefined) throw new ArgumentError('--socket', socketProblem);
  const idle = Number(flags.idleTimeout);
  if (!/^[0-9]+$/.test(flags.idleTimeout) || idle < 1 || idle > 86_400 * 365) {
    throw new ArgumentError(flags.idleTimeout, 'idle timeout must be a whole number of seconds, 1 or more');
  }
  const rekey = process.env.MSNL_REKEY_SECONDS ?? '';
  const rekeySeconds = Number(rekey);
  if (rekey !== '' && (!/^[0-9]+$/.test(rekey) || rekeySeconds < 1 || rekeySeconds > 120)) {
    throw new ArgumentError(rekey, 'MSNL_REKEY_SECONDS must be a whole number of seconds from 1 to 120');
  }
  const buffer = /^([1-9][0-9]*)([KM]?)$/i.exec(flags.receiveBuffer);
  const receiveBuffer = buffer === null ? NaN : Number(buffer[1]) * (buffer[2] === '' ? 1 : /k/i.test(buffer[2] ?? '') ? 1024 : 1 << 20);
  if (!(receiveBuffer >= 65536 && receiveBuffer <= 1 << 30)) {
    throw new ArgumentError(flags.receiveBuffer, 'receive buffer must be 64K to 1024M (a number of octets, or with a K or M suffix)');
  }
  return { flags, address, listen, logLevel, logToFile: logFileGiven, idleMs: idle * 1000, metrics, receiveBuffer, ...(rekey === '' ? {} : { rekeyAfterMs: rekeySeconds * 1000 }) };
}
