// The control socket's file: where it lives, whether a path can name one, and what to do with a
// file already there (probed: if something answers, msnld refuses to start; if nothing does, the
// file is stale and replaced). Used by the server, by msnld and by the CLI (which only needs the path).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeDirectories } from '../base/files.js';

export const DEFAULT_SOCKET_PATH = '/run/msnl/msnld.sock';

/** The socket path: MSNL_SOCKET when set, else the default. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MSNL_SOCKET;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET_PATH;
}

/** The longest socket path a sockaddr_un holds (108 octets with the terminating NUL). */
export const MAX_SOCKET_PATH_OCTETS = 107;

/**
 * Makes the socket's directory and clears the way for a new socket: undefined when bind(2) may go
 * ahead (nothing there, or a stale socket removed), else why not. Checked before anything is made:
 * bind(2) would otherwise fail after creating a socket file with a truncated name, or Node would
 * report a bare ENOENT.
 */
export async function prepareSocketPath(socketPath: string, probeTimeoutMs: number, log: (line: string) => void): Promise<string | undefined> {
  const tooLong = socketPathProblem(socketPath);
  if (tooLong !== undefined) return tooLong;
  try {
    makeDirectories(path.dirname(socketPath), 0o755);
  } catch (err) {
    return (err as Error).message;
  }
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return (err as Error).message;
  }
  if (existing === undefined) return undefined;
  if (!existing.isSocket()) return 'a file that is not a socket is in the way';
  const probe = await probeSocket(socketPath, probeTimeoutMs);
  if (probe instanceof Error) return probe.message;
  if (probe === 'in-use') return 'in use by another msnld';
  if (probe === 'stale') {
    log(`removing stale control socket ${socketPath}`);
    fs.rmSync(socketPath, { force: true });
  }
  return undefined;
}

/** Removes the socket file if it is still the one with inode `inode`: a successor may already have replaced it. */
export function removeOwnSocket(socketPath: string, inode: number | undefined): void {
  try {
    if (fs.statSync(socketPath).ino === inode) fs.rmSync(socketPath, { force: true });
  } catch {
    // already gone
  }
}

/** Why `socketPath` cannot name a unix socket (too long for sockaddr_un, or empty), else undefined. */
export function socketPathProblem(socketPath: string): string | undefined {
  if (socketPath === '') return 'path is empty';
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_OCTETS) return `path is longer than ${MAX_SOCKET_PATH_OCTETS} octets`;
  return undefined;
}

/**
 * Connects to an existing socket file: `in-use` if something accepts (or hangs), `stale` if the
 * connection is refused, `absent` if the file vanished, or the error for anything else.
 */
export function probeSocket(socketPath: string, timeoutMs: number): Promise<'in-use' | 'stale' | 'absent' | Error> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('in-use'); // it accepted or hangs: someone owns it; do not steal it
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('in-use');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ENOENT' ? 'absent' : err.code === 'ECONNREFUSED' ? 'stale' : err);
    });
  });
}
