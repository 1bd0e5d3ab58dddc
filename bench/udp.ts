// bench/udp: datagrams per second over loopback UDP, node:dgram against the batched native socket
// (src/msdl/udp-batch.ts: sendmmsg/recvmmsg through the msnl_tun addon, readiness by uv_poll).
// `npx tsc -p tsconfig.json && node dist/bench/udp.js [seconds]`. One process, one thread, as in
// msnld: a sender socket and a receiver socket on 127.0.0.1. The sender pumps bursts of 64 per
// macrotask while fewer than WINDOW datagrams are in flight (so the rate is what is delivered,
// not what the kernel drops); the figure is datagrams received per second.
import dgram from 'node:dgram';
import { BatchUdpSocket } from '../src/msdl/udp-batch.js';

const BURST = 64;
const WINDOW = 1024;
const SIZES = [64, 1400];
const LOOPBACK = 0x7f000001;

interface Result {
  received: number;
  sent: number;
  seconds: number;
}

function pump(send: (n: number) => void, inFlight: () => number, received: () => number, ms: number): Promise<Result> {
  return new Promise((resolve) => {
    let sent = 0;
    const t0 = process.hrtime.bigint();
    const end = Date.now() + ms;
    const step = (): void => {
      if (Date.now() >= end) {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        resolve({ received: received(), sent, seconds });
        return;
      }
      const room = Math.min(BURST, WINDOW - inFlight());
      if (room > 0) {
        send(room);
        sent += room;
      }
      setImmediate(step);
    };
    step();
  });
}

async function dgramRate(size: number, ms: number): Promise<Result> {
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const tx = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  const port = rx.address().port;
  let received = 0;
  let sent = 0;
  rx.on('message', () => received++);
  const payload = Buffer.alloc(size, 0xa5);
  const result = await pump(
    (n) => {
      for (let i = 0; i < n; i++) tx.send(payload, port, '127.0.0.1');
      sent += n;
    },
    () => sent - received,
    () => received,
    ms,
  );
  await new Promise<void>((r) => tx.close(() => r()));
  await new Promise<void>((r) => rx.close(() => r()));
  return result;
}

async function nativeRate(size: number, ms: number, offload: boolean): Promise<Result> {
  let received = 0;
  let sent = 0;
  const rx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, coalescing: offload, onReceive: () => void received++ });
  const tx = BatchUdpSocket.open({ address: LOOPBACK, port: 0, segmentation: offload, onReceive: () => undefined });
  const port = rx.local().port;
  const payload = new Uint8Array(size).fill(0xa5);
  const result = await pump(
    (n) => {
      for (let i = 0; i < n; i++) tx.send(LOOPBACK, port, payload);
      sent += n;
    },
    () => sent - received,
    () => received,
    ms,
  );
  const drops = tx.counters.queueDrops + tx.counters.sendErrors;
  if (drops > 0) console.log(`  (native sender dropped ${drops})`);
  tx.close();
  rx.close();
  return result;
}

function rate(r: Result): number {
  return r.received / r.seconds;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3);
  const ms = Math.max(200, seconds * 1000);
  console.log(`loopback UDP, one thread, ${seconds} s per run, bursts of ${BURST}, window ${WINDOW}`);
  console.log('(mmsg: sendmmsg/recvmmsg only; +GSO/GRO: runs to one peer also segmented and coalesced)');
  console.log('size   node:dgram/s    mmsg/s   ratio   mmsg+GSO/GRO/s   ratio   Gbit/s');
  const cell = (v: number, width: number): string => Math.round(v).toString().padStart(width);
  for (const size of SIZES) {
    const d = rate(await dgramRate(size, ms));
    const m = rate(await nativeRate(size, ms, false));
    const g = rate(await nativeRate(size, ms, true));
    const gbits = (g * size * 8) / 1e9;
    console.log(`${String(size).padStart(4)}   ${cell(d, 12)}   ${cell(m, 7)}   ${(m / d).toFixed(1).padStart(4)}x   ${cell(g, 14)}   ${(g / d).toFixed(1).padStart(4)}x   ${gbits.toFixed(2).padStart(6)}`);
  }
}

main().catch((error: unknown) => {
  console.error(`failed to run the udp bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
