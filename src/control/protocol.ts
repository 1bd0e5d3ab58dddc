// The msnld control protocol: a UAPI-like text protocol on a unix stream socket (msnld(8),
// CONTROL PROTOCOL). Pure: strings in, typed results out (framing.ts cuts the byte streams into
// lines and requests); nothing here throws on what a client sends.
//
//   request = verb-line *(key "=" value LF) LF      verb-line = get=WHAT | reload=1 | sync=1 | disconnect=ID | ping=ADDR | monitor=1
//   (get=connections and get=health take the filters interface=, peer= and state=)
//   reply   = "protocol_version=1" LF *(key "=" value LF) ["message=" text LF] "errno=" N LF LF
//
// Keys are lowercase snake_case; an unknown or repeated key is an error (-EINVAL), never ignored.

import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';

export const PROTOCOL_VERSION = 1;

/** Negative Linux errno values carried in `errno=` (0 is success); src/abi/errno.ts names -value. */
export const Errno = Object.freeze({
  OK: 0,
  ENOENT: -2,
  EIO: -5,
  EBUSY: -16,
  EINVAL: -22,
  EMSGSIZE: -90,
  EPROTONOSUPPORT: -93,
  EOPNOTSUPP: -95,
  ETIMEDOUT: -110,
  EHOSTUNREACH: -113,
});

/** Longest line (without its LF) in a request or a reply. */
export const MAX_LINE_BYTES = 1024;
/** Most lines in one request, the terminating blank line included. */
export const MAX_REQUEST_LINES = 16;

export const PING_DEFAULT_INTERVAL_MS = 1000;
export const PING_MIN_INTERVAL_MS = 10;
export const PING_MAX_INTERVAL_MS = 3_600_000;
/** `count=0` asks for replies until the client closes the connection. */
export const PING_MAX_COUNT = 100_000;

export type GetTarget = 'status' | 'interfaces' | 'connections' | 'health';
const GET_TARGETS: readonly GetTarget[] = ['status', 'interfaces', 'connections', 'health'];

/** Which rows of get=connections / get=health to send: every given field must match. */
export interface RowFilter {
  readonly interface?: string;
  /** Dotted quad of the peer's IP address. */
  readonly peer?: string;
  readonly state?: string;
}

/** The states a filter may ask for, per target. */
export const FILTER_STATES: Readonly<Record<'connections' | 'health', readonly string[]>> = {
  connections: ['open', 'up', 'calling', 'failed'],
  health: ['up', 'half', 'down'],
};

const FILTER_INTERFACE = /^ms[0-3]$/;

export type Request =
  | { readonly kind: 'get'; readonly what: GetTarget; readonly filter?: RowFilter }
  | { readonly kind: 'reload' }
  | { readonly kind: 'sync' }
  | { readonly kind: 'disconnect'; readonly id: number }
  | { readonly kind: 'ping'; readonly address: number; readonly addressText: string; readonly count: number; readonly intervalMs: number }
  | { readonly kind: 'monitor' };

/** A request or reply the codec refuses: the errno to answer with and why. */
export class ProtocolError {
  constructor(
    readonly errno: number,
    readonly message: string,
  ) {}
}

export type Pair = readonly [key: string, value: string];

const KEY = /^[a-z][a-z0-9_]*$/;
// Printable ASCII plus anything non-ASCII; no control characters (they would break the framing).
const BAD_VALUE_CHAR = /[\x00-\x1f\x7f]/;
const UINT = /^(0|[1-9][0-9]{0,15})$/;

/** Parses a decimal unsigned integer (no sign, no leading zeros), or undefined. */
export function parseUint(text: string): number | undefined {
  if (!UINT.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Splits one `key=value` line; the value may be empty and may itself contain `=`. */
export function parseLine(line: string): Pair | ProtocolError {
  const eq = line.indexOf('=');
  if (eq < 0) return new ProtocolError(Errno.EINVAL, `line "${printable(line)}" has no "="`);
  const key = line.slice(0, eq);
  const value = line.slice(eq + 1);
  if (!KEY.test(key)) return new ProtocolError(Errno.EINVAL, `key "${printable(key)}" is not lowercase snake_case`);
  if (BAD_VALUE_CHAR.test(value)) return new ProtocolError(Errno.EINVAL, `value of "${key}" has a control character`);
  return [key, value];
}

/** Makes text safe to quote in a message: control characters become "?", length is capped. */
export function printable(text: string, max = 64): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** Parses a whole request given as text (its lines, blank terminator optional). */
export function parseRequest(text: string): Request | ProtocolError {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return parseRequestLines(lines);
}

/** Parses a request from its lines (without the blank line that ends it). */
export function parseRequestLines(lines: readonly string[]): Request | ProtocolError {
  if (lines.length === 0) return new ProtocolError(Errno.EINVAL, 'empty request');
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const pair = parseLine(line);
    if (pair instanceof ProtocolError) return pair;
    if (seen.has(pair[0])) return new ProtocolError(Errno.EINVAL, `key "${pair[0]}" is repeated`);
    seen.add(pair[0]);
    pairs.push(pair);
  }
  const [verb, ...rest] = pairs as [Pair, ...Pair[]];
  const options = new Map<string, string>();
  for (const [key, value] of rest) {
    if (key === 'protocol_version') {
      if (value !== String(PROTOCOL_VERSION)) return new ProtocolError(Errno.EPROTONOSUPPORT, `protocol_version "${printable(value)}" is not supported (this is version ${PROTOCOL_VERSION})`);
      continue;
    }
    options.set(key, value);
  }
  const [name, value] = verb;
  switch (name) {
    case 'get': {
      const what = GET_TARGETS.find((target) => target === value);
      if (what === undefined) return new ProtocolError(Errno.EOPNOTSUPP, `get "${printable(value)}" is not supported`);
      if (what === 'connections' || what === 'health') return parseFilter(what, options);
      return noOptions(options, name) ?? { kind: 'get', what };
    }
    case 'reload':
      if (value !== '1') return new ProtocolError(Errno.EINVAL, `reload takes "1", not "${printable(value)}"`);
      return noOptions(options, name) ?? { kind: 'reload' };
    case 'sync':
      if (value !== '1') return new ProtocolError(Errno.EINVAL, `sync takes "1", not "${printable(value)}"`);
      return noOptions(options, name) ?? { kind: 'sync' };
    case 'disconnect': {
      const id = parseUint(value);
      if (id === undefined || id > 0xffffffff) return new ProtocolError(Errno.EINVAL, `connection id "${printable(value)}" is not a number`);
      return noOptions(options, name) ?? { kind: 'disconnect', id };
    }
    case 'ping':
      return parsePing(value, options);
    case 'monitor':
      if (value !== '1') return new ProtocolError(Errno.EINVAL, `monitor takes "1", not "${printable(value)}"`);
      return noOptions(options, name) ?? { kind: 'monitor' };
    default:
      return new ProtocolError(Errno.EINVAL, `unknown request "${name}"`);
  }
}

function noOptions(options: Map<string, string>, verb: string): ProtocolError | undefined {
  for (const key of options.keys()) return new ProtocolError(Errno.EINVAL, `unknown key "${key}" for ${verb}`);
  return undefined;
}

function parseFilter(what: 'connections' | 'health', options: Map<string, string>): Request | ProtocolError {
  const filter: { interface?: string; peer?: string; state?: string } = {};
  for (const [key, value] of options) {
    if (key === 'interface') {
      if (!FILTER_INTERFACE.test(value)) return new ProtocolError(Errno.EINVAL, `interface "${printable(value)}" is not ms0..ms3`);
      filter.interface = value;
    } else if (key === 'peer') {
      const address = parseDottedQuad(value, 'peer');
      if (typeof address !== 'number') return new ProtocolError(Errno.EINVAL, `peer "${printable(value)}" is wrong: ${address.reason}`);
      filter.peer = formatDottedQuad(address);
    } else if (key === 'state') {
      const states = FILTER_STATES[what];
      if (!states.includes(value)) return new ProtocolError(Errno.EINVAL, `state "${printable(value)}" is not one of ${states.join(', ')}`);
      filter.state = value;
    } else {
      return new ProtocolError(Errno.EINVAL, `unknown key "${key}" for get=${what}`);
    }
  }
  return Object.keys(filter).length === 0 ? { kind: 'get', what } : { kind: 'get', what, filter };
}

/** True when a row passes the filter (peer compared as the dotted quad the row carries). */
export function matchesFilter(filter: RowFilter | undefined, row: { readonly interface: string; readonly peer_ip: string; readonly state: string }): boolean {
  if (filter === undefined) return true;
  return (filter.interface === undefined || row.interface === filter.interface) && (filter.peer === undefined || row.peer_ip === filter.peer) && (filter.state === undefined || row.state === filter.state);
}

function parsePing(addressText: string, options: Map<string, string>): Request | ProtocolError {
  const address = parseDottedQuad(addressText, 'MSNL address');
  if (typeof address !== 'number') return new ProtocolError(Errno.EINVAL, `MSNL address "${printable(addressText)}" is wrong: ${address.reason}`);
  let count = 0;
  let intervalMs = PING_DEFAULT_INTERVAL_MS;
  for (const [key, value] of options) {
    const n = parseUint(value);
    if (key === 'count') {
      if (n === undefined || n > PING_MAX_COUNT) return new ProtocolError(Errno.EINVAL, `count "${printable(value)}" is not 0..${PING_MAX_COUNT}`);
      count = n;
    } else if (key === 'interval_ms') {
      if (n === undefined || n < PING_MIN_INTERVAL_MS || n > PING_MAX_INTERVAL_MS) {
        return new ProtocolError(Errno.EINVAL, `interval_ms "${printable(value)}" is not ${PING_MIN_INTERVAL_MS}..${PING_MAX_INTERVAL_MS}`);
      }
      intervalMs = n;
    } else {
      return new ProtocolError(Errno.EINVAL, `unknown key "${key}" for ping`);
    }
  }
  return { kind: 'ping', address, addressText, count, intervalMs };
}

/** Renders a request, blank line included. */
export function encodeRequest(request: Request): string {
  switch (request.kind) {
    case 'get': {
      const f = request.filter;
      const extra = f === undefined ? '' : `${f.interface === undefined ? '' : `interface=${f.interface}\n`}${f.peer === undefined ? '' : `peer=${f.peer}\n`}${f.state === undefined ? '' : `state=${f.state}\n`}`;
      return `get=${request.what}\n${extra}\n`;
    }
    case 'reload':
      return 'reload=1\n\n';
    case 'sync':
      return 'sync=1\n\n';
    case 'disconnect':
      return `disconnect=${request.id}\n\n`;
    case 'ping':
      return `ping=${request.addressText}\ncount=${request.count}\ninterval_ms=${request.intervalMs}\n\n`;
    case 'monitor':
      return 'monitor=1\n\n';
  }
}

/** Renders pairs as `key=value` lines; control characters in values become "?". */
export function encodePairs(pairs: readonly Pair[]): string {
  let text = '';
  for (const [key, value] of pairs) text += `${key}=${value.replace(/[\x00-\x1f\x7f]/g, '?')}\n`;
  return text;
}

/** The first line of every reply. */
export const REPLY_HEAD = `protocol_version=${PROTOCOL_VERSION}\n`;

/** The end of every reply: an optional message, the errno and the blank line. */
export function encodeReplyEnd(errno: number, message?: string): string {
  const text = message === undefined || errno === 0 ? '' : encodePairs([['message', printable(message, 200)]]);
  return `${text}errno=${errno}\n\n`;
}

/** A whole reply. */
export function encodeReply(body: readonly Pair[], errno = 0, message?: string): string {
  return REPLY_HEAD + encodePairs(body) + encodeReplyEnd(errno, message);
}

export interface Reply {
  readonly errno: number;
  readonly message: string | undefined;
  readonly body: readonly Pair[];
}

/**
 * Decodes a complete reply from its lines (the blank terminator excluded). Used by the client and
 * by tests; the server never decodes replies.
 */
export function decodeReplyLines(lines: readonly string[]): Reply | ProtocolError {
  const pairs: Pair[] = [];
  for (const line of lines) {
    const pair = parseLine(line);
    if (pair instanceof ProtocolError) return pair;
    pairs.push(pair);
  }
  const first = pairs[0];
  if (first === undefined || first[0] !== 'protocol_version') return new ProtocolError(Errno.EPROTONOSUPPORT, 'reply does not start with protocol_version');
  if (first[1] !== String(PROTOCOL_VERSION)) return new ProtocolError(Errno.EPROTONOSUPPORT, `reply protocol_version ${printable(first[1])} is not ${PROTOCOL_VERSION}`);
  const last = pairs[pairs.length - 1];
  if (pairs.length < 2 || last === undefined || last[0] !== 'errno') return new ProtocolError(Errno.EINVAL, 'reply does not end with errno');
  const errno = /^(0|-[1-9][0-9]{0,3})$/.test(last[1]) ? Number(last[1]) : undefined;
  if (errno === undefined) return new ProtocolError(Errno.EINVAL, `reply errno "${printable(last[1])}" is not 0 or a negative number`);
  let body = pairs.slice(1, -1);
  let message: string | undefined;
  const maybeMessage = body[body.length - 1];
  if (maybeMessage !== undefined && maybeMessage[0] === 'message') {
    message = maybeMessage[1];
    body = body.slice(0, -1);
  }
  return { errno, message, body };
}

/** Decodes a complete reply given as text. */
export function decodeReply(text: string): Reply | ProtocolError {
  const lines = text.split('\n');
  if (lines.length < 3 || lines.pop() !== '' || lines.pop() !== '') return new ProtocolError(Errno.EINVAL, 'reply does not end with a blank line');
  return decodeReplyLines(lines);
}
