// The CPU side of a first reply: a call set-up, one packet each way and the hang-up between two
// endpoints of this process (warm code, as msnld's after its warm-up call), plain and keyed
// (Noise IK handshake in the set-up, frames sealed by the daemon's AEAD, batched as msnld does)
// alternately. Median CPU microseconds per call, both ends together: what the handshake adds to
// a first reply when the machine is not busy with anything else.
// Run: npx tsc -p tsconfig.json && node dist/bench/first-call.js [calls]
import { performance } from 'node:perf_hooks';
import { generateKeyPair, type KeyPair } from '../src/crypto/primitives.js';
import { defaultAead } from '../src/daemon/aead.js';
import { DATA_HEADER_SIZE } from '../src/msnl/constants.js';
import { MsnlEndpoint } from '../src/msnl/endpoint.js';
import type { EndpointEvents } from '../src/msnl/types.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;
type Link = 'a' | 'b';

/** A pair of endpoints; call() makes one call with a packet each way and returns its CPU microseconds. */
function pair(keys: [KeyPair, KeyPair] | null): () => number {
  const wire: { to: Link; bytes: Uint8Array }[] = [];
  const later: (() => void)[] = [];
  let connA = 0;
  let connB = 0;
  let received = 0;
  const quiet = (): void => undefined;
  const make = (name: Link, address: number, other: number, key: KeyPair | null, otherKey: Uint8Array | null): MsnlEndpoint<Link> => {
    const events: EndpointEvents<Link> = {
      incomingCall: (call) => later.push(() => void ep.accept(call.callId, 0x0a000002)),
      connected: (_h, info) => {
        if (name === 'a') connA = info.connId;
        else connB = info.connId;
      },
      callFailed: quiet, data: () => void received++, disconnected: quiet, idle: quiet, echoReply: quiet,
    };
    const ep: MsnlEndpoint<Link> = new MsnlEndpoint<Link>({
      localAddress: address, clock: { now: () => performance.now() }, events, identity: key, aead: defaultAead(),
      scheduleSeals: (flush) => later.push(flush),
      // Calls back to back from one source: past the per-source handshake limit otherwise.
      config: { handshakeRatePerSecond: 1e9, handshakeBurst: 1e9, handshakeLoadPerSecond: 1e9 },
      wallClock: () => Date.now() + calls, // a millisecond apart, whatever the code's stamp resolution
      transmit: (_to, buf, offset, length) => wire.push({ to: name === 'a' ? 'b' : 'a', bytes: buf.slice(offset, offset + length) }),
      peerKeyOf: (x) => (x === other ? (otherKey ?? 'none') : undefined),
    });
    return ep;
  };
  const a = make('a', A, B, keys?.[0] ?? null, keys?.[1].publicKey ?? null);
  const b = make('b', B, A, keys?.[1] ?? null, keys?.[0].publicKey ?? null);
  b.listen(PORT);
  let calls = 0;
  return (): number => {
  connA = connB = received = 0;
  calls++;
  // As msnld's timers do between calls: the next handshake's ephemeral keys are made ahead.
  a.tick();
  b.tick();
  const settle = (): void => {
    for (let i = 0; i < 100 && (wire.length > 0 || later.length > 0); i++) {
      for (const d of wire.splice(0)) (d.to === 'b' ? b : a).receive(d.bytes, d.to === 'b' ? 'a' : 'b');
      for (const f of later.splice(0)) f();
    }
  };
  const packet = new Uint8Array(DATA_HEADER_SIZE + 84);
  const t0 = process.cpuUsage();
  a.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: 'b' });
  settle();
  a.send(connA, packet, DATA_HEADER_SIZE, 84);
  settle();
  b.send(connB, packet, DATA_HEADER_SIZE, 84);
  settle();
  const used = process.cpuUsage(t0);
  if (received !== 2) throw new Error(`the ${keys === null ? 'plain' : 'keyed'} call carried ${received} of 2 packets: ${JSON.stringify(Object.entries(a.counters).filter(([, v]) => v !== 0))} ${JSON.stringify(Object.entries(b.counters).filter(([, v]) => v !== 0))}`);
  a.disconnect(connA);
  settle();
  return used.user + used.system;
  };
}

const calls = Number(process.argv[2] ?? 200);
const keys: [KeyPair, KeyPair] = [generateKeyPair(), generateKeyPair()];
const plain: number[] = [];
const keyed: number[] = [];
const plainCall = pair(null);
const keyedCall = pair(keys);
for (let i = 0; i < calls + 20; i++) {
  const p = plainCall();
  const k = keyedCall();
  if (i >= 20) {
    plain.push(p);
    keyed.push(k);
  }
}
const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(`call set-up + a packet each way, CPU us (median of ${calls}, both ends): plain ${med(plain).toFixed(0)}, keyed ${med(keyed).toFixed(0)} (+${(med(keyed) - med(plain)).toFixed(0)})`);
