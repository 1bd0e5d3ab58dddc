// msnl map: the IP prefix -> MSNL address table.
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatDottedQuad, formatIpv4Prefix, parseDottedQuad, parseIpv4Prefix } from '../abi/inet.js';
import type { Mapping } from '../store/types.js';
import { parseKeywords } from './args.js';
import type { CliContext } from './context.js';
import { FailureError, UsageError, must } from './errors.js';
import { formatMappingCsv, mappingFromFields, parseMappingFile } from './mapfile.js';
import { isoTime, printRows, quoted } from './output.js';
import { progressBar } from './progress.js';

export interface MappingRow {
  readonly [key: string]: string | null;
  readonly prefix: string;
  readonly msnl_address: string;
  readonly origin: string;
  readonly created: string | null;
  readonly expires: string | null;
  readonly comment: string;
}

export function mappingRow(m: Mapping): MappingRow {
  return {
    prefix: formatIpv4Prefix(m.prefix),
    msnl_address: formatDottedQuad(m.msnlAddress),
    origin: m.origin,
    created: isoTime(m.createdAt),
    expires: isoTime(m.expiresAt),
    comment: m.comment,
  };
}

export function mappingText(row: MappingRow): string {
  let text = `${row.prefix} msnl ${row.msnl_address} origin ${row.origin}`;
  if (row.expires !== null) text += ` expires ${row.expires}`;
  if (row.comment !== '') text += ` comment ${quoted(row.comment)}`;
  return text;
}

function showMappings(context: CliContext, prefixText?: string): void {
  const prefix = prefixText === undefined ? undefined : must(parseIpv4Prefix(prefixText));
  const mappings = context.withStore('read', (store) => {
    if (prefix === undefined) return store.listMappings();
    const one = store.getMapping(prefix);
    return one === undefined ? [] : [one];
  });
  printRows(context, mappings.map(mappingRow), mappingText);
}

export function register(program: Command, context: CliContext): void {
  const map = program
    .command('map')
    .description('the IP prefix -> MSNL address mapping table (default: show)')
    .addHelpText('after', '\nPREFIX is a.b.c.d/len with host bits zero (a bare address is /32); MSNLADDR is dotted decimal.');

  map
    .command('show', { isDefault: true })
    .aliases(['list', 'ls'])
    .description('list mappings, or the one for exactly PREFIX')
    .argument('[prefix]', 'an IPv4 prefix a.b.c.d/len')
    .action((prefix: string | undefined) => showMappings(context, prefix));

  map
    .command('add')
    .description('add a mapping: IP addresses in PREFIX are reached at MSNL address MSNLADDR')
    .argument('<prefix>', 'IPv4 prefix a.b.c.d/len (host bits zero)')
    .argument('<msnladdr>', 'MSNL address, dotted decimal')
    .argument('[keywords...]', 'comment TEXT | lifetime SECONDS (seconds until it expires) | publish (to the fleet, msnld --cluster)')
    .addHelpText('after', '\nExamples:\n  msnl map add 10.9.0.0/16 128.232.65.42 comment "lab hosts"\n  msnl map add 198.51.100.7 128.232.65.43 lifetime 3600\n  msnl map add 10.9.0.0/16 128.232.65.42 publish')
    .action((prefixText: string, addressText: string, rest: string[]) => {
      const keywords = parseKeywords(rest, ['comment', 'lifetime'], ['publish']);
      const mapping = mappingFromFields(prefixText, addressText, keywords.get('comment'), keywords.get('lifetime'));
      context.withStore('write', (store) =>
        store.transaction(`add mapping ${prefixText}`, () => {
          store.addMapping({ ...mapping, origin: 'cli' });
          if (keywords.has('publish')) store.fleet().setPublish(mapping.prefix, true);
        }),
      );
    });

  map
    .command('replace')
    .description('add a mapping, or replace the one for exactly PREFIX, in one transaction')
    .argument('<prefix>', 'IPv4 prefix a.b.c.d/len (host bits zero)')
    .argument('<msnladdr>', 'MSNL address, dotted decimal')
    .argument('[keywords...]', 'comment TEXT | lifetime SECONDS (seconds until it expires)')
    .action((prefixText: string, addressText: string, rest: string[]) => {
      const keywords = parseKeywords(rest, ['comment', 'lifetime']);
      const mapping = mappingFromFields(prefixText, addressText, keywords.get('comment'), keywords.get('lifetime'));
      context.withStore('write', (store) =>
        store.transaction(`replace mapping ${prefixText}`, () => {
          if (store.getMapping(mapping.prefix) !== undefined) store.delMapping(mapping.prefix);
          store.addMapping({ ...mapping, origin: 'cli' });
        }),
      );
    });

  map
    .command('del')
    .alias('delete')
    .description('delete the mapping for exactly PREFIX')
    .argument('<prefix>', 'IPv4 prefix a.b.c.d/len')
    .action((prefixText: string) => {
      const prefix = must(parseIpv4Prefix(prefixText));
      context.withStore('write', (store) => store.delMapping(prefix));
    });

  map
    .command('get')
    .description('show the mapping IP resolves to (longest prefix) and its MSNL address')
    .argument('<ip>', 'an IPv4 address')
    .action((ipText: string) => {
      const ip = must(parseDottedQuad(ipText));
      const found = context.withStore('read', (store) => store.lookupMapping(ip));
      if (found === undefined) throw new FailureError(`no mapping for ${formatDottedQuad(ip)}`);
      const row = { ip: formatDottedQuad(ip), ...mappingRow(found) };
      printRows(context, [row], (r) => `${r.ip} ${mappingText(r)}`);
    });

  map
    .command('flush')
    .description('delete every mapping (also those with a lifetime)')
    .action(() => {
      const count = context.withStore('write', (store) => store.flushMappings());
      if (context.stderrIsTty) context.stderr(`deleted ${count} mappings\n`);
    });

  map
    .command('import')
    .description('add all mappings of a CSV or JSON file (- for stdin), all or nothing')
    .option('--replace', 'replace every mapping with those of the file, in one transaction')
    .argument('<file>', 'file name, or - for standard input')
    .addHelpText(
      'after',
      '\nCSV lines are prefix,msnl_address[,comment[,lifetime]] with an optional header line and # comments;\n' +
        'JSON is an array of objects with those keys. One bad or duplicate row rejects the whole file.\n' +
        'With --replace the file becomes the whole mapping table (re-importing an export is then a no-op).',
    )
    .action((file: string, options: { replace?: boolean }) => {
      let text: string;
      try {
        text = file === '-' ? context.stdinRead() : fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`failed to read ${file}: ${(error as Error).message}`);
      }
      const rows = parseMappingFile(text);
      const bar = progressBar('importing', context.stderr, context.stderrIsTty);
      let count: number;
      try {
        const progress = { onProgress: (done: number, total: number) => bar.update(done, total) };
        count = context.withStore('write', (store) =>
          options.replace ? store.transaction('replace the mappings', () => (store.flushMappings(), store.importMappings(rows, progress))) : store.importMappings(rows, progress),
        );
      } finally {
        bar.finish();
      }
      if (context.stderrIsTty) context.stderr(`imported ${count} mappings\n`);
    });

  map
    .command('export')
    .description('write the mappings as CSV (the format import reads) to FILE or stdout')
    .argument('[file]', 'file name (default: standard output)')
    .action((file: string | undefined) => {
      const text = context.withStore('read', (store) => formatMappingCsv(store.listMappings(), context.clock()));
      if (file === undefined || file === '-') {
        context.stdout(text);
        return;
      }
      try {
        fs.writeFileSync(file, text);
      } catch (error) {
        throw new FailureError(`failed to write ${file}: ${(error as Error).message}`);
      }
    });
}
