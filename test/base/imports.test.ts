// The folder import graph ARCHITECTURE.md draws: each folder of src/ imports only the folders its
// row allows, so nothing imports src/daemon and the pure core reaches no I/O folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// dist/test/base -> the repository's src/
const SRC = path.join(__dirname, '..', '..', '..', 'src');

const ALLOWED: Record<string, readonly string[]> = {
  abi: [],
  base: [],
  msnl: ['abi', 'base', 'crypto'],
  crypto: ['abi', 'base'],
  manager: ['abi', 'base', 'msnl'],
  tunnel: ['abi', 'base'],
  tun: ['abi', 'base'],
  msdl: ['abi', 'base', 'tun'],
  store: ['abi', 'base', 'crypto'],
  control: ['abi', 'base'],
  fleet: ['abi', 'base', 'crypto', 'store'],
  cli: ['abi', 'base', 'control', 'store', 'crypto', 'fleet'],
  demo: ['abi', 'base', 'control'],
  daemon: ['abi', 'base', 'crypto', 'control', 'fleet', 'manager', 'msdl', 'msnl', 'store', 'tun', 'tunnel'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

test('every folder of src/ imports only what ARCHITECTURE.md allows it', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const wrong: string[] = [];
  for (const folder of folders) {
    const allowed = ALLOWED[folder];
    if (allowed === undefined) {
      wrong.push(`src/${folder} has no row in ARCHITECTURE.md's code map (and in this test)`);
      continue;
    }
    for (const file of sources(path.join(SRC, folder))) {
      // Static imports, and the modules a file loads on first use (src/cli/lazy.ts) or types it names.
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from |require\(|import\()'((?:\.\.\/)+)([a-z]+)\//g)) {
        const target = m[2]!;
        if (m[1] !== '../' || target === folder) continue; // deeper relative paths stay inside the folder
        if (!allowed.includes(target)) wrong.push(`${path.relative(SRC, file)} imports src/${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
