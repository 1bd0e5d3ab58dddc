// File-system checks shared by the store and the control socket: making a directory chain
// without Node's recursive mkdir (which spins forever under /proc, where mkdir says ENOENT
// although the parent exists), and refusing paths that are not regular files before anything
// opens them (a FIFO would block the open; a device or /proc file is never a database).
import fs from 'node:fs';
import path from 'node:path';

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Creates `dir` and its missing parents, each with `mode`, one mkdir per missing component:
 * a failure is reported at once. Throws `cannot create directory DIR: CAUSE`.
 */
export function makeDirectories(dir: string, mode: number): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(at);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw new Error(`cannot create directory ${dir}: ${(error as Error).message}`);
      missing.push(at);
      const up = path.dirname(at);
      if (up === at) throw new Error(`cannot create directory ${dir}: no existing parent`);
      at = up;
      continue;
    }
    if (!stat.isDirectory()) throw new Error(`cannot create directory ${dir}: ${at} is not a directory`);
    break;
  }
  for (const component of missing.reverse()) {
    try {
      fs.mkdirSync(component, { mode });
    } catch (error) {
      if (codeOf(error) === 'EEXIST' && fs.statSync(component).isDirectory()) continue; // made meanwhile
      throw new Error(`cannot create directory ${component}: ${(error as Error).message}`);
    }
  }
}

/** What sits at `file`: 'absent', 'regular', or a word for anything else (for error messages). */
export function fileKind(file: string): 'absent' | 'regular' | 'a directory' | 'a FIFO' | 'a device' | 'a socket' | 'not a regular file' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return 'absent';
    throw error;
  }
  if (stat.isFile()) return 'regular';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** `/proc` or `/sys` when `file` lies under one of those kernel file systems, else undefined. */
export function kernelFileSystemOf(file: string): string | undefined {
  const abs = path.resolve(file);
  return ['/proc', '/sys'].find((top) => abs === top || abs.startsWith(`${top}/`));
}
