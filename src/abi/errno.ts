// Linux errno numbers and their names: the one errno vocabulary of msnl. Numbers are positive, as
// the kernel defines them (EPERM = 1). Negative values appear at two edges, and each converts there:
// the addon's data path returns -errno, and the control protocol's `errno=` line carries -errno as
// wireguard's UAPI does.
import { constants } from 'node:os';

// The preferred name of an aliased number is fixed here (EAGAIN, not EWOULDBLOCK; EOPNOTSUPP, not
// ENOTSUP); Linux errnos that os.constants lacks are added. Otherwise os.constants' first name wins.
const ERRNO_NAMES = new Map<number, string>([[11, 'EAGAIN'], [77, 'EBADFD'], [95, 'EOPNOTSUPP']]);
for (const [name, no] of Object.entries(constants.errno)) if (!ERRNO_NAMES.has(no)) ERRNO_NAMES.set(no, name);

/** Name of a (positive) errno number: `EPERM`, ...; `errno N` when it has no name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** What an addon failure says: its (positive) errno and name, its message and syscall, if any. */
export interface SysError {
  readonly errno: number | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly syscall: string | undefined;
}

/**
 * Reads an addon failure: a thrown Error carrying `errno` and `syscall`, or a -errno number that
 * the data path returned. Anything else yields only what it has (a message).
 */
export function sysErrorOf(cause: unknown): SysError {
  if (typeof cause === 'number') return { errno: Math.abs(cause), code: errnoName(Math.abs(cause)), message: undefined, syscall: undefined };
  const sys = (cause ?? {}) as { errno?: unknown; syscall?: unknown; message?: unknown };
  const errno = typeof sys.errno === 'number' ? Math.abs(sys.errno) : undefined;
  return {
    errno,
    code: errno === undefined ? undefined : errnoName(errno),
    message: typeof sys.message === 'string' ? sys.message : undefined,
    syscall: typeof sys.syscall === 'string' ? sys.syscall : undefined,
  };
}
