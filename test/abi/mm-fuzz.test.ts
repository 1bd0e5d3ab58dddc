// Seeded fuzz: random and mutated inputs never make the decoders throw, and whatever decodes
// re-encodes to the very same bytes (the codec is a bijection on valid messages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MM_LENGTH, MmType, type MmTypeName } from '../../src/abi/constants.js';
import { DecodeError } from '../../src/abi/decode-error.js';
import { decodeMm, encodeMm, type MmMessage } from '../../src/abi/mm.js';
import { decodeSockaddrIn, decodeSockaddrMsnl } from '../../src/abi/sockaddr.js';
import { seededRandom } from '../../src/base/random.js';

/** Deterministic, so a failure reproduces from the seed. */
function rng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.u32();
}

const NAMES = Object.keys(MmType) as MmTypeName[];

function validSeed(next: () => number, name: MmTypeName): Buffer {
  // A syntactically valid message of the type: header, then zero fields with AF-correct sockaddrs.
  const b = Buffer.alloc(MM_LENGTH[name]);
  b.writeUInt16BE(MmType[name], 0);
  b.writeUInt16BE(b.length, 2);
  for (let at = 4; at + 4 <= b.length; at += 4) b.writeUInt32BE(next() % 4 === 0 ? next() : next() % 8, at);
  const sin = { MMUP_CONNECT: 12, MMDOWN_NEWCONN: 12, MMDOWN_CONNECTED: 16, MMDOWN_REFUSED: 16 } as Partial<Record<MmTypeName, number>>;
  const sms = { MMUP_BIND: 8, MMUP_ASSOCBAD: 8 } as Partial<Record<MmTypeName, number>>;
  const si = sin[name];
  if (si !== undefined) {
    b.writeUInt32BE(0x00020000, si);
    b.writeUInt32BE(0, si + 12);
  }
  const ms = sms[name];
  if (ms !== undefined) b.writeUInt32BE(0x4d530000, ms);
  if (name === 'MMDOWN_ERROR') {
    b.writeUInt32BE(MmType.MMUP_CONNECT << 16, 12);
    b.writeUInt32BE(22, 16);
  }
  return b;
}

test('decoders never throw on 120 000 random and mutated inputs; accepted ones re-encode exactly', () => {
  const next = rng(0x6d736e6c);
  const out = Buffer.alloc(64);
  let accepted = 0;
  let rejected = 0;
  const acceptedTypes = new Set<string>();
  for (let i = 0; i < 120_000; i++) {
    let input: Buffer;
    if (i % 3 === 0) {
      // Pure noise, 0..40 octets, sometimes with a plausible header.
      input = Buffer.alloc(next() % 41);
      for (let j = 0; j < input.length; j++) input[j] = next() & 0xff;
      if (input.length >= 4 && next() % 2 === 0) {
        const name = NAMES[next() % NAMES.length]!;
        input.writeUInt16BE(MmType[name], 0);
        input.writeUInt16BE(next() % 2 === 0 ? MM_LENGTH[name] : input.length, 2);
      }
    } else {
      // A valid message of a random type, then 0..3 mutations: flip an octet, truncate or extend.
      input = validSeed(next, NAMES[next() % NAMES.length]!);
      const mutations = next() % 4;
      for (let m = 0; m < mutations; m++) {
        const kind = next() % 5;
        if (kind <= 2 && input.length > 0) {
          const at = next() % input.length;
          input[at] = input[at]! ^ (1 << next() % 8);
        }
        else if (kind === 3) input = input.subarray(0, next() % (input.length + 1));
        else input = Buffer.concat([input, Buffer.from([next() & 0xff])]);
      }
    }
    let result: MmMessage | DecodeError;
    try {
      result = decodeMm(input);
      decodeSockaddrIn(input);
      decodeSockaddrMsnl(input);
    } catch (err) {
      assert.fail(`decoder threw on ${input.toString('hex')} (iteration ${i}): ${String(err)}`);
    }
    if (result instanceof DecodeError) {
      rejected++;
      assert.ok(result.offset >= 0 && result.offset < Math.max(input.length, 4), `error offset in range for ${input.toString('hex')}`);
      continue;
    }
    accepted++;
    acceptedTypes.add(result.type);
    const n = encodeMm(result, out, 0);
    assert.equal(n, input.length);
    assert.ok(out.subarray(0, n).equals(input), `re-encoding ${result.type} reproduces ${input.toString('hex')}`);
  }
  // The fuzz must exercise both sides: many accepts of every type and many rejects.
  assert.equal(acceptedTypes.size, NAMES.length);
  assert.ok(accepted > 10_000, `accepted ${accepted}`);
  assert.ok(rejected > 10_000, `rejected ${rejected}`);
});
