// The CPU one call set-up costs each side, keyed (the Noise IK handshake in the connect request and
// its answer) against plain, in one process without sockets: endpoint A calls B, B accepts at once.
// Per call: A's CPU from connect() to its initiation on the wire plus from the answer's arrival to
// `connected` (the initiator), and B's from the initiation's arrival to its answer on the wire (the
// responder); the work an endpoint leaves for after the turn (scheduleIdle: the next ephemeral key
// pair, made off the call's path as in msnld) is counted apart. Plain and keyed alternate in
// rounds, so the difference stands even on a loaded machine. Each call is closed after it is up.
// Keyed runs twice: with the addon's X25519, HKDF, handshake AEAD and hashes (as msnld,
// useNativeHandshake) and with node:crypto's (key, Hmac, Hash and cipher objects: the column
// 'keyed, node:crypto'), each pair made
// and run under its own.
// Run: npx tsc -p tsconfig.json && node dist/bench/handshake-cpu.js [rounds] [--calls N]
import { generateKeyPair } from '../src/crypto/primitives.js';
import { defaultAead, useNativeHandshake, useNodeCryptoHandshake } from '../src/daemon/aead.js';
import { MsnlEndpoint } from '../src/msnl/endpoint.js';
import type { EndpointEvents } from '../src/msnl/types.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;

type Link = 'a' | 'b';

interface Pair {
  readonly a: MsnlEndpoint<Link>;
  readonly b: MsnlEndpoint<Link>;
  readonly wire: { to: Link; bytes: Uint8Array }[];
  readonly idle: (() => void)[];
  connected: number;
}

interface Costs {
  initiator: number;
  responder: number;
  idle: number;
}

function pair(keyed: boolean): Pair {
  const clock = { now: (): number => performance.now() };
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const wire: Pair['wire'] = [];
  const idle: Pair['idle'] = [];
  const quiet = (): void => undefined;
  const events = (onConnected: (id: number) => void, accept: (callId: number) => void): EndpointEvents<Link> => ({
    incomingCall: (call) => accept(call.callId), connected: (_h, conn) => onConnected(conn.connId), callFailed: quiet,
    data: quiet, disconnected: quiet, idle: quiet, echoReply: quiet,
  });
  const transmit = (to: Link) => (_link: Link, buf: Uint8Array, offset: number, length: number): void => void wire.push({ to, bytes: buf.slice(offset, offset + length) });
  const key = (k: Uint8Array): Uint8Array | 'none' => (keyed ? k : 'none');
  const aead = defaultAead();
  // The per-source limits in front of the handshake (20 a second) and of calls would refuse a bench's calls.
  const config = { handshakeLoadPerSecond: 1e9, handshakeRatePerSecond: 1e9, handshakeBurst: 1e9, callRatePerSource: 1e9, callBurstPerSource: 1e9, callRateTotal: 1e9, callBurstTotal: 1e9 };
  const shell = { aead, config, scheduleSeals: queueMicrotask, scheduleIdle: (work: () => void): void => void idle.push(work) };
  let b: MsnlEndpoint<Link> | null = null;
  const p: Pair = {
    a: new MsnlEndpoint<Link>({
      localAddress: A, clock, transmit: transmit('b'), identity: keys.a, ...shell, peerKeyOf: (x) => (x === B ? key(keys.b.publicKey) : undefined),
      events: events((id) => (p.connected = id), quiet),
    }),
    get b(): MsnlEndpoint<Link> {
      return b!;
    },
    wire, idle, connected: -1,
  };
  b = new MsnlEndpoint<Link>({
    localAddress: B, clock, transmit: transmit('a'), identity: keys.b, ...shell, peerKeyOf: (x) => (x === A ? key(keys.a.publicKey) : undefined),
    events: events(quiet, (callId) => b!.accept(callId, 0x0a000002)),
  });
  b.listen(PORT);
  if (keyed) {
    // As msnld does for its routes' keys: each side's peer is configured, so made ready after the turn.
    p.a.preparePeers([keys.b.publicKey]);
    b.preparePeers([keys.a.publicKey]);
    for (const work of idle.splice(0)) work();
  }
  return p;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Hands what is on the wire for `to` to it. */
function deliver(p: Pair, to: Link): void {
  const mine = p.wire.filter((d) => d.to === to);
  p.wire.length = 0;
  for (const d of mine) (to === 'b' ? p.b : p.a).receive(d.bytes, to === 'b' ? 'a' : 'b');
}

/** Sets up and closes `calls` calls; CPU microseconds per call of each side. */
async function measure(p: Pair, calls: number): Promise<Costs> {
  const costs: Costs = { initiator: 0, responder: 0, idle: 0 };
  for (let i = 0; i < calls; i++) {
    p.connected = -1;
    const t0 = cpuUs();
    p.a.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: 'b' });
    await Promise.resolve(); // sealed frames and batched sends leave in a microtask
    const t1 = cpuUs();
    deliver(p, 'b');
    await Promise.resolve();
    const t2 = cpuUs();
    deliver(p, 'a');
    await Promise.resolve();
    const t3 = cpuUs();
    for (const work of p.idle.splice(0)) work();
    const t4 = cpuUs();
    if (p.connected < 0) throw new Error(`call ${i} did not complete: ${JSON.stringify(Object.entries(p.a.counters).filter(([, v]) => v !== 0))} ${JSON.stringify(Object.entries(p.b.counters).filter(([, v]) => v !== 0))}`);
    costs.initiator += t1 - t0 + (t3 - t2);
    costs.responder += t2 - t1;
    costs.idle += t4 - t3;
    p.a.disconnect(p.connected);
    deliver(p, 'b');
    deliver(p, 'a');
    for (const work of p.idle.splice(0)) work();
  }
  return { initiator: costs.initiator / calls, responder: costs.responder / calls, idle: costs.idle / calls };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--calls');
  const calls = at >= 0 ? Number(args[at + 1]) : 200;
  const rounds = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--calls') ?? 7);
  if (!Number.isInteger(calls) || calls < 1 || calls > 100_000 || !Number.isInteger(rounds) || rounds < 1 || rounds > 1000) {
    console.error('Error: argument "rounds/--calls" is wrong: rounds 1..1000, --calls 1..100000');
    return 1;
  }
  const nodeCrypto = useNodeCryptoHandshake;
  nodeCrypto();
  const keyedNode = pair(true);
  const implementation = useNativeHandshake();
  const plain = pair(false);
  const keyed = pair(true);
  const rows: { plain: Costs; keyed: Costs; node: Costs }[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    useNativeHandshake();
    const pc = await measure(plain, calls);
    const kc = await measure(keyed, calls);
    nodeCrypto();
    const nc = await measure(keyedNode, calls);
    if (r > 0) rows.push({ plain: pc, keyed: kc, node: nc }); // the first round warms V8 up
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const f = (n: number): string => n.toFixed(0).padStart(5);
  console.log(`CPU us per call set-up (median of ${rounds} rounds of ${calls} calls, plain and keyed alternately; X25519 ${implementation}):`);
  for (const side of ['initiator', 'responder', 'idle'] as const) {
    const ps = med(rows.map((r) => r.plain[side]));
    const ks = med(rows.map((r) => r.keyed[side]));
    const ns = med(rows.map((r) => r.node[side]));
    const label = side === 'idle' ? 'after the turn (off the path)' : side;
    console.log(`  ${label.padEnd(30)} plain ${f(ps)}  keyed ${f(ks)}  (+${f(ks - ps)})  keyed, node:crypto ${f(ns)}  (+${f(ns - ps)})`);
  }
  return 0;
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
  console.error(`Error: ${(error as Error).message}`);
  process.exitCode = 2;
});
