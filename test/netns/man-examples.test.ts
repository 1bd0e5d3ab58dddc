// Root-only: the EXAMPLES sections of the man pages are run, line by line, against a real msnld in
// a network namespace, so they stay true. `msnl` in an example is the CLI of this tree, pointed at
// the host's database and socket through MSNL_DB and MSNL_SOCKET, as an operator's would be.
// msnl.7's examples are wire hex (test/conformance runs them); msnld.8 has none that configure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNL, Topology, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';

const MAN = path.resolve(__dirname, '..', '..', '..', 'man');

/** The command lines of a page's EXAMPLES section: every line of its literal displays. */
export function exampleLines(page: string): string[] {
  const text = readFileSync(path.join(MAN, page), 'utf8');
  const section = text.split(/^\.Sh EXAMPLES$/m)[1]?.split(/^\.Sh /m)[0] ?? '';
  const lines: string[] = [];
  let inDisplay = false;
  for (const line of section.split('\n')) {
    if (line.startsWith('.Bd -literal')) inDisplay = true;
    else if (line.startsWith('.Ed')) inDisplay = false;
    else if (inDisplay && line.trim() !== '') lines.push(line.replace(/\\e/g, '\\').replace(/\\\(dq/g, '"'));
  }
  return lines;
}

/** Runs each line in the host's namespace, in a scratch directory, with `msnl` on PATH; every line must exit 0. */
function runExamples(net: Topology, host: Host, page: string, lines: readonly string[]): string[] {
  const scratch = mkdtempSync(path.join(tmpdir(), 'msnl-examples-'));
  try {
    const wrapper = path.join(scratch, 'msnl');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MSNL)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const outputs: string[] = [];
    for (const line of lines) {
      const env = `PATH=${scratch}:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin MSNL_DB=${host.db} MSNL_SOCKET=${host.socket}`;
      const result = net.exec(host, ['sh', '-c', `cd ${scratch} && env ${env} sh -ec '${line.replace(/'/g, `'\\''`)}'`], 30_000);
      assert.equal(result.code, 0, `${page} EXAMPLES line failed (exit ${result.code}): ${line}\n${result.stdout}${result.stderr}`);
      outputs.push(result.stdout);
    }
    return outputs;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

test('the EXAMPLES sections are found and hold commands', () => {
  assert.ok(exampleLines('msnl.8').filter((l) => l.startsWith('msnl ')).length >= 8);
  assert.ok(exampleLines('ms.4').some((l) => l.startsWith('ping ')));
});

test('msnl(8) EXAMPLES: every line runs against a live msnld and configures what it says', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'examples', hosts: 2 });
  try {
    const h1 = net.host(1);
    net.mustMsnl(h1, ['host', 'set', 'address', h1.msnlAddress]);
    await net.startDaemon(h1);
    const lines = exampleLines('msnl.8');
    const outputs = runExamples(net, h1, 'msnl.8', lines);
    const at = (prefix: string): string => outputs[lines.findIndex((l) => l.startsWith(prefix))] ?? '';
    assert.match(at('msnl map get 10.9.1.2'), /10\.9\.0\.0\/16 msnl 128\.232\.65\.42/, 'map get finds the example mapping');
    const table = JSON.parse(at('msnl -j map show')) as Array<{ prefix: string; lifetime?: number | null }>;
    assert.ok(table.some((row) => row.prefix === '198.51.100.0/24'), 'the lifetime mapping is in the JSON table');
    assert.match(at('msnl ifconfig -a'), /ms1[\s\S]*10\.0\.0\.1/, 'ifconfig -a shows the example address on ms1');
    const route = JSON.parse(net.mustMsnl(h1, ['-j', 'route', 'show'])) as Array<{ public_key?: string }>;
    assert.ok(route.some((r) => r.public_key === 'zgZNxc0UfgankTbXsRIc+nIKvzvpQoyDAEuPD0V+PQ4='), 'the keyed route is stored');
  } finally {
    await net.destroy();
  }
});

test('ms(4) EXAMPLES: with a peer serving 10.9.0.0/16 at 128.232.65.42, the ping gets its reply', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'examples', hosts: 2 });
  try {
    const [h1, h2] = [net.host(1), net.host(2)];
    // What the page takes as given: this host has an address and a keyed route to 128.232.65.42,
    // a peer that has ms1 in 10.9.0.0/16 and maps and routes the example's 10.77.0.0/24 back.
    net.mustMsnl(h1, ['host', 'set', 'address', h1.msnlAddress]);
    net.mustMsnl(h2, ['host', 'set', 'address', '128.232.65.42']);
    net.mustMsnl(h1, ['route', 'add', '128.232.65.42', 'via', `${h2.underlay}:7010`, 'key', net.publicKey(h2)]);
    net.mustMsnl(h2, ['route', 'add', h1.msnlAddress, 'via', `${h1.underlay}:7010`, 'key', net.publicKey(h1)]);
    net.mustMsnl(h2, ['map', 'add', '10.77.0.0/24', h1.msnlAddress]);
    net.mustMsnl(h2, ['ifconfig', 'ms1', '10.9.0.7/16', 'up']);
    await net.startDaemon(h1);
    await net.startDaemon(h2);
    const back = net.exec(h2, ['ip', 'route', 'add', '10.77.0.0/24', 'dev', 'ms1']);
    assert.equal(back.code, 0, back.stderr);
    const lines = exampleLines('ms.4');
    const outputs = runExamples(net, h1, 'ms.4', lines);
    assert.match(outputs[lines.findIndex((l) => l.startsWith('ping '))] ?? '', /1 received/, 'the example ping was answered');
  } finally {
    await net.destroy();
  }
});
