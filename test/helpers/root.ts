// Guard for root-only suites (TUN devices, network namespaces). Such a suite must run in CI, so
// without root it FAILS, loudly. An operator may opt out on a non-root machine with
// MSNL_SKIP_ROOT_TESTS=1, which makes the suites show up as skipped (never as passed).
import type { TestContext } from 'node:test';

export function rootUnavailableReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return undefined;
  return 'this suite needs root (TUN devices and network namespaces)';
}

/** Call first in a root-only test: skips when explicitly allowed, otherwise throws to fail the test. */
export function requireRoot(t: TestContext): boolean {
  const reason = rootUnavailableReason();
  if (reason === undefined) return true;
  if (process.env.MSNL_SKIP_ROOT_TESTS === '1') {
    t.skip(`${reason}; skipped because MSNL_SKIP_ROOT_TESTS=1`);
    return false;
  }
  throw new Error(`${reason}: run as root, or set MSNL_SKIP_ROOT_TESTS=1 to skip it visibly`);
}
