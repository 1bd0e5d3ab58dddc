// Two whole daemons with host keys and keyed routes (secure MSNL), configured only through their
// stores: full-MTU packets pass both ways, every connection is authenticated, and a third daemon
// that claims A's MSNL address without A's key cannot call B.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { Lab, addressAll, collect, ip, prefix, udpPacket, until } from './harness.js';

test('keyed daemons: sealed full-MTU packets both ways, authenticated connections; an impostor without the key cannot call', async () => {
  const lab = new Lab();
  try {
    const keys = { a: generateKeyPair(), b: generateKeyPair(), c: generateKeyPair() };
    const a = lab.store('hostA', '128.232.0.1');
    const b = lab.store('hostB', '128.232.0.2');
    const c = lab.store('hostC', '128.232.0.1'); // claims A's MSNL address
    a.setPrivateKey(keys.a.privateKey);
    b.setPrivateKey(keys.b.privateKey);
    c.setPrivateKey(keys.c.privateKey);
    a.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010, publicKey: keys.b.publicKey });
    b.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010, publicKey: keys.a.publicKey });
    c.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010, publicKey: keys.b.publicKey });
    for (const store of [a, b, c]) {
      for (const spec of TUNNEL_INTERFACES) {
        store.addMapping({ prefix: prefix(`10.${spec.index}.0.1/32`), msnlAddress: ip('128.232.0.1') });
        store.addMapping({ prefix: prefix(`10.${spec.index}.0.2/32`), msnlAddress: ip('128.232.0.2') });
      }
    }
    addressAll(a, 1);
    addressAll(b, 2);
    addressAll(c, 1);
    const A = await lab.start('hostA', '128.232.0.1', a);
    const B = await lab.start('hostB', '128.232.0.2', b);
    for (const spec of [TUNNEL_INTERFACES[0]!, TUNNEL_INTERFACES[3]!]) {
      await until(`${spec.name} bound`, () => A.daemon.tunnels[spec.index]!.isBound && B.daemon.tunnels[spec.index]!.isBound);
      const atB = collect(B.peers.get(spec.name));
      const atA = collect(A.peers.get(spec.name));
      const forward = udpPacket(`10.${spec.index}.0.1`, `10.${spec.index}.0.2`, spec.mtu, 0x11);
      A.peers.get(spec.name)!.inject(forward);
      await until(`${spec.name} A->B`, () => atB.length === 1);
      assert.deepEqual(atB[0], forward);
      const back = udpPacket(`10.${spec.index}.0.2`, `10.${spec.index}.0.1`, spec.mtu, 0x22);
      B.peers.get(spec.name)!.inject(back);
      await until(`${spec.name} B->A`, () => atA.length === 1);
      assert.deepEqual(atA[0], back);
    }
    assert.ok(A.daemon.endpoint.connections().every((conn) => conn.authenticated));
    assert.ok(B.daemon.endpoint.connections().every((conn) => conn.authenticated));
    assert.ok(A.daemon.endpoint.counters.sealedOut > 0 && B.daemon.endpoint.counters.sealedIn > 0);

    // C, with its own key, claims 128.232.0.1 and calls B on ms1.
    const C = await lab.start('hostC', '128.232.0.1', c);
    await until('ms1 bound on C', () => C.daemon.tunnels[1]!.isBound);
    const atB1 = collect(B.peers.get('ms1'));
    C.peers.get('ms1')!.inject(udpPacket('10.1.0.1', '10.1.0.2', 100, 0x33));
    await until('B refused the impostor', () => B.daemon.endpoint.counters.dropWrongKey > 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(atB1.length, 0, 'nothing from the impostor reached B');
    assert.ok(B.daemon.endpoint.connections().every((conn) => conn.remoteConnId !== 0 && conn.authenticated));
    assert.ok(B.logs.some((line) => /failed to authenticate a call from MSNL address 128\.232\.0\.1: it proved a key other than/.test(line)), 'one clear log line');
  } finally {
    await lab.close();
  }
});

/** A and B with keys and keyed routes to each other, ms0 addressed on both. */
async function keyedPair(lab: Lab, config: Parameters<Lab['start']>[3] = {}) {
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const a = lab.store('hostA', '128.232.0.1');
  const b = lab.store('hostB', '128.232.0.2');
  a.setPrivateKey(keys.a.privateKey);
  b.setPrivateKey(keys.b.privateKey);
  a.addRoute({ prefix: prefix('128.232.0.2/32'), host: 'hostB', port: 7010, publicKey: keys.b.publicKey });
  b.addRoute({ prefix: prefix('128.232.0.1/32'), host: 'hostA', port: 7010, publicKey: keys.a.publicKey });
  for (const store of [a, b]) {
    store.addMapping({ prefix: prefix('10.0.0.1/32'), msnlAddress: ip('128.232.0.1') });
    store.addMapping({ prefix: prefix('10.0.0.2/32'), msnlAddress: ip('128.232.0.2') });
  }
  addressAll(a, 1);
  addressAll(b, 2);
  const A = await lab.start('hostA', '128.232.0.1', a, config);
  const B = await lab.start('hostB', '128.232.0.2', b, config);
  await until('ms0 bound', () => A.daemon.tunnels[0]!.isBound && B.daemon.tunnels[0]!.isBound);
  return { A, B, stores: { a, b } };
}

test('keyed daemons rekey every 300 ms under a steady stream both ways and lose no packet', async () => {
  const lab = new Lab();
  try {
    const { A, B } = await keyedPair(lab, { rekeyAfterMs: 300, rekeyRetryMs: 100, rejectAfterMs: 1500 });
    const atA = collect(A.peers.get('ms0'));
    const atB = collect(B.peers.get('ms0'));
    let sent = 0;
    const until3s = Date.now() + 3000;
    while (Date.now() < until3s) {
      A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 1200, sent & 0xff));
      B.peers.get('ms0')!.inject(udpPacket('10.0.0.2', '10.0.0.1', 1200, sent & 0xff));
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until('everything delivered', () => atA.length === sent && atB.length === sent, 5000);
    assert.ok(A.daemon.endpoint.counters.rekeys + B.daemon.endpoint.counters.rekeys >= 5, `rekeys ${A.daemon.endpoint.counters.rekeys}/${B.daemon.endpoint.counters.rekeys}`);
    assert.equal(A.daemon.endpoint.counters.dropSendNoSession + B.daemon.endpoint.counters.dropSendNoSession, 0);
    assert.equal(A.daemon.endpoint.connections().length, 1, 'the same connection throughout');
  } finally {
    await lab.close();
  }
});

test('a keyed peer whose underlay address changes keeps its tunnel (the address follows its authenticated frames)', async () => {
  const lab = new Lab();
  try {
    const { A, B, stores } = await keyedPair(lab);
    const atA = collect(A.peers.get('ms0'));
    const atB = collect(B.peers.get('ms0'));
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100, 1));
    await until('first packet', () => atB.length === 1);
    const [conn] = A.daemon.endpoint.connections();
    stores.b.updateHost({ listenHost: 'hostB-moved', listenPort: 7010 }); // B's underlay address changes
    await until('A follows B to its new address', () => (A.daemon.endpoint.connection(conn!.connId)?.link as { name?: string } | undefined)?.name === 'hostB-moved:7010', 5000);
    A.peers.get('ms0')!.inject(udpPacket('10.0.0.1', '10.0.0.2', 100, 2));
    B.peers.get('ms0')!.inject(udpPacket('10.0.0.2', '10.0.0.1', 100, 3));
    await until('packets both ways after the move', () => atB.length === 2 && atA.length === 1, 5000);
    assert.equal(A.daemon.endpoint.connections()[0]!.connId, conn!.connId, 'the same connection');
    assert.ok(A.daemon.endpoint.counters.roams >= 1);
  } finally {
    await lab.close();
  }
});
