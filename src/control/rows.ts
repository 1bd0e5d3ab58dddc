// The typed rows the control protocol carries, and their encoding as `key=value` pairs. Pure.
//
// Field names are snake_case and are the same in TypeScript, on the wire and in `msnl -j` JSON:
// one name per fact, no mapping tables. A list is a run of items, each opened by its context key
// (`interface=ms0`, `connection=7`, `seq=1`, `counter=NAME`). A null field is left out on the
// wire. Decoders check every key, type and range and return a ProtocolError instead of throwing.

import { Errno, Pair, ProtocolError, parseUint, printable } from './protocol.js';

export interface StatusRow {
  pid: number;
  version: string;
  uptime_s: number;
  /** Default MSNL address of this host, dotted; null when none is set. */
  msnl_address: string | null;
  /** Underlay listen address, `HOST:PORT`; null when not listening. */
  listen: string | null;
  /** The database file the daemon reads; null when it does not say. */
  db: string | null;
  /** The control socket the daemon answers on; null when it does not say. */
  socket: string | null;
  /** The settings msnld's command line overrides, comma-separated (`address`, `listen`); absent when none. */
  overrides?: string | null;
  /** The fleet watch (msnld --cluster): live or not, at which revision; absent without a fleet. */
  fleet?: string | null;
  counters: Record<string, number>;
}

export interface InterfaceRow {
  interface: string;
  mtu: number;
  port: number;
  /** `a.b.c.d/len`, or null when the interface has no address. */
  address: string | null;
  admin_up: boolean;
  oper_up: boolean;
  /** True while the interface's MSNL socket is bound and listening. */
  bound: boolean;
  connections: number;
  rx_packets: number;
  rx_bytes: number;
  tx_packets: number;
  tx_bytes: number;
  drops: number;
}

export type Initiator = 'local' | 'remote';

export type AuthMode = 'key' | 'none';

export interface ConnectionRow {
  /** Connection id (context key). */
  connection: number;
  interface: string;
  peer_ip: string;
  /** SAPs are written `MSNLADDR:PORT`, the port in hex (`128.232.65.42:0x0800`). */
  local_sap: string;
  remote_sap: string;
  /**
   * open/up: a connection (up once both directions are proven). calling/failed: no connection yet,
   * a call in progress or the last call failed; such rows have connection 0 and zero counters.
   */
  state: string;
  /** 'key': secure MSNL (every frame sealed); 'none': the plain framing of an auth none route. */
  auth: AuthMode;
  /** Seconds since the connection opened, the call started (calling) or the call failed (failed). */
  age_s: number;
  rx_packets: number;
  rx_bytes: number;
  tx_packets: number;
  tx_bytes: number;
  initiator: Initiator;
  /** The path MTU the connection sends to, as HealthRow.pmtu; null for a call. */
  pmtu: number | null;
  /** msnl(7) reason name of a failed call (`timeout`, `refused`, ...); null otherwise. */
  reason: string | null;
}

export type HealthState = 'up' | 'half' | 'down';

export interface HealthRow {
  connection: number;
  interface: string;
  peer_ip: string;
  remote_address: string;
  /** up: both directions proven; half: one; down: neither. */
  state: HealthState;
  /** As ConnectionRow.auth; for a lost tunnel, what its route asks for. */
  auth: AuthMode;
  tx_proven: boolean;
  rx_proven: boolean;
  /** Smoothed round-trip time; null before the first measurement. */
  rtt_ms: number | null;
  /** Fraction 0..1 of recent probes lost. */
  loss: number;
  /** The path MTU the connection sends to (its largest underlay datagram plus 28, as an IPv4
   *  MTU); null without a connection. */
  pmtu: number | null;
  /** Seconds since anything was heard from the peer; null when never. */
  last_heard_s: number | null;
  /** The connection's exits when its route has several (formatExits); null otherwise. */
  exits: string | null;
  /** msnl(7) reason name of the last call to the peer's host, when it failed; null otherwise. */
  reason: string | null;
  /** Seconds since that call failed; null when no call failed. */
  failed_s: number | null;
}

/** What `monitor=1` streams, one item per change (msnld(8) CONTROL PROTOCOL). */
export const EVENT_KINDS = ['up', 'down', 'health', 'call_failed', 'call_refused', 'connect_refused', 'reconcile', 'mapping', 'bound', 'unbound'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventRow {
  event: EventKind;
  interface: string | null;
  connection: number | null;
  peer_ip: string | null;
  remote_address: string | null;
  /** health: the tunnel's new state (up, half or down). */
  state: string | null;
  /** Why, in words: the reason name of a down, failed or refused call. */
  reason: string | null;
  /** mapping: the IP prefix that was set (state set, remote_address its MSNL address) or deleted. */
  prefix: string | null;
  /** Milliseconds since the epoch; the last key of every event. */
  time_ms: number;
}

export interface PingReplyRow {
  seq: number;
  /** null when the request timed out. */
  rtt_ms: number | null;
  /** Echo payload size; the last key of each reply on the wire. */
  bytes: number;
}

type FieldType = 'uint' | 'real' | 'string' | 'bool' | readonly string[];

interface FieldSpec {
  readonly key: string;
  readonly type: FieldType;
  readonly nullable?: boolean;
}

export interface RowSchema {
  /** The first field is the context key that opens each item. */
  readonly fields: readonly FieldSpec[];
}

const REAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

function field(key: string, type: FieldType, nullable = false): FieldSpec {
  return { key, type, nullable };
}

const COUNTERS = [field('rx_packets', 'uint'), field('rx_bytes', 'uint'), field('tx_packets', 'uint'), field('tx_bytes', 'uint')];

export const STATUS_SCHEMA: RowSchema = {
  fields: [field('pid', 'uint'), field('version', 'string'), field('uptime_s', 'uint'), field('msnl_address', 'string', true), field('listen', 'string', true),
    field('db', 'string', true), field('socket', 'string', true), field('overrides', 'string', true), field('fleet', 'string', true)],
};
const COUNTER_SCHEMA: RowSchema = { fields: [field('counter', 'string'), field('value', 'uint')] };

export const INTERFACE_SCHEMA: RowSchema = {
  fields: [
    field('interface', 'string'), field('mtu', 'uint'), field('port', 'uint'), field('address', 'string', true),
    field('admin_up', 'bool'), field('oper_up', 'bool'), field('bound', 'bool'), field('connections', 'uint'),
    ...COUNTERS, field('drops', 'uint'),
  ],
};

export const CONNECTION_SCHEMA: RowSchema = {
  fields: [
    field('connection', 'uint'), field('interface', 'string'), field('peer_ip', 'string'), field('local_sap', 'string'),
    field('remote_sap', 'string'), field('state', 'string'), field('auth', ['key', 'none']), field('age_s', 'uint'), ...COUNTERS,
    field('initiator', ['local', 'remote']), field('pmtu', 'uint', true), field('reason', 'string', true),
  ],
};

export const HEALTH_SCHEMA: RowSchema = {
  fields: [
    field('connection', 'uint'), field('interface', 'string'), field('peer_ip', 'string'), field('remote_address', 'string'),
    field('state', ['up', 'half', 'down']), field('auth', ['key', 'none']), field('tx_proven', 'bool'), field('rx_proven', 'bool'), field('rtt_ms', 'real', true),
    field('loss', 'real'), field('pmtu', 'uint', true), field('last_heard_s', 'real', true), field('reason', 'string', true), field('failed_s', 'real', true),
    field('exits', 'string', true),
  ],
};

// `time_ms` comes last so that a streaming reader knows each event is complete at its time_ms line.
export const EVENT_SCHEMA: RowSchema = {
  fields: [
    field('event', [...EVENT_KINDS]), field('interface', 'string', true), field('connection', 'uint', true), field('peer_ip', 'string', true),
    field('remote_address', 'string', true), field('state', 'string', true), field('reason', 'string', true), field('prefix', 'string', true), field('time_ms', 'uint'),
  ],
};

// `bytes` comes last so that a streaming reader knows each ping reply is complete at its bytes line.
export const PING_REPLY_SCHEMA: RowSchema = { fields: [field('seq', 'uint'), field('rtt_ms', 'real', true), field('bytes', 'uint')] };

function encodeValue(spec: FieldSpec, value: unknown): string {
  if (spec.type === 'bool') return value ? 'true' : 'false';
  if (spec.type === 'uint') return String(Math.max(0, Math.trunc(Number(value))));
  if (spec.type === 'real') {
    const n = Number(value);
    return String(Number.isFinite(n) && n > 0 ? n : 0);
  }
  return String(value);
}

/** Renders one row as pairs, context key first; null fields are left out. */
export function encodeRow(schema: RowSchema, row: object): Pair[] {
  const record = row as Record<string, unknown>;
  const pairs: Pair[] = [];
  for (const spec of schema.fields) {
    const value = record[spec.key];
    if (value === null || value === undefined) continue;
    pairs.push([spec.key, encodeValue(spec, value)]);
  }
  return pairs;
}

/**
 * Renders one row as the `key=value` lines encodePairs(encodeRow(schema, row)) gives, without the
 * pairs in between (a long list reply renders hundreds of thousands of rows).
 */
export function encodeRowText(schema: RowSchema, row: object): string {
  const record = row as Record<string, unknown>;
  let text = '';
  for (const spec of schema.fields) {
    const value = record[spec.key];
    if (value === null || value === undefined) continue;
    const encoded = encodeValue(spec, value);
    // Only text fields can hold a control character; they would break the framing.
    text += `${spec.key}=${typeof spec.type === 'string' && spec.type !== 'string' ? encoded : encoded.replace(CONTROL_CHARS, '?')}\n`;
  }
  return text;
}

const CONTROL_CHARS = /[\x00-\x1f\x7f]/g;

export function encodeRows(schema: RowSchema, rows: readonly object[]): Pair[] {
  return rows.flatMap((row) => encodeRow(schema, row));
}

function decodeValue(spec: FieldSpec, text: string): unknown {
  const type = spec.type;
  if (type === 'uint') return parseUint(text);
  if (type === 'real') return REAL.test(text) && Number.isFinite(Number(text)) ? Number(text) : undefined;
  if (type === 'bool') return text === 'true' ? true : text === 'false' ? false : undefined;
  if (type === 'string') return text === '' ? undefined : text;
  return type.includes(text) ? text : undefined;
}

/** Each schema's field positions by key, made once: a long list reply decodes hundreds of thousands of pairs. */
const POSITIONS = new WeakMap<RowSchema, ReadonlyMap<string, number>>();

function positionsOf(schema: RowSchema): ReadonlyMap<string, number> {
  let positions = POSITIONS.get(schema);
  if (positions === undefined) {
    positions = new Map(schema.fields.map((spec, i) => [spec.key, i]));
    POSITIONS.set(schema, positions);
  }
  return positions;
}

/**
 * Decodes one item's pairs into a row; every key must belong to the schema, once. The row's keys
 * are in the schema's order whatever the order on the wire (every row of a list has one shape).
 */
export function decodeRow<T>(schema: RowSchema, pairs: readonly Pair[]): T | ProtocolError {
  const positions = positionsOf(schema);
  const fields = schema.fields;
  const values: unknown[] = new Array<unknown>(fields.length).fill(undefined);
  for (const [key, text] of pairs) {
    const at = positions.get(key);
    if (at === undefined) return new ProtocolError(Errno.EINVAL, `unknown key "${key}"`);
    if (values[at] !== undefined) return new ProtocolError(Errno.EINVAL, `key "${key}" is repeated`);
    const spec = fields[at]!;
    const value = decodeValue(spec, text);
    if (value === undefined) return new ProtocolError(Errno.EINVAL, `value "${printable(text)}" of "${key}" is wrong`);
    values[at] = value;
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const spec = fields[i]!;
    const value = values[i];
    if (value === undefined && !spec.nullable) return new ProtocolError(Errno.EINVAL, `key "${spec.key}" is missing`);
    row[spec.key] = value ?? null;
  }
  return row as T;
}

/** Splits pairs into items, each starting at the context key; anything before the first is an error. */
function splitItems(contextKey: string, pairs: readonly Pair[]): Pair[][] | ProtocolError {
  const items: Pair[][] = [];
  for (const pair of pairs) {
    if (pair[0] === contextKey) items.push([pair]);
    else if (items.length === 0) return new ProtocolError(Errno.EINVAL, `key "${pair[0]}" comes before any "${contextKey}"`);
    else items[items.length - 1]!.push(pair);
  }
  return items;
}

/** Decodes a list of rows whose context key is the schema's first field. */
export function decodeRows<T>(schema: RowSchema, pairs: readonly Pair[]): T[] | ProtocolError {
  const items = splitItems(schema.fields[0]!.key, pairs);
  if (items instanceof ProtocolError) return items;
  const rows: T[] = [];
  for (const item of items) {
    const row = decodeRow<T>(schema, item);
    if (row instanceof ProtocolError) return row;
    rows.push(row);
  }
  return rows;
}

export function encodeStatus(status: StatusRow): Pair[] {
  const counters = Object.entries(status.counters).map(([name, value]) => ({ counter: name, value }));
  return [...encodeRow(STATUS_SCHEMA, status), ...encodeRows(COUNTER_SCHEMA, counters)];
}

export function decodeStatus(pairs: readonly Pair[]): StatusRow | ProtocolError {
  const firstCounter = pairs.findIndex(([key]) => key === 'counter');
  const head = firstCounter < 0 ? pairs : pairs.slice(0, firstCounter);
  const status = decodeRow<Omit<StatusRow, 'counters'>>(STATUS_SCHEMA, head);
  if (status instanceof ProtocolError) return status;
  const counters = decodeRows<{ counter: string; value: number }>(COUNTER_SCHEMA, firstCounter < 0 ? [] : pairs.slice(firstCounter));
  if (counters instanceof ProtocolError) return counters;
  const map: Record<string, number> = {};
  for (const { counter, value } of counters) {
    if (counter in map) return new ProtocolError(Errno.EINVAL, `counter "${printable(counter)}" is repeated`);
    map[counter] = value;
  }
  // overrides is left out when msnld reports none (and by an older msnld), as before it existed.
  const { overrides, fleet, ...rest } = status;
  return { ...rest, ...(overrides === null || overrides === undefined ? {} : { overrides }), ...(fleet === null || fleet === undefined ? {} : { fleet }), counters: map };
}

/** Formats a SAP as `MSNLADDR:0xPORT` (at least four hex digits). */
export function formatSap(addressText: string, port: number): string {
  return `${addressText}:0x${(port >>> 0).toString(16).padStart(4, '0')}`;
}

/** One exit of a connection as msnl health and route show print it (msnl(7) Exits). */
export interface ExitRow {
  /** The peer's underlay `HOST:PORT` for this exit. */
  endpoint: string;
  priority: number;
  /** active: in use; standby: answers its probes; down: does not; unknown: not probed yet. */
  state: 'active' | 'standby' | 'down' | 'unknown';
  rtt_ms: number | null;
  loss: number;
  pmtu: number;
}

const EXIT_STATES: ReadonlySet<string> = new Set(['active', 'standby', 'down', 'unknown']);

/** The exits in one field value: `ENDPOINT/PRIORITY/STATE/RTT_MS/LOSS/PMTU` items, space-separated (RTT `-` when none). */
export function formatExits(exits: readonly ExitRow[]): string {
  return exits.map((e) => `${e.endpoint}/${e.priority}/${e.state}/${e.rtt_ms === null ? '-' : e.rtt_ms}/${e.loss}/${e.pmtu}`).join(' ');
}

/** Reads formatExits' text back; a ProtocolError for anything else. */
export function parseExits(text: string): ExitRow[] | ProtocolError {
  const rows: ExitRow[] = [];
  for (const item of text.split(' ')) {
    const parts = item.split('/');
    const [endpoint, priority, state, rtt, loss, pmtu] = parts;
    const number = (t: string | undefined): number => (t !== undefined && REAL.test(t) ? Number(t) : NaN);
    if (parts.length !== 6 || endpoint === undefined || endpoint === '' || state === undefined || !EXIT_STATES.has(state) ||
      !Number.isInteger(number(priority)) || (rtt !== '-' && Number.isNaN(number(rtt))) || Number.isNaN(number(loss)) || !Number.isInteger(number(pmtu))) {
      return new ProtocolError(Errno.EINVAL, `exit "${printable(item)}" is wrong`);
    }
    rows.push({ endpoint, priority: number(priority), state: state as ExitRow['state'], rtt_ms: rtt === '-' ? null : number(rtt), loss: number(loss), pmtu: number(pmtu) });
  }
  return rows;
}
