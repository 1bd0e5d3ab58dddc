#!/usr/bin/env node
// msnl: the admin command. `msnl [-j|--json] [-p|--pretty] [--db PATH] [--socket PATH] OBJECT COMMAND ...`
// Each object lives in its own file and exports register(program, context): the table objects
// (ifconfig, map, route, host) edit the database, the live ones (conn, health, ping, status,
// reload) ask msnld through its control socket.
//
// Start-up cost matters (`msnl status` in scripts and monitoring): a command line that names an
// object in full loads that object's file alone (OBJECT_FILES); what a command runs on (SQLite,
// the control client, etcd, key generation) is loaded when its action runs (lazy.ts); and
// compile-cache.ts comes first.
import './compile-cache.js';
import { Command } from 'commander';
import { createContext, DEFAULT_DB, DEFAULT_SOCKET, type CliContext, type ContextIo } from './context.js';
import { reportError } from './errors.js';
import { expandAbbreviations, objectWordIndex } from './abbrev.js';
import { VERSION } from '../base/version.js';

export type Register = (program: Command, context: CliContext) => void;

export interface ObjectFile {
  /** The top-level commands the file registers (test/cli/program checks them against the file). */
  readonly names: readonly string[];
  /** Loads the file (require: see lazy.ts). */
  readonly load: () => { register: Register };
}

/**
 * The object files, in the order `msnl --help` lists them. A command line that names one of them
 * in full loads that file alone: `msnl status` never compiles map.ts, route.ts and theirs.
 */
export const OBJECT_FILES: readonly ObjectFile[] = [
  { names: ['ifconfig'], load: () => require('./ifconfig.js') as typeof import('./ifconfig.js') },
  { names: ['map'], load: () => require('./map.js') as typeof import('./map.js') },
  { names: ['route'], load: () => require('./route.js') as typeof import('./route.js') },
  { names: ['host'], load: () => require('./host.js') as typeof import('./host.js') },
  { names: ['showconf', 'apply'], load: () => require('./apply.js') as typeof import('./apply.js') },
  { names: ['conn'], load: () => require('./conn.js') as typeof import('./conn.js') },
  { names: ['health'], load: () => require('./health.js') as typeof import('./health.js') },
  { names: ['ping'], load: () => require('./ping.js') as typeof import('./ping.js') },
  { names: ['status'], load: () => require('./status.js') as typeof import('./status.js') },
  { names: ['reload'], load: () => require('./reload.js') as typeof import('./reload.js') },
  { names: ['monitor'], load: () => require('./monitor.js') as typeof import('./monitor.js') },
  { names: ['fleet'], load: () => require('./fleet.js') as typeof import('./fleet.js') },
];

/** Every object file, loaded: what `msnl --help`, abbreviations and errors need. */
export function allObjects(): Array<{ register: Register }> {
  return OBJECT_FILES.map((file) => file.load());
}

/**
 * The object files a command line needs: the one its object word names in full, none for a bare
 * `--version`, and otherwise all (help, an abbreviation, a mistake: commander then sees the
 * whole tree, as before).
 */
export function objectsFor(args: readonly string[]): Array<{ register: Register }> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) return [];
  const word = args[objectWordIndex(args)];
  const file = word === undefined ? undefined : OBJECT_FILES.find((f) => f.names.includes(word));
  return file === undefined ? allObjects() : [file.load()];
}

export interface Program {
  readonly program: Command;
  readonly context: CliContext;
}

/** Builds the whole command tree; nothing runs until parseAsync. */
export function buildProgram(io: ContextIo = {}, objects: ReadonlyArray<{ register: Register }> = allObjects()): Program {
  const program = new Command('msnl');
  const writeErr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  const writeOut = io.stdout ?? ((text: string) => void process.stdout.write(text));
  program
    .description('administer IP over MSNL: the ms0..ms3 interfaces, the mapping and route tables, and msnld')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .option('-j, --json', 'print JSON instead of text')
    .option('-p, --pretty', 'indent JSON output')
    .option('--db <path>', `the database file (default: $MSNL_DB or ${DEFAULT_DB})`)
    .option('--socket <path>', `msnld's control socket (default: $MSNL_SOCKET or ${DEFAULT_SOCKET})`)
    .option('-n, --netns <name>', 'the msnld instance of network namespace NAME: its database and socket (as msnld -n NAME)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut,
      writeErr,
      outputError: (text, write) => write(text.replace(/^error: /, 'Error: ')),
    })
    .addHelpText('after', '\nExit status: 0 success, 1 usage or invalid argument (nothing written), 2 the database or daemon reported a failure (or msnld is not running), 3 health --check found a tunnel not up, or ping got no reply.\nSee msnl(8).');
  const context = createContext(program, io);
  for (const object of objects) object.register(program, context);
  return { program, context };
}

/** Runs one command line (argv without node and script) and returns the exit status. */
export async function run(args: readonly string[], io: ContextIo = {}): Promise<number> {
  const { program, context } = buildProgram(io, objectsFor(args));
  const writeErr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  try {
    await program.parseAsync(expandAbbreviations(program, args), { from: 'user' });
    await context.settle();
    return context.exitStatus;
  } catch (error) {
    return reportError(error, writeErr);
  }
}

if (require.main === module) {
  // `msnl map show | head`: a closed pipe ends the output quietly, as with any Unix filter.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      process.exit(2);
    });
  }
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
