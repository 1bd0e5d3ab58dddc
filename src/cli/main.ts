#!/usr/bin/env node
// msnl: the admin command. `msnl [-j|--json] [-p|--pretty] [--db PATH] [--socket PATH] OBJECT COMMAND ...`
// Each object lives in its own file and exports register(program, context): the table objects
// (ifconfig, map, route, host) edit the database, the live ones (conn, health, ping, status,
// reload) ask msnld through its control socket.
//
// Start-up cost matters (`msnl status` in scripts and monitoring): the object files import only
// what building the command tree needs; what a command runs on (SQLite, the control client, etcd,
// key generation) is loaded when its action runs (lazy.ts), and compile-cache.ts comes first.
import './compile-cache.js';
import { Command } from 'commander';
import { createContext, DEFAULT_DB, DEFAULT_SOCKET, type CliContext, type ContextIo } from './context.js';
import { reportError } from './errors.js';
import { expandAbbreviations } from './abbrev.js';
import { VERSION } from '../base/version.js';
import * as apply from './apply.js';
import * as conn from './conn.js';
import * as fleet from './fleet.js';
import * as health from './health.js';
import * as host from './host.js';
import * as ifconfig from './ifconfig.js';
import * as map from './map.js';
import * as monitor from './monitor.js';
import * as ping from './ping.js';
import * as reload from './reload.js';
import * as route from './route.js';
import * as status from './status.js';

export type Register = (program: Command, context: CliContext) => void;

/** The object files, in the order `msnl --help` lists them. */
export const OBJECTS: ReadonlyArray<{ register: Register }> = [ifconfig, map, route, host, apply, conn, health, ping, status, reload, monitor, fleet];

export interface Program {
  readonly program: Command;
  readonly context: CliContext;
}

/** Builds the whole command tree; nothing runs until parseAsync. */
export function buildProgram(io: ContextIo = {}, objects: ReadonlyArray<{ register: Register }> = OBJECTS): Program {
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
  const { program, context } = buildProgram(io);
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
