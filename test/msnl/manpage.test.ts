import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Reason, reasonName } from '../../src/msnl/constants.js';

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
