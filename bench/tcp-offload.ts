// Benchmark of the TUN offload core (src/tun/offload.ts, offload-coalesce.ts): how fast one core
// cuts a 64 KiB TCP super-packet into ms0 segments (1456 octets, one datagram each, into the
// tunnel's read buffers) and joins such segments back
// into super-packets, checksums included. Against them, the same bytes through a plain memcpy
// (Buffer.copy), the floor of any pass that must move them.
// Run: npx tsc -p tsconfig.json && node dist/bench/tcp-offload.js [seconds]
import { internetChecksum } from '../src/abi/ipv4.js';
import { GroCoalescer } from '../src/tun/offload-coalesce.js';
import { GsoSplitter, VNET_HDR_LEN, VnetFlag, VnetGso, writeVnetHeader } from '../src/tun/offload.js';

const seconds = Number(process.argv[2] ?? 2);
const HEADROOM = 16;
const PAYLOAD = 45 * 1448;

// A TSO read as the kernel hands it over: virtio_net_hdr, then IPv4 + TCP (timestamps) + payload,
// the TCP checksum holding only the pseudo-header sum. It sits where msnld reads it (IP at 16).
const read = Buffer.alloc(HEADROOM + 52 + PAYLOAD);
const ip = HEADROOM;
read[ip] = 0x45;
read.writeUInt16BE(52 + PAYLOAD, ip + 2);
read[ip + 8] = 64;
read[ip + 9] = 6;
read.writeUInt32BE(0x0a000001, ip + 12);
read.writeUInt32BE(0x0a000002, ip + 16);
read.writeUInt16BE(internetChecksum(read, ip, 20), ip + 10);
read[ip + 32] = 0x80;
read[ip + 33] = 0x10;
for (let i = 0; i < PAYLOAD; i++) read[ip + 52 + i] = (i * 31 + 7) & 0xff;
writeVnetHeader(read, ip - VNET_HDR_LEN, VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 52, 1448, 20, 16);
const readLength = VNET_HDR_LEN + 52 + PAYLOAD;

function timed(label: string, octetsPerRound: number, segmentsPerRound: number, round: () => void): void {
  for (let i = 0; i < 200; i++) round(); // warm up: let V8 optimise
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 50; i++) round();
    rounds += 50;
    now = process.hrtime.bigint();
  }
  const s = Number(now - t0) / 1e9;
  console.log(`${label.padEnd(34)} ${((rounds * segmentsPerRound) / s / 1e3).toFixed(0).padStart(6)}k segments/s  ${((rounds * octetsPerRound) / s / 1e6).toFixed(0).padStart(5)} MB/s`);
}

// Split: every segment into its own read buffer (headroom + ms0's MTU), as msnld's tunnel gets them.
const splitter = new GsoSplitter();
const bufs = Array.from({ length: 64 }, () => new Uint8Array(HEADROOM + 1500));
const segments: Buffer[] = [];
const slab = Buffer.alloc(64 * 2048);
splitter.load(read, ip - VNET_HDR_LEN, readLength, 1456, 1500);
for (let n = splitter.next(bufs[0]!, HEADROOM); n > 0; n = splitter.next(bufs[0]!, HEADROOM)) segments.push(Buffer.from(bufs[0]!.subarray(HEADROOM, HEADROOM + n)));
let emitted = 0;
timed('split 64 KiB into 1456-octet segs', PAYLOAD, segments.length, () => {
  splitter.load(read, ip - VNET_HDR_LEN, readLength, 1456, 1500);
  for (let i = 0; splitter.next(bufs[i]!, HEADROOM) > 0; i++) emitted++;
});

// Coalesce: the segments as they sit in the receive slab (one per 2 KiB slot, after the MSNL header).
for (const [i, s] of segments.entries()) s.copy(slab, i * 2048 + HEADROOM);
let writes = 0;
const coalescer = new GroCoalescer(() => {
  writes++;
  return true;
});
timed('coalesce them back into one write', PAYLOAD, segments.length, () => {
  for (let i = 0; i < segments.length; i++) coalescer.push(slab, i * 2048 + HEADROOM, segments[i]!.length);
  coalescer.flush();
});

const target = Buffer.alloc(70_000);
timed('memcpy of the same octets (floor)', PAYLOAD, segments.length, () => {
  for (let i = 0; i < segments.length; i++) slab.copy(target, HEADROOM + 52 + i * 1404, i * 2048 + HEADROOM + 52, i * 2048 + HEADROOM + segments[i]!.length);
});
if (emitted === 0 || writes === 0) throw new Error('nothing was split or written');
console.log(`(${segments.length} segments per 64 KiB read; one super-packet written per round: ${writes > 0 ? 'yes' : 'no'})`);
