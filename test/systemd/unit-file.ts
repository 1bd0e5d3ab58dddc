// Helpers for the systemd unit tests: a minimal unit-file parser and `systemd-analyze verify`.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const UNIT = path.resolve(__dirname, '..', '..', '..', 'systemd', 'msnld.service');

/** The unit's sections as key -> values (a key may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!pair || current === undefined) throw new Error(`line ${index + 1} of the unit is not KEY=VALUE in a section: ${raw}`);
    current.set(pair[1]!, [...(current.get(pair[1]!) ?? []), pair[2]!]);
  }
  return sections;
}

/** Runs `systemd-analyze verify` on a unit file; fails loudly when systemd-analyze is absent. */
export function verifyUnit(file: string, env: NodeJS.ProcessEnv = process.env, man = false): { code: number | null; output: string } {
  const result = spawnSync('systemd-analyze', ['verify', ...(man ? [] : ['--man=no']), file], { encoding: 'utf8', env, timeout: 60_000 });
  if (result.error !== undefined) throw new Error(`systemd-analyze is needed for this test (apt-get install systemd; .ci/run does): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

