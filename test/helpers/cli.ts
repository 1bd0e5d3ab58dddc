// Runs the compiled msnl CLI as a child process against a temporary database file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Sandbox {
  readonly dir: string;
  readonly db: string;
  /** Runs `msnl --db <db> ARGS` with no daemon reachable. */
  run(args: readonly string[], input?: string): CliResult;
}

export function sandbox(t: { after: (fn: () => void) => void }): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'state', 'msnl.db');
  return {
    dir,
    db,
    run(args, input) {
      const env = { ...process.env, MSNL_DB: db, MSNL_SOCKET: path.join(dir, 'no-daemon.sock') };
      const result = spawnSync(process.execPath, [CLI, ...args], { env, input: input ?? '', encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

/** The database file and its WAL/SHM companions, for byte-identity checks. */
export function dbFiles(db: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const file = db + suffix;
    if (fs.existsSync(file)) files[suffix || 'db'] = fs.readFileSync(file).toString('base64');
  }
  return files;
}
