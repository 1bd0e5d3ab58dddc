#!/usr/bin/env node
// msnl: the admin CLI. `msnl [OPTIONS] OBJECT { COMMAND | help }` (ip(8) grammar).
// This main registers the live objects (conn, health, ping, status); the table objects are
// registered the same way.

import { Command } from 'commander';
import { addGlobalOptions, createContext } from './context.js';
import * as conn from './conn.js';
import * as health from './health.js';
import * as ping from './ping.js';
import * as status from './status.js';

export function buildProgram(): Command {
  const program = addGlobalOptions(new Command('msnl').description('administer msnl: IP over MSNL').version('0.1.0', '-V, --version'));
  const context = createContext(program);
  for (const object of [conn, health, ping, status]) object.register(program, context);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    });
}
