// scripts/system-deps and its list scripts/system-tools: the list covers every command the demo and
// the tests spawn, the script reads the same list, and where it cannot install it says so in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/demo/topology.js';
import { parseSystemTools, systemTools } from '../../src/demo/system-tools.js';

const SCRIPT = path.join(PACKAGE_ROOT, 'scripts', 'system-deps');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

// The literal command names in the ways the demo and the tests start processes.
const SPAWNS = [
  /\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*'([^']+)'/g, // spawnSync('ip', [...])
  /\b(?:exec|execAsync)\(\s*[\w.]+,\s*\[\s*'([^']+)'/g, // net.exec(host, ['ethtool', ...])
  /'netns', 'exec', [\w.]+, '([^']+)'/g, // ['ip', 'netns', 'exec', ns, 'tc', ...]
  /'timeout', '\d+', '([^']+)'/g, // ['timeout', '8', 'tcpdump', ...]
];

function spawnedCommands(): Map<string, string> {
  const found = new Map<string, string>();
  const files = [...sources(path.join(PACKAGE_ROOT, 'src', 'demo')), ...sources(path.join(PACKAGE_ROOT, 'test'))];
  for (const file of files.filter((f) => !f.endsWith(path.join('scripts', 'system-deps.test.ts')))) {
    const text = fs.readFileSync(file, 'utf8');
    // run(['tcpdump', ...]) and must([...]) of src/demo/topology (not box.run or a local run).
    const topologyRun = file.endsWith(path.join('demo', 'topology.ts')) || /\b(?:run|must)\b[^;]*from '[^']*topology\.js'/.test(text);
    const patterns = topologyRun ? [...SPAWNS, /(?<![.\w])(?:run|must)\(\s*\[\s*'([^']+)'/g] : SPAWNS;
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) found.set(path.basename(match[1] as string), path.relative(PACKAGE_ROOT, file));
    }
  }
  return found;
}

test('scripts/system-tools lists every command the demo and the tests spawn', () => {
  const listed = new Set(systemTools().filter((t) => !t.build).map((t) => t.command));
  const spawned = spawnedCommands();
  for (const known of ['ip', 'tc', 'ping', 'iperf3', 'tcpdump', 'ethtool', 'mandoc', 'pgrep', 'kill', 'timeout']) {
    assert.ok(spawned.has(known), `the scan no longer finds ${known}: is SPAWNS out of date?`);
  }
  for (const [command, file] of spawned) {
    assert.ok(listed.has(command), `${file} runs ${command}, which scripts/system-tools does not list`);
  }
});

test('scripts/system-deps --list names the packages of the same list, the build tools only with --build', () => {
  const tools = systemTools();
  const unique = (names: string[]): string[] => [...new Set(names)];
  const list = spawnSync('bash', [SCRIPT, '--list'], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split('\n'), unique(tools.filter((t) => !t.build).map((t) => t.pkg)));
  const build = spawnSync('bash', [SCRIPT, '--build', '--list'], { encoding: 'utf8' });
  assert.deepEqual(build.stdout.trim().split('\n'), unique(tools.map((t) => t.pkg)));
  assert.ok(tools.some((t) => t.build && t.pkg === 'g++'));
  const wrong = spawnSync('bash', [SCRIPT, '--nope'], { encoding: 'utf8' });
  assert.equal(wrong.status, 1);
  assert.equal(wrong.stderr, 'Error: argument "--nope" is wrong: system-deps takes --build and --list\n');
});

test('a wrong line in the list is an error naming the line', () => {
  assert.deepEqual(parseSystemTools('# c\n\nip iproute2\ng++ g++ build\n'), [
    { command: 'ip', pkg: 'iproute2', build: false },
    { command: 'g++', pkg: 'g++', build: true },
  ]);
  assert.throws(() => parseSystemTools('ip\n'), /line 1 of .* is wrong: "ip"/);
  assert.throws(() => parseSystemTools('ip iproute2 later\n'), /line 1 of .* is wrong/);
});

test('without root, system-deps names what is missing in one line; MSNL_SKIP_ROOT_TESTS=1 makes that a warning', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-deps-'));
  try {
    fs.chmodSync(dir, 0o755);
    fs.copyFileSync(SCRIPT, path.join(dir, 'system-deps'));
    const asUser = (list: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> => {
      fs.writeFileSync(path.join(dir, 'system-tools'), list, { mode: 0o644 });
      const options: SpawnSyncOptions = { cwd: dir, encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, ...env } };
      // As root, run it as nobody: it must never install anything from a test.
      if (process.getuid?.() === 0) Object.assign(options, { uid: 65534, gid: 65534 });
      return spawnSync('bash', [path.join(dir, 'system-deps')], options);
    };
    const missing = asUser('sh dash\nmsnl-no-such-tool msnl-no-such-package\n');
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(String(missing.stderr), /^Error: missing system packages: msnl-no-such-package: run as root `sudo bash scripts\/system-deps`, or `sudo apt-get install msnl-no-such-package`\n$/);
    const skipping = asUser('msnl-no-such-tool msnl-no-such-package\n', { MSNL_SKIP_ROOT_TESTS: '1' });
    assert.equal(skipping.status, 0);
    assert.match(String(skipping.stderr), /^system-deps: warning: missing system packages: msnl-no-such-package: .*; going on because MSNL_SKIP_ROOT_TESTS=1\n$/);
    const present = asUser('sh dash\n');
    if (fs.existsSync('/dev/net/tun')) {
      assert.deepEqual([present.status, present.stdout, present.stderr], [0, '', ''], 'quiet when everything is there');
    } else {
      assert.equal(present.status, 2);
      assert.match(String(present.stderr), /\/dev\/net\/tun is missing/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
