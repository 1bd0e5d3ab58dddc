// The mapping file format of `msnl map import` / `export` (pure: text in, rows out).
// CSV: `prefix,msnl_address[,comment[,lifetime]]`, optional header line, `#` comment lines,
// fields with a comma or quote in double quotes ("" for a quote). JSON: an array of objects
// with the same keys. A bad row rejects the file, naming its line (CSV) or entry (JSON).
import { ArgumentError, formatDottedQuad, formatIpv4Prefix, parseDottedQuad, parseIpv4Prefix } from '../abi/inet.js';
import type { Mapping, NewMapping } from '../store/types.js';
import { parseInteger } from './args.js';
import { LineError, UsageError } from './errors.js';

export const MAX_LIFETIME_SECONDS = 2 ** 31 - 1;
export const MAX_COMMENT_LENGTH = 1024;

/** Validates a comment: printable, one line, at most 1024 characters. */
export function checkComment(text: string): string | ArgumentError {
  if (text.length > MAX_COMMENT_LENGTH) return new ArgumentError(text.slice(0, 20) + '...', `comment is longer than ${MAX_COMMENT_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(text)) return new ArgumentError(text, 'comment contains a control character');
  return text;
}

export function parseLifetime(text: string): number | ArgumentError {
  return parseInteger(text, 1, MAX_LIFETIME_SECONDS, 'lifetime (seconds)');
}

/** Builds one mapping from its textual fields; throws ArgumentError. */
export function mappingFromFields(prefixText: string, addressText: string, comment?: string, lifetime?: string): NewMapping {
  const prefix = parseIpv4Prefix(prefixText);
  if (prefix instanceof ArgumentError) throw prefix;
  const msnlAddress = parseDottedQuad(addressText, 'MSNL address');
  if (msnlAddress instanceof ArgumentError) throw msnlAddress;
  const checked = comment === undefined ? '' : checkComment(comment);
  if (checked instanceof ArgumentError) throw checked;
  let lifetimeSeconds: number | undefined;
  if (lifetime !== undefined && lifetime !== '') {
    const parsed = parseLifetime(lifetime);
    if (parsed instanceof ArgumentError) throw parsed;
    lifetimeSeconds = parsed;
  }
  return { prefix, msnlAddress, comment: checked, lifetimeSeconds };
}

/** Splits one CSV line into fields; undefined on an unterminated quote. */
export function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',').map((field) => field.trim());
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        const c = line[i] as string;
        if (c === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += c;
        i++;
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') return undefined;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(i, end).trim();
      i = end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function parseCsv(text: string): NewMapping[] {
  const rows: NewMapping[] = [];
  const lines = text.split('\n');
  let sawData = false;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).replace(/\r$/, '');
    const number = index + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = splitCsvLine(line);
    if (fields === undefined) throw new LineError(number, new UsageError('unterminated quoted field'));
    if (!sawData && fields[0]?.toLowerCase() === 'prefix') {
      sawData = true;
      continue; // header
    }
    sawData = true;
    if (fields.length < 2 || fields.length > 4) {
      throw new LineError(number, new UsageError(`expected 2 to 4 fields (prefix,msnl_address[,comment[,lifetime]]), found ${fields.length}`));
    }
    try {
      rows.push({ ...mappingFromFields(fields[0] as string, fields[1] as string, fields[2], fields[3]), line: number });
    } catch (error) {
      throw new LineError(number, error as Error);
    }
  }
  return rows;
}

function field(entry: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && key === 'lifetime') return String(value);
  if (typeof value !== 'string') throw new LineError(where, new UsageError(`"${key}" must be a string`));
  return value;
}

function parseJson(text: string): NewMapping[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`input is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) throw new UsageError('JSON input must be an array of mapping objects');
  return data.map((entry: unknown, index) => {
    const where = `entry ${index + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new LineError(where, new UsageError('not an object'));
    const record = entry as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!['prefix', 'msnl_address', 'comment', 'lifetime'].includes(key)) throw new LineError(where, new UsageError(`unknown key "${key}"`));
    }
    const prefix = field(record, 'prefix', where);
    const address = field(record, 'msnl_address', where);
    if (prefix === undefined || address === undefined) throw new LineError(where, new UsageError('"prefix" and "msnl_address" are required'));
    try {
      return mappingFromFields(prefix, address, field(record, 'comment', where), field(record, 'lifetime', where));
    } catch (error) {
      throw new LineError(where, error as Error);
    }
  });
}

/** Parses a whole import file (JSON when it starts with `[`, CSV otherwise). Throws on the first bad row. */
export function parseMappingFile(text: string): NewMapping[] {
  return text.trimStart().startsWith('[') ? parseJson(text) : parseCsv(text);
}

function csvField(text: string): string {
  return /[",#]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes mappings as the CSV that parseMappingFile reads; lifetimes are the seconds left at `now`. */
export function formatMappingCsv(mappings: readonly Mapping[], now: number): string {
  const lines = ['prefix,msnl_address,comment,lifetime'];
  for (const m of mappings) {
    const lifetime = m.expiresAt === null ? '' : String(Math.max(1, Math.ceil((m.expiresAt - now) / 1000)));
    lines.push(`${formatIpv4Prefix(m.prefix)},${formatDottedQuad(m.msnlAddress)},${csvField(m.comment)},${lifetime}`);
  }
  return `${lines.join('\n')}\n`;
}
