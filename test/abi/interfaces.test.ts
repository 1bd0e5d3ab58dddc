import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TUNNEL_INTERFACES, interfaceByName, interfaceByPort } from '../../src/abi/interfaces.js';

test('ms0..ms3 carry the MTUs and ports of DESIGN section 2', () => {
  assert.deepEqual(
    TUNNEL_INTERFACES.map((s) => [s.name, s.mtu, s.port]),
    [
      ['ms0', 1500, 0x0800],
      ['ms1', 4470, 0x0801],
      ['ms2', 9180, 0x0802],
      ['ms3', 65535, 0x0803],
    ],
  );
});

test('lookups by name and port agree and reject others', () => {
  for (const spec of TUNNEL_INTERFACES) {
    assert.equal(interfaceByName(spec.name), spec);
    assert.equal(interfaceByPort(spec.port), spec);
  }
  assert.equal(interfaceByName('ms4'), undefined);
  assert.equal(interfaceByName('eth0'), undefined);
  assert.equal(interfaceByPort(0x0804), undefined);
});
