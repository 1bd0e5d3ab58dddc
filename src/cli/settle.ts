// After an edit of the database: when msnld answers on the control socket, ask it to apply the
// edit now (sync=1) and wait, so that a `msnl map add` is in effect when msnl returns, as an
// `ip route add` is. When that msnld reads another database, say so: the edit cannot reach it.
// Quiet when no msnld runs; editing the database of a stopped daemon is normal.
import fs from 'node:fs';
import path from 'node:path';
import { ControlClient, ControlClientError } from '../control/client.js';
import { socketPathProblem } from '../control/socket-file.js';

/** How long msnl waits for msnld to apply an edit before it says the daemon did not confirm it. */
export const SETTLE_TIMEOUT_MS = 10_000;

function canonical(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Returns the warning to print, or undefined when the edit is applied or no daemon runs. */
export async function settleEdit(db: string, socket: string): Promise<string | undefined> {
  if (socketPathProblem(socket) !== undefined) return undefined;
  const client = new ControlClient(socket, { timeoutMs: SETTLE_TIMEOUT_MS });
  try {
    const status = await client.status();
    if (status.db !== null && canonical(status.db) !== canonical(db)) {
      return `Warning: msnld (pid ${status.pid}) reads ${status.db}, not ${db}: this change does not reach it (give --db ${status.db}, or -n NETNS for a namespace's instance)\n`;
    }
    await client.sync();
    return undefined;
  } catch (error) {
    if (error instanceof ControlClientError && (error.kind === 'not-running' || error.kind === 'permission')) return undefined;
    return `Warning: the change is stored, but msnld did not confirm it applied it: ${error instanceof Error ? error.message : String(error)}\n`;
  }
}
