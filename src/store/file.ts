// The database file itself, before SQLite sees it: only a regular file (a FIFO would block the
// open, a device or a /proc file never holds a database), never an empty one (a 0-byte file is a
// lost database, not a new one), created 0600 with its directory, and not readable by others.
// SQLite gives the -wal and -shm files the mode of the database file.
import fs from 'node:fs';
import path from 'node:path';
import { fileKind, kernelFileSystemOf, makeDirectories } from '../base/files.js';
import { StoreError } from './errors.js';

/** Mode of a database file msnl creates. */
export const DATABASE_MODE = 0o600;

/** The files SQLite keeps beside a database in WAL mode. */
export function companionFiles(dbPath: string): string[] {
  return [`${dbPath}-wal`, `${dbPath}-shm`];
}

/**
 * Checks `dbPath` and, for writing, creates it (0600, directories 0755) when absent. Returns true
 * when this call created the file, so that a failed open can remove it again.
 */
export function prepareDatabaseFile(dbPath: string, readonly: boolean): boolean {
  const kernel = kernelFileSystemOf(dbPath);
  if (kernel !== undefined) throw new StoreError('io', `database ${dbPath} is under ${kernel}, which cannot hold a database`);
  let kind: ReturnType<typeof fileKind>;
  try {
    kind = fileKind(dbPath);
  } catch (error) {
    throw new StoreError('io', `cannot open database ${dbPath} (${(error as Error).message})`);
  }
  if (kind === 'absent') return readonly ? false : create(dbPath);
  if (kind !== 'regular') throw new StoreError('io', `database ${dbPath} is ${kind}, not a regular file`);
  if (fs.statSync(dbPath).size === 0) {
    throw new StoreError('corrupt', `database ${dbPath} is an empty file, not an msnl database; restore it from a backup, or remove it to start with a new one`);
  }
  if (!readonly) closeToOthers(dbPath);
  return false;
}

function create(dbPath: string): boolean {
  try {
    makeDirectories(path.dirname(path.resolve(dbPath)), 0o755);
  } catch (error) {
    throw new StoreError('io', `cannot create database ${dbPath}: ${(error as Error).message}`);
  }
  try {
    fs.closeSync(fs.openSync(dbPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, DATABASE_MODE));
    fs.chmodSync(dbPath, DATABASE_MODE); // whatever the umask
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false; // another process made it meanwhile
    throw new StoreError('io', `cannot create database ${dbPath} (${(error as Error).message})`);
  }
}

/** Removes access for others from an existing database and its companions (ours only). */
function closeToOthers(dbPath: string): void {
  for (const file of [dbPath, ...companionFiles(dbPath)]) {
    try {
      const stat = fs.statSync(file);
      if ((stat.mode & 0o007) !== 0 && stat.uid === process.getuid?.()) fs.chmodSync(file, stat.mode & 0o7770);
    } catch {
      // absent, or not ours to change: SQLite reports what matters
    }
  }
}

/** Removes a database this process just created and failed to open. */
export function removeCreated(dbPath: string): void {
  for (const file of [dbPath, ...companionFiles(dbPath)]) fs.rmSync(file, { force: true });
}

/**
 * Sets the database and its companions to mode 0600 (an absent one is skipped), whoever made
 * them: before and after the host key is written, so the key is never readable by other users.
 */
export function restrictFileModes(dbPath: string): void {
  if (dbPath === ':memory:') return;
  for (const file of [dbPath, ...companionFiles(dbPath)]) {
    try {
      fs.chmodSync(file, DATABASE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError('io', `failed to make ${file} private (mode 0600): ${(error as Error).message}`);
    }
  }
}
