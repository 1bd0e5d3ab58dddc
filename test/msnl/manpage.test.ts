import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_HEADER_SIZE, ECHO_HEADER_SIZE, MAX_PROBE_INTERVAL_MS, PEER_INTERVAL_TOLERANCE, PROBE_SIZE, Reason, reasonName, RESET_SIZE, SIGNAL_SIZE } from '../../src/msnl/constants.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../../src/msnl/types.js';
import { ACK_PROBE_SIZE, ASK_REPLY_SIZE } from '../../src/msnl/wire.js';

// dist/test/msnl -> repository root
const page = readFileSync(path.join(__dirname, '..', '..', '..', 'man', 'msnl.7'), 'utf8');

test('msnl(7) lists every reason code with the name the code prints', () => {
  for (const code of Object.values(Reason)) {
    assert.match(page, new RegExp(`^\\.It ${code} Ta ${reasonName(code)} Ta `, 'm'), `reason ${code}`);
  }
});

test('msnl(7) lists the historic command codes and the sizes the codec uses', () => {
  for (const [type, name] of [[0, 'connect request'], [1, 'connect confirm'], [2, 'disconnect'], [3, 'wait'], [4, 'redirect']] as const) {
    assert.match(page, new RegExp(`^\\.It ${type} Ta ${name}$`, 'm'));
  }
  assert.match(page, /one layout of exactly 36 octets/);
  assert.match(page, /The header is 16 octets/);
  assert.match(page, /The reset is 8 octets/);
});

test('msnl(7) gives the secure framing with the sizes, types and constants the code uses', async () => {
  const wire = await import('../../src/msnl/secure-wire.js');
  const { PROLOGUE } = await import('../../src/msnl/secure.js');
  const { REPLAY_WINDOW } = await import('../../src/crypto/replay.js');
  const { DEFAULT_ENDPOINT_CONFIG } = await import('../../src/msnl/types.js');
  assert.match(page, new RegExp(`^Type 11, exactly ${wire.INIT_SIZE} octets`, 'm'));
  assert.match(page, new RegExp(`^Type 12, exactly ${wire.RESPONSE_SIZE} octets`, 'm'));
  assert.match(page, new RegExp(`^\\.It 4 Ta 4 Ta receiver index: the initiation's sender index$`, 'm'));
  assert.match(page, new RegExp(`^Type 14, at least ${wire.SEAL_OVERHEAD + 4} octets:$`, 'm'));
  for (const [type, name] of [[11, 'handshake initiation'], [12, 'handshake response'], [13, 'cookie reply'], [14, 'sealed frame']] as const) {
    assert.equal(wire.SecureType[name === 'handshake initiation' ? 'HANDSHAKE_INIT' : name === 'handshake response' ? 'HANDSHAKE_RESPONSE' : name === 'cookie reply' ? 'COOKIE_REPLY' : 'SEALED'], type);
    assert.match(page, new RegExp(`^\\.It ${type} Ta ${name} \\(secure MSNL\\)$`, 'm'));
  }
  assert.ok(page.includes(`h  = HASH(h || "${new TextDecoder().decode(PROLOGUE)}")`));
  assert.ok(page.includes(`the last ${REPLAY_WINDOW} counters`));
  assert.ok(page.includes(`keys are ${DEFAULT_ENDPOINT_CONFIG.rekeyAfterMs / 1000} s`));
  assert.ok(page.includes(`more than ${DEFAULT_ENDPOINT_CONFIG.handshakeLoadPerSecond} initiations in a second`));
});

test('msnl(7) gives the timers msnld runs with', () => {
  const flat = page.replace(/\n/g, ' ');
  const c = DEFAULT_ENDPOINT_CONFIG;
  assert.ok(c.probeIntervalMs <= MAX_PROBE_INTERVAL_MS, 'msnld probes at least as often as the page demands');
  assert.match(flat, new RegExp(`at least every ${MAX_PROBE_INTERVAL_MS / 1000} s`));
  assert.match(flat, new RegExp(`msnld sends one every ${c.probeIntervalMs / 1000} s`));
  assert.match(flat, new RegExp(`within ${PEER_INTERVAL_TOLERANCE} times the peer's probe interval: the gap between the peer's last two probes`));
  assert.match(flat, new RegExp(`never less than ${PEER_INTERVAL_TOLERANCE} of its own probe intervals`));
  assert.match(flat, new RegExp(`an asked interval over ${MAX_PROBE_INTERVAL_MS} counts as ${MAX_PROBE_INTERVAL_MS}`));
  assert.match(flat, new RegExp(`\\(${c.healthWindowMs / 1000} s for msnld\\)`));
  assert.match(flat, new RegExp(`more than ${c.probesPerSecond} probes a second together`));
  assert.match(flat, new RegExp(`for ${c.deadMs / 1000} s is released with reason 9`));
  assert.match(flat, new RegExp(`given up, and gives up after ${c.connectTimeoutMs / 1000} s|gives up after ${c.connectTimeoutMs / 1000} s`));
});

test('msnl(7) has the per-type length table the codec enforces', () => {
  assert.match(page, new RegExp(`^\\.It 0-4 Ta signalling Ta exactly ${SIGNAL_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 5 Ta reset Ta exactly ${RESET_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 6, 7 Ta echo Ta at least ${ECHO_HEADER_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 8, 9 Ta probe, exit probe \\(codes 0, 2\\), every reply but code 4's Ta exactly ${PROBE_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 8 Ta acknowledging or asking probe \\(code 3, 4\\) Ta exactly ${ACK_PROBE_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 9 Ta asking probe's reply \\(code 4\\) Ta exactly ${ASK_REPLY_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 8 Ta size probe \\(code 1\\) Ta at least ${PROBE_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 10 Ta data Ta at least ${DATA_HEADER_SIZE + 1}$`, 'm'));
});

test('msnl(7) EXAMPLES: the probe, size probe, exit probe, acknowledging and asking probe lines are what the codec makes, and decode as such', async () => {
  const { decodeMessage, encodeAckProbe, encodeAskProbe, encodeAskReply, encodeExitProbe, encodeProbe, encodeSizeProbe, NO_ACK } = await import('../../src/msnl/wire.js');
  const examples = page.slice(page.indexOf('.Sh EXAMPLES'), page.indexOf('.Sh SEE ALSO'));
  const lines = [...examples.matchAll(/^[A-Z?]>[A-Z?] ((?:[0-9a-f]{8} ?)+)/gm)].map((m) => m[1]!.replace(/ /g, ''));
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  assert.equal(lines.length, 21, 'the worked exchange has 21 datagrams');
  assert.equal(lines[2], hex(encodeProbe(8, 0x22222222, 0, 0x12345)));
  assert.equal(lines[3], hex(encodeProbe(9, 0x11111111, 0, 0x12345)));
  assert.equal(lines[4], hex(encodeSizeProbe(false, 0x22222222, 1, 0x12731)), 'the size probe, its padding not shown');
  assert.equal(lines[5], hex(encodeSizeProbe(true, 0x11111111, 1, 0x12731)));
  assert.equal(lines[6], hex(encodeExitProbe(false, 0x11111111, 9, 0x2a000)));
  assert.equal(lines[7], hex(encodeExitProbe(true, 0x22222222, 9, 0x2a000)));
  for (const [i, reply] of [[6, false], [7, true]] as const) {
    const decoded = decodeMessage(Buffer.from(lines[i]!, 'hex'));
    assert.ok(decoded.ok && 'exit' in decoded.msg && decoded.msg.exit === true && decoded.msg.type === (reply ? 9 : 8) && decoded.msg.seq === 9, JSON.stringify(decoded));
  }
  assert.equal(lines[15], hex(encodeAckProbe(0x22222222, 0, 0x12345, 0, NO_ACK)), 'an acknowledging probe that acknowledges nothing yet');
  assert.equal(lines[16], hex(encodeAckProbe(0x22222222, 5, 0x13000, 4, 1999)));
  const reply = encodeProbe(9, 0x11111111, 5, 0x13000);
  reply[3] = 3;
  assert.equal(lines[17], hex(reply), 'its reply: 16 octets, code 3');
  const acking = decodeMessage(Buffer.from(lines[16]!, 'hex'));
  assert.ok(acking.ok && acking.msg.type === 8 && 'acking' in acking.msg && acking.msg.acking === true && acking.msg.ackSeq === 4 && acking.msg.holdMs === 1999, JSON.stringify(acking));
  const answer = decodeMessage(Buffer.from(lines[17]!, 'hex'));
  assert.ok(answer.ok && answer.msg.type === 9 && 'acking' in answer.msg && answer.msg.acking === true && answer.msg.seq === 5, JSON.stringify(answer));
  // The asking probe (code 4, laid out as code 3), its 20-octet reply asking for 5000 ms, and the
  // next asking probe 5 s later.
  assert.equal(lines[18], hex(encodeAskProbe(0x22222222, 6, 0x137d0, 5, 2000)));
  assert.equal(lines[19], hex(encodeAskReply(0x11111111, 6, 0x137d0, 5000)));
  assert.equal(lines[20], hex(encodeAskProbe(0x22222222, 7, 0x137d0 + 5000, 6, 5000)));
  const asked = decodeMessage(Buffer.from(lines[19]!, 'hex'));
  assert.ok(asked.ok && asked.msg.type === 9 && 'askMs' in asked.msg && asked.msg.askMs === 5000 && asked.msg.seq === 6, JSON.stringify(asked));
  assert.equal(decodeMessage(Buffer.from(lines[19]!.slice(0, 32), 'hex')).ok, false, 'a code-4 reply of 16 octets is malformed');
  assert.equal(decodeMessage(Buffer.from(`01080005${lines[16]!.slice(8)}`, 'hex')).ok, false, 'code 5 is malformed');
  // The page's malformed cases: a padded exit probe, a probe with a code the page does not give,
  // and an acknowledging probe of 16 (a plain probe's length) or 28 octets.
  assert.equal(decodeMessage(Buffer.concat([Buffer.from(lines[6]!, 'hex'), Buffer.alloc(4)])).ok, false);
  assert.equal(decodeMessage(Buffer.from(`01080004${lines[6]!.slice(8)}`, 'hex')).ok, false);
  assert.equal(decodeMessage(Buffer.from(`01080003${lines[6]!.slice(8)}`, 'hex')).ok, false);
  assert.equal(decodeMessage(Buffer.concat([Buffer.from(lines[16]!, 'hex'), Buffer.alloc(4)])).ok, false);
});
