// The data path of one keyed connection against a plain one, in one process without sockets:
// endpoint A sends 1424- or 1456-octet IP packets (each one datagram, as ms0's offload cuts them)
// into a slab the way the batched UDP socket queues them, endpoint B takes them from the slab and
// delivers them. CPU time (user + system) per datagram on each side, plain and keyed alternately
// in one run, so the ratio stands even on a loaded machine. The AEAD is the daemon's (the addon's).
// Run: npx tsc -p tsconfig.json && node dist/bench/sealed-path.js [rounds] [--one-by-one] [--size N]
// (--size N: N-octet packets both ways, as 64-octet UDP, instead of the largest datagram)
// (--one-by-one: each frame sealed, and opened, by its own AEAD call, as before the batches of
// secure-batch.ts and secure-open.ts)
// (--copied: as over an underlay that neither lends its send slab nor holds its receive slab: a
// segmented packet is sealed into a buffer of its own and copied out datagram by datagram, and
// received sealed frames are copied to be opened)
// (--packet N: N-octet packets (1473..65535), each cut into segments as over ms3, and CPU per
// packet as well as per datagram)
// (--no-join: received segments copied into their packet one by one, without the addon's
// copyRuns, as before the reassembler gathered them)
// (--burst N: N packets sent, and then received, per burst (default 64; 8 with --packet): what a
// paced or light stream gives msnld per socket round, where costs per burst weigh more)
import { copyOctets } from '../src/abi/bytes.js';
import { generateKeyPair } from '../src/crypto/primitives.js';
import { defaultAead } from '../src/daemon/aead.js';
import { DATA_HEADER_SIZE } from '../src/msnl/constants.js';
import { MsnlEndpoint } from '../src/msnl/endpoint.js';
import { SEAL_OVERHEAD } from '../src/msnl/secure-wire.js';
import type { EndpointEvents } from '../src/msnl/types.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;
let BURST = 64;
const copied = process.argv.includes('--copied');
const SLOT = 2048;

type Link = 'a' | 'b';

interface Pair {
  readonly a: MsnlEndpoint<Link>;
  readonly b: MsnlEndpoint<Link>;
  readonly connA: number;
  /** Datagrams A queued since the last drain: where each starts in the slab, and its length. */
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  used: number;
  count: number;
  readonly slab: Uint8Array;
  received: number;
}

function pair(keyed: boolean): Pair {
  const clock = { now: (): number => performance.now() };
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const wire: { to: Link; bytes: Uint8Array }[] = [];
  let steady: Pair | null = null;
  const quiet = (): void => undefined;
  const events = (onConnected: (id: number) => void, onData: () => void, accept: (callId: number) => void): EndpointEvents<Link> => ({
    incomingCall: (call) => accept(call.callId), connected: (_h, conn) => onConnected(conn.connId), callFailed: quiet,
    data: onData, disconnected: quiet, idle: quiet, echoReply: quiet,
  });
  const transmit = (to: Link) => (_link: Link, buf: Uint8Array, offset: number, length: number): void => {
    if (steady !== null && to === 'b') {
      // As BatchUdpSocket.send: copied into the send slab.
      copyOctets(buf, offset, steady.slab, steady.used, length);
      steady.offsets[steady.count] = steady.used;
      steady.lengths[steady.count++] = length;
      steady.used += SLOT;
      return;
    }
    wire.push({ to, bytes: buf.slice(offset, offset + length) });
  };
  // As BatchUdpSocket.sendRun: a run of segments sealed in place into the send slab.
  const transmitRun = (_link: Link, count: number, stride: number, last: number, fill: (buf: Uint8Array, at: number) => boolean): boolean | null => {
    if (steady === null || copied) return null;
    const s = steady;
    if (!fill(s.slab, s.used)) return false;
    for (let i = 0; i < count; i++) {
      s.offsets[s.count] = s.used;
      s.lengths[s.count++] = i < count - 1 ? stride : last;
      s.used += i < count - 1 ? stride : last;
    }
    return true;
  };
  let connA = -1;
  let b: MsnlEndpoint<Link> | null = null;
  const key = (k: Uint8Array): Uint8Array | 'none' => (keyed ? k : 'none');
  const { copyRuns, ...withoutJoin } = defaultAead();
  const aead = process.argv.includes('--no-join') || copyRuns === undefined ? withoutJoin : { ...withoutJoin, copyRuns };
  const batching = process.argv.includes('--one-by-one') ? {} : { scheduleSeals: queueMicrotask };
  const a = new MsnlEndpoint<Link>({
    localAddress: A, clock, transmit: transmit('b'), transmitRun, identity: keys.a, aead, ...batching, peerKeyOf: (x) => (x === B ? key(keys.b.publicKey) : undefined),
    events: events((id) => (connA = id), quiet, quiet),
  });
  const counted = { n: 0 };
  b = new MsnlEndpoint<Link>({
    localAddress: B, clock, transmit: transmit('a'), identity: keys.b, aead, ...batching, peerKeyOf: (x) => (x === A ? key(keys.a.publicKey) : undefined),
    events: events(quiet, () => counted.n++, (callId) => b!.accept(callId, 0x0a000002)),
  });
  b.listen(PORT);
  a.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: 'b' });
  for (let i = 0; i < 100 && connA < 0; i++) {
    for (const d of wire.splice(0)) (d.to === 'b' ? b : a).receive(d.bytes, d.to === 'b' ? 'a' : 'b');
  }
  if (connA < 0) throw new Error(`the ${keyed ? 'keyed' : 'plain'} call did not complete`);
  steady = { a, b, connA, offsets: new Int32Array(BURST * 64), lengths: new Int32Array(BURST * 64), used: 0, count: 0, slab: new Uint8Array(BURST * 64 * SLOT), get received() { return counted.n; }, set received(v) { counted.n = v; } };
  return steady;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU microseconds per datagram for sending and for receiving, over about `ms` of bursts. */
async function measure(p: Pair, packet: Uint8Array, size: number, ms: number): Promise<{ send: number; receive: number; datagrams: number; packets: number }> {
  let send = 0, receive = 0, datagrams = 0, packets = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = cpuUs();
    for (let i = 0; i < BURST; i++) p.a.send(p.connA, packet, DATA_HEADER_SIZE, size);
    await Promise.resolve(); // a batched endpoint seals and sends in a microtask
    const t1 = cpuUs();
    if (copied) for (let i = 0; i < p.count; i++) p.b.receiveFrame(p.slab, p.offsets[i]!, p.lengths[i]!, 'a');
    else {
      // As msnld's UDP socket: the slab is held until the round's end, and sealed frames open in it.
      for (let i = 0; i < p.count; i++) p.b.receiveHeld(p.slab, p.offsets[i]!, p.lengths[i]!, 'a');
      p.b.receivedBurst();
    }
    await Promise.resolve(); // and opens what it received in a microtask
    const t2 = cpuUs();
    send += t1 - t0;
    receive += t2 - t1;
    datagrams += p.count;
    packets += BURST;
    p.count = p.used = 0;
  }
  if (p.received < packets) throw new Error(`only ${p.received} of ${packets} packets were delivered`);
  p.received = 0;
  return { send: send / datagrams, receive: receive / datagrams, datagrams, packets };
}

async function main(): Promise<void> {
const rounds = Number(process.argv.find((a, i) => i > 1 && /^\d+$/.test(a) && process.argv[i - 1] !== '--size' && process.argv[i - 1] !== '--packet' && process.argv[i - 1] !== '--burst') ?? 5);
const sizeAt = process.argv.indexOf('--size');
const small = sizeAt >= 0 ? Number(process.argv[sizeAt + 1]) : NaN;
if (sizeAt >= 0 && !(Number.isInteger(small) && small >= 20 && small <= 1400)) {
  console.error(`Error: argument "--size ${process.argv[sizeAt + 1] ?? ''}" is wrong: it takes 20..1400 (octets per packet)`);
  process.exit(1);
}
const packetAt = process.argv.indexOf('--packet');
const big = packetAt >= 0 ? Number(process.argv[packetAt + 1]) : NaN;
if (packetAt >= 0 && !(Number.isInteger(big) && big >= 1473 && big <= 65535)) {
  console.error(`Error: argument "--packet ${process.argv[packetAt + 1] ?? ''}" is wrong: it takes 1473..65535 (octets per packet)`);
  process.exit(1);
}
if (!Number.isNaN(big)) BURST = 8;
const burstAt = process.argv.indexOf('--burst');
if (burstAt >= 0) {
  const n = Number(process.argv[burstAt + 1]);
  if (!(Number.isInteger(n) && n >= 1 && n <= 1024)) {
    console.error(`Error: argument "--burst ${process.argv[burstAt + 1] ?? ''}" is wrong: it takes 1..1024 (packets per burst)`);
    process.exit(1);
  }
  BURST = n;
}
const plain = pair(false);
const keyed = pair(true);
const plainSize = !Number.isNaN(big) ? big : Number.isNaN(small) ? 1472 - DATA_HEADER_SIZE : small;
const keyedSize = !Number.isNaN(big) ? big : Number.isNaN(small) ? plainSize - SEAL_OVERHEAD : small;
const packet = new Uint8Array(DATA_HEADER_SIZE + plainSize).fill(0x5a);
type Row = { send: number; receive: number; datagrams: number; packets: number };
const rows: { plain: Row; keyed: Row }[] = [];
for (let r = 0; r < rounds + 1; r++) {
  const p = await measure(plain, packet, plainSize, 400);
  const k = await measure(keyed, packet, keyedSize, 400);
  if (r > 0) rows.push({ plain: p, keyed: k }); // the first round warms V8 up
}
const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const f = (n: number): string => n.toFixed(2).padStart(6);
const ps = med(rows.map((r) => r.plain.send)), pr = med(rows.map((r) => r.plain.receive));
const ks = med(rows.map((r) => r.keyed.send)), kr = med(rows.map((r) => r.keyed.receive));
console.log(`CPU us per datagram (median of ${rounds} rounds; aead ${defaultAead().name}, ${process.argv.includes('--one-by-one') ? 'one AEAD call per frame' : 'sealed in batches'}):`);
console.log(`  send:    plain ${f(ps)}  keyed ${f(ks)}  (+${f(ks - ps)})`);
console.log(`  receive: plain ${f(pr)}  keyed ${f(kr)}  (+${f(kr - pr)})`);
if (!Number.isNaN(big)) {
  // Per packet: the per-datagram figures times the datagrams a packet took.
  const per = (r: Row, x: number): number => (x * r.datagrams) / r.packets;
  const kp = med(rows.map((r) => per(r.keyed, r.keyed.send + r.keyed.receive))), pp = med(rows.map((r) => per(r.plain, r.plain.send + r.plain.receive)));
  const ksp = med(rows.map((r) => per(r.keyed, r.keyed.send))), krp = med(rows.map((r) => per(r.keyed, r.keyed.receive)));
  console.log(`  per ${big}-octet packet: plain ${f(pp)} us, keyed ${f(kp)} us (send ${f(ksp)}, receive ${f(krp)}); keyed/plain ${(kp / pp).toFixed(2)}x`);
} else console.log(`  octets per datagram: plain ${plainSize}, keyed ${keyedSize}; per octet keyed/plain ${(((ks + kr) / keyedSize) / ((ps + pr) / plainSize)).toFixed(2)}x`);
}

void main();
