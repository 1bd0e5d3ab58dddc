// The SQLite store of the desired state: the only module that imports better-sqlite3.
// Every write is one IMMEDIATE transaction, so a failed write changes nothing.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { StatementCache } from './statements.js';
import { formatIpv4Prefix, prefixMask, type Ipv4Prefix } from '../abi/inet.js';
import { StoreError, isUniqueViolation, translateError } from './errors.js';
import { MAPPING_COLUMNS, NOT_EXPIRED, checkInterfaceName, toInterface, toMapping, type InterfaceRow, type MappingRow } from './table-rows.js';
import { deleteRoute, insertRoute, selectRoute, selectRoutes } from './route-rows.js';
import { prepareDatabaseFile, removeCreated, restrictFileModes } from './file.js';
import { defaultSchemaDir, loadMigrations, migrate } from './migrate.js';
import { MappingLog, bulkWrite } from './mapping-log.js';
import { publicKeyOf } from '../crypto/primitives.js';
import { FleetStore } from './fleet-store.js';
import type { DesiredSettings, DesiredState, HostSettings, InterfaceConfig, Mapping, MappingOrigin, NewMapping, Route } from './types.js';

/** Where the database lives unless --db or MSNL_DB says otherwise. */
export const DEFAULT_DB_PATH = '/var/lib/msnl/msnl.db';

export interface StoreOptions {
  /** Open without writing; pending migrations are then an error. */
  readonly readonly?: boolean;
  /** Milliseconds to wait for another process's write lock (default 5000). */
  readonly busyTimeoutMs?: number;
  /** Clock for created/expiry times, Unix milliseconds (default Date.now). */
  readonly clock?: () => number;
  /** Where the NNN_*.sql migrations live (default: the package's schema/). */
  readonly schemaDir?: string;
}

/** Imports of more rows than this log one "re-read everything" entry instead of one per row. */
export const BULK_IMPORT_ROWS = 1000;

export interface ImportOptions {
  /** Called every `every` rows with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly every?: number;
}

export class Store {
  private writes = 0;
  private readonly dataVersion: BetterSqlite3.Statement;
  /** The mapping change log and the paged reads msnld reconciles from. */
  readonly mappingLog: MappingLog;

  /** Use openStore(). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly path: string,
    readonly readonly: boolean,
    private readonly clock: () => number,
  ) {
    this.statements = new StatementCache(db);
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.mappingLog = new MappingLog(db, clock, (what, body) => this.read(what, body));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Changes whenever the stored state may have changed: commits by other connections move
   * `PRAGMA data_version`, commits by this one move the writes counter. Cheap to poll.
   */
  changeToken(): string {
    return this.read('read the change token', () => `${this.dataVersion.get() as number}.${this.writes}`);
  }

  // ---- host --------------------------------------------------------------------------------

  getHost(): HostSettings {
    return this.read('read host settings', () => {
      const row = this.db.prepare('SELECT msnl_address, listen_host, listen_port, private_key FROM host WHERE id = 1').get() as
        | { msnl_address: number; listen_host: string; listen_port: number; private_key: Uint8Array | null }
        | undefined;
      if (row === undefined) throw new StoreError('corrupt', `database ${this.path} has no host settings row`);
      const publicKey = row.private_key === null ? null : publicKeyOf(row.private_key);
      return Object.freeze({ msnlAddress: row.msnl_address, listenHost: row.listen_host, listenPort: row.listen_port, publicKey });
    });
  }

  /** This host's private key, or null. Only the daemon asks (through snapshot()). */
  getPrivateKey(): Uint8Array | null {
    return this.read('read the host key', () => {
      const row = this.db.prepare('SELECT private_key FROM host WHERE id = 1').get() as { private_key: Uint8Array | null } | undefined;
      return row?.private_key == null ? null : new Uint8Array(row.private_key);
    });
  }

  /**
   * Stores (or with null, removes) this host's private key. The database files are set to mode
   * 0600 before and after (openStore already makes them so; this holds even for a file another
   * tool made), so the key is never readable by other users.
   */
  setPrivateKey(key: Uint8Array | null): void {
    if (key !== null && key.length !== 32) throw new StoreError('invalid', 'a private key is 32 octets');
    restrictFileModes(this.path);
    this.write(key === null ? 'remove the host key' : 'store the host key', () => {
      this.db.prepare('UPDATE host SET private_key = ? WHERE id = 1').run(key === null ? null : Buffer.from(key));
    });
    restrictFileModes(this.path); // the -wal file may have been created by this write
  }

  /** Changes any of the host settings in one transaction. */
  updateHost(changes: Partial<HostSettings>): void {
    this.write('set host settings', () => {
      this.db
        .prepare('UPDATE host SET msnl_address = coalesce(?, msnl_address), listen_host = coalesce(?, listen_host), listen_port = coalesce(?, listen_port) WHERE id = 1')
        .run(changes.msnlAddress ?? null, changes.listenHost ?? null, changes.listenPort ?? null);
    });
  }

  // ---- interfaces --------------------------------------------------------------------------

  listInterfaces(): InterfaceConfig[] {
    return this.read('list interfaces', () =>
      (this.db.prepare('SELECT name, address, prefix_length, admin_up FROM interfaces ORDER BY name').all() as InterfaceRow[]).map(toInterface),
    );
  }

  getInterface(name: string): InterfaceConfig {
    checkInterfaceName(name);
    return this.read(`read interface ${name}`, () => {
      const row = this.db.prepare('SELECT name, address, prefix_length, admin_up FROM interfaces WHERE name = ?').get(name) as InterfaceRow | undefined;
      if (row === undefined) throw new StoreError('corrupt', `database ${this.path} has no row for interface ${name}`);
      return toInterface(row);
    });
  }

  /** Sets the address (and, when given, the admin state) of an interface. */
  setInterfaceAddress(name: string, address: Ipv4Prefix, adminUp?: boolean): void {
    checkInterfaceName(name);
    this.write(`set the address of ${name}`, () => {
      this.db
        .prepare('UPDATE interfaces SET address = ?, prefix_length = ?, admin_up = coalesce(?, admin_up) WHERE name = ?')
        .run(address.address, address.length, adminUp === undefined ? null : Number(adminUp), name);
    });
  }

  setInterfaceAdmin(name: string, adminUp: boolean): void {
    checkInterfaceName(name);
    this.write(`set ${name} ${adminUp ? 'up' : 'down'}`, () => {
      this.db.prepare('UPDATE interfaces SET admin_up = ? WHERE name = ?').run(Number(adminUp), name);
    });
  }

  deleteInterfaceAddress(name: string): void {
    checkInterfaceName(name);
    this.write(`delete the address of ${name}`, () => {
      this.db.prepare('UPDATE interfaces SET address = NULL, prefix_length = NULL WHERE name = ?').run(name);
    });
  }

  // ---- mappings ----------------------------------------------------------------------------

  addMapping(mapping: NewMapping): Mapping {
    return this.write(`add mapping ${formatIpv4Prefix(mapping.prefix)}`, () => this.insertMapping(mapping, this.clock(), 'cli'));
  }

  /**
   * Adds all rows in one transaction: any bad or duplicate row rejects them all, naming its
   * line. Returns the number of rows added.
   */
  importMappings(mappings: readonly NewMapping[], options: ImportOptions = {}): number {
    const every = options.every ?? 1000;
    return this.write('import mappings', () => (mappings.length > BULK_IMPORT_ROWS ? bulkWrite(this.db, () => this.importRows(mappings, options, every)) : this.importRows(mappings, options, every)));
  }

  private importRows(mappings: readonly NewMapping[], options: ImportOptions, every: number): number {
    const now = this.clock();
    this.db.prepare(`DELETE FROM mappings WHERE NOT ${NOT_EXPIRED}`).run({ now });
    mappings.forEach((mapping, index) => {
      try {
        this.insertMapping(mapping, now, 'import', false);
      } catch (error) {
        const where = mapping.line === undefined ? `row ${index + 1}` : `line ${mapping.line}`;
        const inner = translateError(error, this.path, `import mapping ${formatIpv4Prefix(mapping.prefix)}`);
        throw new StoreError(inner.kind, `${where}: ${inner.message}`);
      }
      if (options.onProgress && (index + 1) % every === 0) options.onProgress(index + 1, mappings.length);
    });
    options.onProgress?.(mappings.length, mappings.length);
    return mappings.length;
  }

  private insertMapping(mapping: NewMapping, now: number, defaultOrigin: MappingOrigin, dropExpired = true): Mapping {
    const { address, length } = mapping.prefix;
    // An expired entry does not block a new one for the same prefix (import drops them all first).
    if (dropExpired) this.statement(`DELETE FROM mappings WHERE network = @network AND length = @length AND NOT ${NOT_EXPIRED}`).run({ network: address, length, now });
    // A local entry wins over one learned from the fleet (src/store/fleet-store.ts).
    if ((mapping.origin ?? defaultOrigin) !== 'cluster') this.statement("DELETE FROM mappings WHERE network = @network AND length = @length AND origin = 'cluster'").run({ network: address, length });
    const row: MappingRow = {
      network: address,
      length,
      msnl_address: mapping.msnlAddress,
      comment: mapping.comment ?? '',
      origin: mapping.origin ?? defaultOrigin,
      created_at: now,
      expires_at: mapping.lifetimeSeconds === undefined ? null : now + Math.round(mapping.lifetimeSeconds * 1000),
    };
    try {
      this.statement(`INSERT INTO mappings (${MAPPING_COLUMNS}) VALUES (@network, @length, @msnl_address, @comment, @origin, @created_at, @expires_at)`).run(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreError('exists', `mapping ${formatIpv4Prefix(mapping.prefix)} already exists`);
      throw error;
    }
    return toMapping(row);
  }

  delMapping(prefix: Ipv4Prefix): void {
    const text = formatIpv4Prefix(prefix);
    this.write(`delete mapping ${text}`, () => {
      const result = this.db.prepare('DELETE FROM mappings WHERE network = ? AND length = ?').run(prefix.address, prefix.length);
      if (result.changes === 0) throw new StoreError('not-found', `mapping ${text} does not exist`);
    });
  }

  /** Live mappings ordered by prefix; expired ones only when asked. */
  listMappings(options: { includeExpired?: boolean } = {}): Mapping[] {
    const where = options.includeExpired ? '' : `WHERE ${NOT_EXPIRED}`;
    return this.read('list mappings', () =>
      (this.statement(`SELECT ${MAPPING_COLUMNS} FROM mappings ${where} ORDER BY network, length`).all({ now: this.clock() }) as MappingRow[]).map(toMapping),
    );
  }

  /** The live mapping for exactly this prefix, or undefined. */
  getMapping(prefix: Ipv4Prefix): Mapping | undefined {
    return this.read('read a mapping', () => {
      const row = this.statement(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE network = @network AND length = @length AND ${NOT_EXPIRED}`).get({
        network: prefix.address,
        length: prefix.length,
        now: this.clock(),
      }) as MappingRow | undefined;
      return row === undefined ? undefined : toMapping(row);
    });
  }

  /** The live mapping an address resolves to (longest prefix), or undefined. */
  lookupMapping(address: number): Mapping | undefined {
    return this.read('look up a mapping', () => {
      // One indexed probe per prefix length, longest first.
      const probe = this.statement(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE network = @network AND length = @length AND ${NOT_EXPIRED}`);
      const now = this.clock();
      for (let length = 32; length >= 0; length--) {
        const row = probe.get({ network: (address & prefixMask(length)) >>> 0, length, now }) as MappingRow | undefined;
        if (row !== undefined) return toMapping(row);
      }
      return undefined;
    });
  }

  /** The earliest expiry among live mappings (Unix ms), or undefined when none expires. */
  nextExpiry(): number | undefined {
    return this.read('read the next expiry', () => {
      const value = this.statement(`SELECT min(expires_at) FROM mappings WHERE expires_at IS NOT NULL AND ${NOT_EXPIRED}`).pluck().get({ now: this.clock() }) as number | null;
      return value ?? undefined;
    });
  }

  /** Deletes mappings expired at `now` (default: the clock); returns how many went. */
  deleteExpired(now: number = this.clock()): number {
    return this.write('delete expired mappings', () => this.db.prepare(`DELETE FROM mappings WHERE NOT ${NOT_EXPIRED}`).run({ now }).changes);
  }

  // ---- routes ------------------------------------------------------------------------------

  addRoute(route: Route): void {
    this.write(`add route ${formatIpv4Prefix(route.prefix)}`, () => insertRoute(this.db, route));
  }

  delRoute(prefix: Ipv4Prefix): void {
    this.write(`delete route ${formatIpv4Prefix(prefix)}`, () => deleteRoute(this.db, prefix));
  }

  listRoutes(): Route[] {
    return this.read('list routes', () => selectRoutes(this.db));
  }

  getRoute(prefix: Ipv4Prefix): Route | undefined {
    return this.read('read a route', () => selectRoute(this.db, prefix));
  }

  // ---- whole state -------------------------------------------------------------------------

  /** The whole desired state, read in one transaction so it is consistent; deeply frozen. */
  snapshot(): DesiredState {
    return this.read('take a snapshot', () => this.db.transaction(() => Object.freeze({ ...this.readSettings(), mappings: Object.freeze(this.listMappings()) }))());
  }

  /** Everything but the mappings, read in one transaction (the daemon reads mappings apart). */
  settings(): DesiredSettings {
    return this.read('read the settings', () => this.db.transaction(() => Object.freeze(this.readSettings()))());
  }

  /** Everything but the mappings, each part frozen; inside the caller's transaction. */
  private readSettings(): DesiredSettings {
    return {
      host: this.getHost(),
      interfaces: Object.freeze(this.listInterfaces()),
      routes: Object.freeze(this.listRoutes()),
      privateKey: this.getPrivateKey(),
      takenAt: this.clock(),
    };
  }

  /** Deletes every mapping (expired or not); returns how many went. */
  flushMappings(): number {
    return this.write('flush the mappings', () => bulkWrite(this.db, () => this.db.prepare('DELETE FROM mappings').run().changes));
  }

  /**
   * Runs several of the writes above as one transaction (each becomes a savepoint): all of them
   * commit, or none does (msnl apply, map replace, map import --replace).
   */
  transaction<T>(what: string, body: () => T): T {
    return this.write(what, body);
  }

  /** The fleet tables: cluster settings, applied host records, cluster rows (fleet-store.ts). */
  fleet(): FleetStore {
    return new FleetStore(this.db, (what, body) => this.write(what, body), (what, body) => this.read(what, body), this.clock);
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private readonly statements: StatementCache;

  private statement(sql: string): BetterSqlite3.Statement {
    return this.statements.get(sql);
  }

  private read<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw translateError(error, this.path, what);
    }
  }

  private write<T>(what: string, body: () => T): T {
    if (this.readonly) throw new StoreError('io', `failed to ${what}: database ${this.path} is open read-only`);
    try {
      const result = this.db.transaction(body).immediate();
      this.writes++;
      return result;
    } catch (error) {
      throw translateError(error, this.path, what);
    }
  }
}

/**
 * Opens (creating when writable) the database at `dbPath`, applies pending migrations, and sets
 * WAL mode, foreign keys and the busy timeout. Never overwrites a file that is not an msnl
 * database: SQLite refuses it and the error says so.
 */
export function openStore(dbPath: string, options: StoreOptions = {}): Store {
  const readonly = options.readonly ?? false;
  const migrations = loadMigrations(options.schemaDir ?? defaultSchemaDir());
  let db: BetterSqlite3.Database | undefined;
  const created = dbPath === ':memory:' ? false : prepareDatabaseFile(dbPath, readonly);
  try {
    db = new Database(dbPath, { readonly, fileMustExist: readonly });
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    // Reading the schema first: on a file that is not a database this fails before any write.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db, dbPath, migrations, readonly);
    return new Store(db, dbPath, readonly, options.clock ?? Date.now);
  } catch (error) {
    db?.close();
    if (created) removeCreated(dbPath);
    throw translateError(error, dbPath, 'open the database');
  }
}
