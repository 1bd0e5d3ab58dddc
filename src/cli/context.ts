// What every object file gets in register(program, context): the global options, the store, a
// client for msnld's control socket, output that prints text or JSON from the same rows, and
// hooks for live data from msnld.
//
// The store (better-sqlite3), the control client (node:net) and settle are loaded on first use
// (lazy.ts): `msnl --version` or `msnl status` should not pay for modules they never call.
import fs from 'node:fs';
import type { Command } from 'commander';
import type { ControlClient } from '../control/client.js';
import type { InterfaceRow as LiveInterfaceRow } from '../control/rows.js';
import { DEFAULT_SOCKET_PATH, defaultSocketPath, socketPathProblem } from '../control/socket-file.js';
import { ArgumentError } from '../abi/inet.js';
import type { Store } from '../store/store.js';
import { DEFAULT_PATHS, instancePaths, netnsNameProblem } from '../base/instance.js';
import { FailureError } from './errors.js';
import { clientModule, settleModule, storeModule } from './lazy.js';

export const DEFAULT_DB = DEFAULT_PATHS.db;
export const DEFAULT_SOCKET = DEFAULT_SOCKET_PATH;

export interface GlobalOptions {
  readonly json: boolean;
  /** Indent JSON output. */
  readonly pretty: boolean;
  readonly db: string;
  readonly socket: string;
}

/** Live state of one interface as the daemon reports it (control rows' names); every field optional. */
/** What msnld reports of an interface; `address` and `admin_up` are the kernel's, as it is now. */
export type LiveInterfaceInfo = Partial<Omit<LiveInterfaceRow, 'interface' | 'mtu' | 'port'>>;

/** Live data sources; absent means "daemon not asked". */
export interface LiveProviders {
  /** Interface name -> live info; undefined (or a rejection) when the daemon is not reachable. */
  interfaces?: (options: GlobalOptions) => Promise<ReadonlyMap<string, LiveInterfaceInfo> | undefined>;
}

export interface CliContext {
  /** The global options, resolved (flags, then environment, then defaults). */
  options(): GlobalOptions;
  /** Opens the store; 'read' on a missing file gives an empty in-memory state instead. */
  openStore(mode: 'read' | 'write'): Store;
  /** Runs `body` with a store and closes it afterwards. */
  withStore<T>(mode: 'read' | 'write', body: (store: Store) => T): T;
  /** After a command that opened the store for writing: has a running msnld apply it now (src/cli/settle.ts). */
  settle(): Promise<void>;
  /**
   * Runs one request on msnld's control socket (--socket). An error the daemon answered becomes
   * `failed to DOING: CAUSE`; no daemon, no permission or a bad reply keep the client's message.
   */
  daemon<T>(doing: string, request: (client: ControlClient) => Promise<T>): Promise<T>;
  /** Runs `body` with a signal that aborts on SIGINT (Ctrl-C), so long commands end cleanly. */
  untilInterrupted<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** The exit status when the command returns normally (health --check, ping set 3). */
  exitStatus: number;
  readonly live: LiveProviders;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  readonly stdinRead: () => string;
  readonly clock: () => number;
}

export interface ContextIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: () => number;
}

/** The daemon's interface rows by name, for `msnl ifconfig`. */
async function daemonInterfaces(options: GlobalOptions): Promise<ReadonlyMap<string, LiveInterfaceInfo>> {
  const rows = await new (clientModule().ControlClient)(options.socket).interfaces();
  return new Map(rows.map((row) => [row.interface, row]));
}

export function createContext(program: Command, io: ContextIo = {}): CliContext {
  const env = io.env ?? process.env;
  const clock = io.clock ?? Date.now;
  const options = (): GlobalOptions => {
    const opts = program.opts<{ json?: boolean; pretty?: boolean; db?: string; socket?: string; netns?: string }>();
    // An explicit --db/--socket wins; then -n NETNS's instance paths; then the environment.
    const problem = opts.netns === undefined ? undefined : netnsNameProblem(opts.netns);
    if (opts.netns !== undefined && problem !== undefined) throw new ArgumentError(opts.netns, problem);
    const instance = opts.netns === undefined ? undefined : instancePaths(opts.netns);
    return {
      json: opts.json === true,
      pretty: opts.pretty === true,
      db: opts.db ?? instance?.db ?? (env.MSNL_DB || DEFAULT_DB),
      socket: opts.socket ?? instance?.socket ?? defaultSocketPath(env),
    };
  };
  let wrote = false;
  const open = (mode: 'read' | 'write'): Store => {
    const db = options().db;
    if (mode === 'write') wrote = true;
    if (mode === 'read') {
      // Showing an empty table is the honest answer before anything was ever configured.
      if (!fs.existsSync(db)) return storeModule().openStore(':memory:', { clock });
      return storeModule().openStore(db, { readonly: true, clock });
    }
    return storeModule().openStore(db, { clock });
  };
  return {
    options,
    openStore: open,
    withStore<T>(mode: 'read' | 'write', body: (store: Store) => T): T {
      const store = open(mode);
      try {
        return body(store);
      } finally {
        store.close();
      }
    },
    async settle(): Promise<void> {
      if (!wrote) return;
      const { db, socket } = options();
      const warning = await settleModule().settleEdit(db, socket);
      if (warning !== undefined) (io.stderr ?? ((text: string) => void process.stderr.write(text)))(warning);
    },
    async daemon<T>(doing: string, request: (client: ControlClient) => Promise<T>): Promise<T> {
      const socket = options().socket;
      const problem = socketPathProblem(socket);
      if (problem !== undefined) throw new ArgumentError('--socket', problem); // else a misleading "not running"
      const { ControlClient, ControlClientError } = clientModule();
      try {
        return await request(new ControlClient(socket));
      } catch (error) {
        if (error instanceof ControlClientError && error.kind === 'daemon') throw new FailureError(`failed to ${doing}: ${error.message}`);
        throw error;
      }
    },
    async untilInterrupted<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        return await body(stop.signal);
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
    exitStatus: 0,
    live: { interfaces: daemonInterfaces },
    stdout: io.stdout ?? ((text) => void process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => void process.stderr.write(text)),
    stdoutIsTty: io.stdout === undefined && process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    stdinRead: () => fs.readFileSync(0, 'utf8'),
    clock,
  };
}
