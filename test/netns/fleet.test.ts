// Root-only: a fleet of three msnld hosts sharing one mapping through a real etcd (Debian's
// etcd-server), which runs in a fourth namespace. No map or route command is run on any host: every
// mapping and route comes from the others' records. Times are printed, bounded only generously.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Topology, sleep, type Host } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { eventually } from './network.js';
import { ETCD_PORT, b64, etcd, startEtcd, stopProcess } from './etcd.js';
import { openStore, type Store } from '../../src/store/store.js';
import { ControlClient } from '../../src/control/client.js';

function withDb<T>(file: string, body: (store: Store) => T): T {
  const store = openStore(file, { readonly: true });
  try {
    return body(store);
  } finally {
    store.close();
  }
}

interface MapJson { prefix: string; msnl_address: string; origin: string; comment: string }

function maps(t: Topology, h: Host): MapJson[] {
  const r = t.msnl(h, ['-j', 'map', 'show']);
  if (r.code !== 0) throw new Error(`map show on h${h.index}: ${r.stderr}`);
  return JSON.parse(r.stdout) as MapJson[];
}

function mapping(t: Topology, h: Host, prefix: string): MapJson | undefined {
  return maps(t, h).find((m) => m.prefix === prefix);
}

test('a fleet through etcd: join within a second, expire after the TTL, survive etcd down, resolve conflicts, skip bad records', { timeout: 240_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const topo = Topology.create({ tag: 'fleet', hosts: 4 });
  let etcdChild: ChildProcess | undefined;
  try {
    const [h1, h2, h3, h4] = [topo.host(1), topo.host(2), topo.host(3), topo.host(4)];
    const url = `http://${h4.underlay}:${ETCD_PORT}`;
    etcdChild = startEtcd(topo, h4);
    await eventually('etcd answers', () => etcd(topo, h1, url, '/v3/kv/range', { key: b64('/') }) !== undefined, 30_000);

    for (const h of [h1, h2, h3]) {
      topo.mustMsnl(h, ['host', 'set', 'address', h.msnlAddress]);
      topo.publicKey(h);
      topo.mustMsnl(h, ['ifconfig', 'ms0', `10.0.0.${h.index}/24`, 'up']);
    }
    // h1 and h2 keep the cluster in the database; h3 is given it on the command line.
    for (const h of [h1, h2]) topo.mustMsnl(h, ['host', 'set', 'cluster', url, 'cluster-ttl', '3']);
    await topo.startDaemon(h1);
    await topo.startDaemon(h2);
    await eventually('h1 has h2 from the fleet', () => mapping(topo, h1, '10.0.0.2/32')?.msnl_address === h2.msnlAddress);

    // Join: h3 starts with --cluster. Timed from the moment h3's own watch sees its record (etcd
    // has it) to h1's database having the mapping, and to h1's daemon having reconciled after it;
    // both databases and h1's control socket are read from here every 5 ms, without spawning.
    const before1 = (await new ControlClient(h1.socket).status()).counters.reconciles ?? 0;
    const joining = topo.startDaemon(h3, ['--cluster', url, '--cluster-ttl', '3']);
    const hasOwnRecord = (): boolean => withDb(h3.db, (s) => s.fleet().hosts().some((h) => h.msnlAddress === 0x80e80003));
    const inH1 = (): boolean => withDb(h1.db, (s) => s.getMapping({ address: 0x0a000003, length: 32 }) !== undefined);
    const deadline = Date.now() + 30_000;
    let inEtcd: number | undefined;
    let stored: number | undefined;
    let reconciled: number | undefined;
    // Until all three are seen: h1 may reconcile before h3's own database shows its record.
    while (Date.now() < deadline && (reconciled === undefined || inEtcd === undefined)) {
      const now = performance.now();
      if (inEtcd === undefined && hasOwnRecord()) inEtcd = now;
      if (stored === undefined && inH1()) stored = now;
      if (stored !== undefined && reconciled === undefined && ((await new ControlClient(h1.socket).status()).counters.reconciles ?? 0) > before1) reconciled = performance.now();
      await sleep(5);
    }
    await joining;
    assert.ok(inEtcd !== undefined && stored !== undefined && reconciled !== undefined, `h3 joined: etcd ${inEtcd} stored ${stored} reconciled ${reconciled}\n${topo.tail(h1)}`);
    const first = Math.min(inEtcd!, stored!);
    process.stdout.write(`# fleet join: h3's record in h1's database ${(stored! - first).toFixed(0)} ms after h3 saw it in etcd, in h1's table (reconciled) after ${(reconciled! - first).toFixed(0)} ms\n`);
    assert.ok(reconciled! - first < 5000, 'h1 applies the join within seconds (the 1 s figure is printed, not asserted)');
    assert.equal(mapping(topo, h1, '10.0.0.3/32')?.origin, 'cluster');
    const ping13 = await topo.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.3'], 20_000);
    assert.equal(ping13.code, 0, `h1 pings h3 through ms0: ${ping13.stdout}${ping13.stderr}\n${topo.tail(h1)}`);
    const status = topo.mustMsnl(h1, ['status']);
    assert.match(status, /^fleet live, watching at revision \d+, 3 hosts/m, status);
    const fleet = JSON.parse(topo.mustMsnl(h1, ['-j', 'fleet', 'show'])) as { hosts: Array<{ msnl_address: string; endpoints: string[]; ttl_left: number | null; prefixes: string[] }> };
    const h3row = fleet.hosts.find((h) => h.msnl_address === h3.msnlAddress);
    assert.deepEqual(h3row?.endpoints, [`${h3.underlay}:7010`]);
    assert.deepEqual(h3row?.prefixes, ['10.0.0.3/32']);
    assert.ok(h3row?.ttl_left !== null && h3row!.ttl_left! >= 1 && h3row!.ttl_left! <= 3, `ttl left ${h3row?.ttl_left}`);

    // Conflict: h3 publishes h1's address too; h1's older record wins on every host.
    topo.mustMsnl(h3, ['map', 'add', '10.0.0.1/32', h3.msnlAddress, 'publish']);
    await eventually('h2 reports the conflict over 10.0.0.1/32', () => /conflict/.test(mapping(topo, h2, '10.0.0.1/32')?.comment ?? ''));
    const seen2 = mapping(topo, h2, '10.0.0.1/32');
    assert.equal(seen2?.msnl_address, h1.msnlAddress, 'the older claim (h1) wins');
    assert.match(topo.mustMsnl(h2, ['map', 'show']), /10\.0\.0\.1\/32 msnl 128\.232\.0\.1 origin cluster comment "fleet host 128\.232\.0\.1; conflict: also claimed by 128\.232\.0\.3/);
    for (const h of [h1, h2, h3]) {
      const conflicts = (JSON.parse(topo.mustMsnl(h, ['-j', 'fleet', 'show'])) as { conflicts: Array<{ prefix: string; winner: string; losers: string[] }> }).conflicts;
      assert.deepEqual(conflicts, [{ prefix: '10.0.0.1/32', winner: h1.msnlAddress, losers: [h3.msnlAddress] }], `h${h.index} resolves the same way`);
    }
    assert.equal(mapping(topo, h3, '10.0.0.1/32')?.origin, 'cli', 'on h3 its own local entry wins over the fleet');

    // Bad input: a malformed and a foreign record are skipped and logged, never applied.
    etcd(topo, h1, url, '/v3/kv/put', { key: b64('/msnl/v1/hosts/128.232.0.9'), value: b64('{not json') });
    etcd(topo, h1, url, '/v3/kv/put', { key: b64('/msnl/v1/hosts/128.232.0.8'), value: b64(JSON.stringify({ version: 1, msnl: '128.232.0.7', endpoints: ['192.0.2.7:7010'], key: null, prefixes: ['10.0.0.7/32'] })) });
    await eventually('h1 logs the skipped records', () => /skipped the record at "\/msnl\/v1\/hosts\/128\.232\.0\.8".*foreign/.test(readFileSync(h1.log, 'utf8')) && /skipped the record at "\/msnl\/v1\/hosts\/128\.232\.0\.9".*not JSON/.test(readFileSync(h1.log, 'utf8')));
    assert.equal(mapping(topo, h1, '10.0.0.7/32'), undefined);
    assert.ok(h1.daemon?.exitCode === null, 'h1 still runs');

    // kill -9 h3: its record goes after the TTL, and h1's table drops it; h3 restarted comes back.
    h3.daemon?.kill('SIGKILL');
    const killed = Date.now();
    await eventually('h1 drops h3', () => mapping(topo, h1, '10.0.0.3/32') === undefined, 20_000);
    process.stdout.write(`# fleet expiry: h3 gone from h1's table ${Date.now() - killed} ms after kill -9 (TTL 3 s)\n`);
    assert.equal(maps(topo, h1).some((m) => m.msnl_address === h3.msnlAddress), false);
    await sleep(300);
    await topo.startDaemon(h3, ['--cluster', url, '--cluster-ttl', '3']);
    await eventually('h1 has h3 again', () => mapping(topo, h1, '10.0.0.3/32')?.msnl_address === h3.msnlAddress);

    // etcd down: pings go on; a restarted msnld starts from its cached table.
    await stopProcess(etcdChild);
    const during = await topo.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.2'], 20_000);
    assert.equal(during.code, 0, `h1 pings h2 with etcd down: ${during.stdout}`);
    await topo.stopDaemon(h1);
    await topo.startDaemon(h1);
    assert.equal(mapping(topo, h1, '10.0.0.2/32')?.msnl_address, h2.msnlAddress, 'the cached fleet table survives the restart');
    await eventually('h1 reports the watch as not live', () => /^fleet not live/m.test(topo.mustMsnl(h1, ['status'])));
    const cached = await topo.execAsync(h1, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '3', '10.0.0.2'], 20_000);
    assert.equal(cached.code, 0, `restarted h1 pings h2 from its cached table: ${cached.stdout}\n${topo.tail(h1)}`);
    // A change made while etcd is down arrives once it is back.
    topo.mustMsnl(h2, ['ifconfig', 'ms1', '10.1.0.2/24', 'up']);
    await sleep(500);
    etcdChild = startEtcd(topo, h4);
    const back = Date.now();
    await eventually('h1 gets h2\'s new prefix', () => mapping(topo, h1, '10.1.0.2/32')?.msnl_address === h2.msnlAddress, 30_000);
    process.stdout.write(`# fleet resume: change made during the outage in h1's table ${Date.now() - back} ms after etcd was started again\n`);
    await eventually('h1 reports the watch as live again', () => /^fleet live/m.test(topo.mustMsnl(h1, ['status'])), 15_000);
  } finally {
    await stopProcess(etcdChild);
    await topo.destroy();
  }
});
