// msnl showconf / msnl apply: the whole desired state as one file (format in conf.ts and msnl(8)).
//
//   msnl showconf > msnl.conf        host, interfaces, routes and permanent mappings
//   msnl apply msnl.conf [--dry-run] make the database equal to the file in one transaction,
//                                    printing the difference (`-`/`+` lines); a bad line changes
//                                    nothing and is named
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatIpv4Prefix } from '../abi/inet.js';
import type { Store } from '../store/store.js';
import { confOf, diffConf, formatConf, parseConf, type ConfDiff } from './conf.js';
import type { CliContext } from './context.js';
import { LineError, UsageError } from './errors.js';
import { printJson } from './output.js';

/** Carries out a difference inside one store transaction; `expiring` names the prefixes of mappings with a lifetime. */
export function applyDiff(store: Store, diff: ConfDiff, to: ReturnType<typeof parseConf>, expiring: ReadonlySet<string>): void {
  store.transaction('apply the configuration', () => {
    if (diff.host) store.updateHost({ ...to.host });
    for (const { name, to: want } of diff.interfaces) {
      if (want.address === null) {
        store.deleteInterfaceAddress(name);
        store.setInterfaceAdmin(name, want.adminUp);
      } else {
        store.setInterfaceAddress(name, want.address, want.adminUp);
      }
    }
    for (const route of diff.routesDeleted) store.delRoute(route.prefix);
    for (const route of diff.routesAdded) store.addRoute(route);
    for (const mapping of diff.mappingsDeleted) store.delMapping(mapping.prefix);
    // A mapping with a lifetime for the same prefix gives way to the file's permanent one.
    for (const mapping of diff.mappingsAdded) if (expiring.has(formatIpv4Prefix(mapping.prefix))) store.delMapping(mapping.prefix);
    store.importMappings(diff.mappingsAdded);
  });
}

export function register(program: Command, context: CliContext): void {
  program
    .command('showconf')
    .description('print the whole desired state (host, interfaces, routes, mappings) in the format msnl apply reads')
    .action(() => {
      const state = context.withStore('read', (store) => store.snapshot());
      const skipped = state.mappings.filter((m) => m.expiresAt !== null).length;
      const header = ['msnl configuration (msnl showconf); apply with: msnl apply FILE'];
      if (skipped > 0) header.push(`${skipped} mappings with a lifetime are left out (runtime state)`);
      context.stdout(formatConf(confOf(state), header));
    });

  program
    .command('apply')
    .description('make the database equal to a configuration file (- for stdin), in one transaction')
    .argument('<file>', 'a file in the format of msnl showconf, or - for standard input')
    .option('-n, --dry-run', 'print the difference only')
    .addHelpText(
      'after',
      '\nPrints the difference as -/+ lines in the file\'s syntax, then "N changes" (or "no changes").\n' +
        'A bad line changes nothing and is named. Mappings with a lifetime in the database are left alone\n' +
        'unless the file names the same prefix. See msnl(8) for the format.\n\n' +
        'Example:\n  msnl showconf > msnl.conf; $EDITOR msnl.conf; msnl apply --dry-run msnl.conf; msnl apply msnl.conf',
    )
    .action((file: string, options: { dryRun?: boolean }) => {
      let text: string;
      try {
        text = file === '-' ? context.stdinRead() : fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`failed to read ${file}: ${(error as Error).message}`);
      }
      let conf;
      try {
        conf = parseConf(text);
      } catch (error) {
        if (error instanceof LineError) throw new LineError(`${file === '-' ? 'stdin' : file} line ${error.line}`, error.inner);
        throw error;
      }
      // Compared read-only first, so a no-op or a dry run never opens the database for writing;
      // the write compares again inside its transaction, against the state it changes.
      let diff = context.withStore('read', (store) => diffConf(confOf(store.snapshot()), conf));
      if (!options.dryRun && diff.lines.length > 0) {
        diff = context.withStore('write', (store) =>
          store.transaction('apply the configuration', () => {
            const state = store.snapshot();
            const found = diffConf(confOf(state), conf);
            applyDiff(store, found, conf, new Set(state.mappings.filter((m) => m.expiresAt !== null).map((m) => formatIpv4Prefix(m.prefix))));
            return found;
          }),
        );
      }
      if (context.options().json) {
        printJson(context, { changes: diff.changes, dry_run: options.dryRun === true, lines: diff.lines });
        return;
      }
      if (diff.lines.length > 0) context.stdout(`${diff.lines.join('\n')}\n`);
      const n = diff.changes;
      context.stdout(n === 0 ? 'no changes\n' : `${n} change${n === 1 ? '' : 's'}${options.dryRun ? ' (dry run: nothing written)' : ''}\n`);
    });
}
