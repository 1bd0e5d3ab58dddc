// VnetFraming's reads: a read that comes back short (the device drained) is the last of a
// readBatch call: a second read would be a system call that finds nothing (on a sending msnld
// with 64-octet packets it was one io_uring_enter of three per wake-up, bench/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VnetFraming } from '../../src/tun/offload-framing.js';
import { VNET_HDR_LEN, VnetGso, writeVnetHeader } from '../../src/tun/offload.js';
import { tcpPacket } from '../helpers/packets.js';

const BATCH = 4;

/** A FrameIo over a queue of frames, counting its reads. */
function queueIo(): { io: ConstructorParameters<typeof VnetFraming>[0]; queue: Uint8Array[]; reads: number[] } {
  const queue: Uint8Array[] = [];
  const reads: number[] = [];
  const io = {
    readFrames: (bufs: readonly Uint8Array[], sizes: Int32Array): number => {
      let n = 0;
      while (n < bufs.length && queue.length > 0) {
        const frame = queue.shift()!;
        bufs[n]!.set(frame, 0);
        sizes[n++] = frame.length;
      }
      reads.push(n);
      return n;
    },
    writeFrame: (): boolean => true,
  };
  return { io, queue, reads };
}

function frame(seq: number): Uint8Array {
  const packet = tcpPacket(0x0a000001, 0x0a000002, seq, new Uint8Array(32).fill(seq & 0xff));
  const out = new Uint8Array(VNET_HDR_LEN + packet.length);
  writeVnetHeader(out, 0, 0, VnetGso.NONE, 0, 0, 0, 0);
  out.set(packet, VNET_HDR_LEN);
  return out;
}

function buffers(n: number): { bufs: Uint8Array[]; sizes: Int32Array } {
  return { bufs: Array.from({ length: n }, () => new Uint8Array(2048)), sizes: new Int32Array(n) };
}

test('a short read ends the readBatch call: no second read to find the device empty', () => {
  const { io, queue, reads } = queueIo();
  const framing = new VnetFraming(io, BATCH);
  for (let i = 0; i < 3; i++) queue.push(frame(i));
  const { bufs, sizes } = buffers(16);
  assert.equal(framing.readBatch(bufs, sizes, 0, 1500), 3);
  assert.deepEqual(reads, [3], 'one read of 3 frames (fewer than the batch of 4), and no other');
  assert.equal(framing.pending, false);
});

test('full reads go on until one comes back short, and the packets come out in order', () => {
  const { io, queue, reads } = queueIo();
  const framing = new VnetFraming(io, BATCH);
  for (let i = 0; i < 10; i++) queue.push(frame(i));
  const { bufs, sizes } = buffers(16);
  assert.equal(framing.readBatch(bufs, sizes, 0, 1500), 10);
  assert.deepEqual(reads, [4, 4, 2]);
  for (let i = 0; i < 10; i++) assert.equal(bufs[i]![24 + 32 - 1], i, `packet ${i} in place ${i}`);
  // The next call reads again (the device may have more by then), and an empty read returns 0.
  assert.equal(framing.readBatch(bufs, sizes, 0, 1500), 0);
  assert.deepEqual(reads, [4, 4, 2, 0]);
});

test('with fewer buffers than frames read, the rest are handed out by the next call without a read', () => {
  const { io, queue, reads } = queueIo();
  const framing = new VnetFraming(io, BATCH);
  for (let i = 0; i < 3; i++) queue.push(frame(i));
  const { bufs, sizes } = buffers(2);
  assert.equal(framing.readBatch(bufs, sizes, 0, 1500), 2);
  assert.equal(framing.pending, true);
  assert.equal(framing.readBatch(bufs, sizes, 0, 1500), 1, 'the frame left over, then the drained read is not repeated');
  assert.deepEqual(reads, [3]);
});
