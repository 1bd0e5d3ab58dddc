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

