import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_HEADER_SIZE, ECHO_HEADER_SIZE, MAX_PROBE_INTERVAL_MS, PEER_INTERVAL_TOLERANCE, PROBE_SIZE, Reason, reasonName, RESET_SIZE, SIGNAL_SIZE } from '../../src/msnl/constants.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../../src/msnl/types.js';

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
  assert.match(flat, new RegExp(`within ${PEER_INTERVAL_TOLERANCE} times the gap between the peer's last two probes`));
  assert.match(flat, new RegExp(`\\(${c.healthWindowMs / 1000} s for msnld\\)`));
  assert.match(flat, new RegExp(`more than ${c.probesPerSecond} probes a second together`));
  assert.match(flat, new RegExp(`for ${c.deadMs / 1000} s is released with reason 9`));
  assert.match(flat, new RegExp(`given up, and gives up after ${c.connectTimeoutMs / 1000} s|gives up after ${c.connectTimeoutMs / 1000} s`));
});

test('msnl(7) has the per-type length table the codec enforces', () => {
  assert.match(page, new RegExp(`^\\.It 0-4 Ta signalling Ta exactly ${SIGNAL_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 5 Ta reset Ta exactly ${RESET_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 6, 7 Ta echo Ta at least ${ECHO_HEADER_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 8, 9 Ta probe Ta exactly ${PROBE_SIZE}$`, 'm'));
  assert.match(page, new RegExp(`^\\.It 10 Ta data Ta at least ${DATA_HEADER_SIZE + 1}$`, 'm'));
});
