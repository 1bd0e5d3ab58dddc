// What every object file gets in register(program, context): the global options, the store,
// output that prints text or JSON from the same rows, and hooks for live data from msnld.
import fs from 'node:fs';
import type { Command } from 'commander';
import { openStore, type Store } from '../store/store.js';

export const DEFAULT_DB = '/var/lib/msnl/msnl.db';
export const DEFAULT_SOCKET = '/run/msnl/msnld.sock';

export interface GlobalOptions {
  readonly json: boolean;
  readonly db: string;
  readonly socket: string;
}

/** Live state of one interface as the daemon reports it; every field optional. */
export interface LiveInterfaceInfo {
  readonly running?: boolean;
  readonly connections?: number;
  readonly rxPackets?: number;
  readonly rxBytes?: number;
  readonly txPackets?: number;
  readonly txBytes?: number;
}

/** Live data sources, filled in by the live command files; absent means "daemon not asked". */
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
  readonly live: LiveProviders;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
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

export function createContext(program: Command, io: ContextIo = {}): CliContext {
  const env = io.env ?? process.env;
  const clock = io.clock ?? Date.now;
  const options = (): GlobalOptions => {
    const opts = program.opts<{ json?: boolean; db?: string; socket?: string }>();
    return {
      json: opts.json === true,
      db: opts.db ?? (env.MSNL_DB || DEFAULT_DB),
      socket: opts.socket ?? (env.MSNL_SOCKET || DEFAULT_SOCKET),
    };
  };
  const open = (mode: 'read' | 'write'): Store => {
    const db = options().db;
    if (mode === 'read') {
      // Showing an empty table is the honest answer before anything was ever configured.
      if (!fs.existsSync(db)) return openStore(':memory:', { clock });
      return openStore(db, { readonly: true, clock });
    }
    return openStore(db, { clock });
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
    live: {},
    stdout: io.stdout ?? ((text) => void process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => void process.stderr.write(text)),
    stderrIsTty: process.stderr.isTTY === true,
    stdinRead: () => fs.readFileSync(0, 'utf8'),
    clock,
  };
}
