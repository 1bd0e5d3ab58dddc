// Schema migrations: schema/NNN_name.sql files applied in order, each version inside the same
// transaction as its bump of `schema_version`. A database newer than the code is refused.
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from './errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const FILE_NAME = /^([0-9]{3})_[a-z0-9_]+\.sql$/;

/** The package root: the nearest directory above this file holding package.json. */
function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new StoreError('schema', `failed to find the msnl package root above ${__dirname}`);
}

/** The schema/ directory that ships with this msnl. */
export function defaultSchemaDir(): string {
  return path.join(packageRoot(), 'schema');
}

/** Reads the migrations of a directory, checking they are numbered 1..N without gaps. */
export function loadMigrations(dir: string): Migration[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.sql')).sort();
  } catch (error) {
    throw new StoreError('schema', `failed to read migrations in ${dir}: ${(error as Error).message}`);
  }
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) throw new StoreError('schema', `failed to load migration ${name}: name must be NNN_words.sql`);
    const version = Number(match[1]);
    if (version !== migrations.length + 1) {
      throw new StoreError('schema', `failed to load migration ${name}: expected version ${migrations.length + 1}`);
    }
    migrations.push({ version, name, sql: fs.readFileSync(path.join(dir, name), 'utf8') });
  }
  if (migrations.length === 0) throw new StoreError('schema', `failed to load migrations: none in ${dir}`);
  return migrations;
}

/** The version recorded in the database; 0 for a database msnl never touched. */
export function schemaVersion(db: BetterSqlite3.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS version FROM schema_version').get() as { version: number | null };
  return row.version ?? 0;
}

function checkNotNewer(dbPath: string, version: number, known: number): void {
  if (version > known) {
    throw new StoreError('schema', `database ${dbPath} has schema version ${version}, newer than this msnl (${known}): upgrade msnl`);
  }
}

/**
 * Brings the database up to the newest migration. Reading the version is a plain read, so an
 * up-to-date database is never write-locked here. With `readonly`, pending migrations are an error.
 */
export function migrate(db: BetterSqlite3.Database, dbPath: string, migrations: readonly Migration[], readonly: boolean): number {
  const known = migrations.length;
  const current = schemaVersion(db);
  checkNotNewer(dbPath, current, known);
  if (current === known) return current;
  if (readonly) {
    throw new StoreError('schema', `database ${dbPath} has schema version ${current}, older than this msnl (${known}): run a write command to upgrade it`);
  }
  const apply = db.transaction(() => {
    const again = schemaVersion(db); // another process may have migrated meanwhile
    checkNotNewer(dbPath, again, known);
    if (again === 0) db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY) STRICT');
    for (const migration of migrations) {
      if (migration.version <= again) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
    }
  });
  apply.immediate();
  return known;
}
