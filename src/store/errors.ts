// The one error type the store throws. `kind` lets the CLI pick its exit status and the daemon
// decide whether to retry; `message` is already user-facing (`mapping 10.0.0.0/8 already exists`).

export type StoreErrorKind =
  | 'exists' // the row is already there (UNIQUE / PRIMARY KEY)
  | 'not-found' // nothing to delete or show
  | 'invalid' // a CHECK constraint refused the row
  | 'busy' // another connection holds the write lock past the busy timeout
  | 'corrupt' // not an SQLite database, or a damaged one
  | 'schema' // schema version newer than this code, or migrations missing
  | 'io'; // anything else SQLite or the file system reported

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

interface SqliteLikeError {
  readonly code?: unknown;
  readonly message?: unknown;
}

function codeOf(error: unknown): string {
  const code = (error as SqliteLikeError | null)?.code;
  return typeof code === 'string' ? code : '';
}

function causeOf(error: unknown): string {
  const message = (error as SqliteLikeError | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * Turns an SQLite (or fs) error into a StoreError. `what` names the operation in the
 * `failed to <verb> <thing>` style; `path` is the database file.
 */
export function translateError(error: unknown, path: string, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = codeOf(error);
  const cause = causeOf(error);
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_LOCKED_')) {
    return new StoreError('busy', `failed to ${what}: database ${path} is locked by another process (${cause}); try again`);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) {
    return new StoreError('corrupt', `failed to ${what}: ${path} is not a usable msnl database (${cause}); it was left untouched`);
  }
  if (code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_NOTNULL') {
    return new StoreError('invalid', `failed to ${what}: the database refused the row (${cause})`);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'ENOENT' || code === 'EACCES') {
    return new StoreError('io', `failed to ${what}: cannot open database ${path} (${cause})`);
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
    return new StoreError('io', `failed to ${what}: database ${path} is read-only (${cause})`);
  }
  return new StoreError('io', `failed to ${what}: ${cause}`);
}

/** True for a UNIQUE or PRIMARY KEY violation. */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
