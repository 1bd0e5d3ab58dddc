// Root-only: msnld joins an etcd that has authentication on, as a user whose role may only touch
// /msnl/v1/hosts/, with the password from MSNL_CLUSTER_PASSWORD; a wrong password is logged and
// leaves the watch not live, without a crash. And msnld over TLS with a client certificate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Topology } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { eventually } from './network.js';
import { ETCD_PORT, b64, etcd, makeTls, startEtcd, stopProcess } from './etcd.js';

test('msnld --cluster-user authenticates to etcd; a wrong password is reported, not fatal', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const topo = Topology.create({ tag: 'fleetauth', hosts: 3 });
  let etcdChild: ChildProcess | undefined;
  const saved = process.env.MSNL_CLUSTER_PASSWORD;
  try {
    const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
    const url = `http://${h3.underlay}:${ETCD_PORT}`;
    etcdChild = startEtcd(topo, h3);
    await eventually('etcd answers', () => etcd(topo, h3, url, '/v3/kv/range', { key: b64('/') }) !== undefined, 30_000);
    const setup: Array<[string, unknown]> = [
      ['/v3/auth/user/add', { name: 'root', password: 'root-secret' }], ['/v3/auth/role/add', { name: 'root' }], ['/v3/auth/user/grant', { user: 'root', role: 'root' }],
      ['/v3/auth/user/add', { name: 'msnl', password: 'fleet-secret' }], ['/v3/auth/role/add', { name: 'fleet' }],
      ['/v3/auth/role/grant', { name: 'fleet', perm: { permType: 'READWRITE', key: b64('/msnl/v1/hosts/'), range_end: b64('/msnl/v1/hosts0') } }],
      ['/v3/auth/user/grant', { user: 'msnl', role: 'fleet' }], ['/v3/auth/enable', {}],
    ];
    for (const [call, body] of setup) assert.notEqual(etcd(topo, h3, url, call, body), undefined, call);
    assert.match(JSON.stringify(etcd(topo, h3, url, '/v3/kv/put', { key: b64('/msnl/v1/hosts/1.2.3.4'), value: b64('x') })), /user name is empty/, 'etcd now refuses anonymous writes');

    for (const h of [h1, h2]) {
      topo.mustMsnl(h, ['host', 'set', 'address', h.msnlAddress]);
      topo.mustMsnl(h, ['ifconfig', 'ms0', `10.0.0.${h.index}/24`, 'up']);
    }
    process.env.MSNL_CLUSTER_PASSWORD = 'fleet-secret';
    await topo.startDaemon(h1, ['--cluster', url, '--cluster-user', 'msnl']);
    process.env.MSNL_CLUSTER_PASSWORD = 'wrong';
    await topo.startDaemon(h2, ['--cluster', url, '--cluster-user', 'msnl']);
    await eventually('h1 publishes and watches its own record', () => /^fleet live/m.test(topo.mustMsnl(h1, ['status'])) && /128\.232\.0\.1 endpoints 192\.0\.2\.1:7010/.test(topo.mustMsnl(h1, ['fleet', 'show'])));
    const token = etcd(topo, h3, url, '/v3/auth/authenticate', { name: 'root', password: 'root-secret' })?.token as string;
    const listed = etcd(topo, h3, url, '/v3/kv/range', { key: b64('/msnl/v1/hosts/'), range_end: b64('/msnl/v1/hosts0') }, token);
    assert.deepEqual((listed?.kvs as Array<{ key: string }>).map((kv) => Buffer.from(kv.key, 'base64').toString()), ['/msnl/v1/hosts/128.232.0.1']);
    await eventually('h2 logs the refused password', () => /fleet: etcd .*authentication failed/.test(readFileSync(h2.log, 'utf8')));
    assert.match(topo.mustMsnl(h2, ['status']), /^fleet not live \(etcd \/v3\/auth\/authenticate: etcdserver: authentication failed/m);
    assert.equal(h2.daemon?.exitCode, null, 'h2 keeps running');
  } finally {
    if (saved === undefined) delete process.env.MSNL_CLUSTER_PASSWORD;
    else process.env.MSNL_CLUSTER_PASSWORD = saved;
    await stopProcess(etcdChild);
    await topo.destroy();
  }
});

test('msnld joins an etcd that serves TLS and asks for client certificates', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const topo = Topology.create({ tag: 'fleettls', hosts: 3 });
  let etcdChild: ChildProcess | undefined;
  try {
    const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
    const tls = makeTls(topo.dir, h3.underlay);
    const url = `https://${h3.underlay}:${ETCD_PORT}`;
    etcdChild = startEtcd(topo, h3, tls);
    for (const h of [h1, h2]) {
      topo.mustMsnl(h, ['host', 'set', 'address', h.msnlAddress]);
      topo.mustMsnl(h, ['ifconfig', 'ms0', `10.0.0.${h.index}/24`, 'up']);
    }
    await topo.startDaemon(h1, ['--cluster', url, '--cluster-ca', tls.ca, '--cluster-cert', tls.clientCert, '--cluster-key', tls.clientKey]);
    await topo.startDaemon(h2, ['--cluster', url, '--cluster-ca', tls.ca]); // no client certificate
    await eventually('h1 is live over TLS', () => /^fleet live/m.test(topo.mustMsnl(h1, ['status'])) && /128\.232\.0\.1 endpoints/.test(topo.mustMsnl(h1, ['fleet', 'show'])), 30_000)
      .catch((error: Error) => { throw new Error(`${error.message}\n${topo.tail(h1)}\n${readFileSync(path.join(topo.dir, 'etcd.log'), 'utf8').split('\n').slice(-5).join('\n')}`); });
    await eventually('h2 is refused without a client certificate', () => /^fleet not live/m.test(topo.mustMsnl(h2, ['status'])) && /fleet: etcd /.test(readFileSync(h2.log, 'utf8')), 30_000);
    assert.equal(h2.daemon?.exitCode, null, 'h2 keeps running');
  } finally {
    await stopProcess(etcdChild);
    await topo.destroy();
  }
});
