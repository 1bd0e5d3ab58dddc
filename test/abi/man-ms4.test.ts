// ms(4) documents the ABI byte by byte; this keeps the page and the constants from drifting apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AF_MSNL, MM_LENGTH, MmReason, MmType, type MmReasonName, type MmTypeName } from '../../src/abi/constants.js';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { unreachCodeForReason } from '../../src/tunnel/ipv4-packet.js';

// Compiled to dist/test/abi, so the repository root is three levels up.
const page = readFileSync(path.resolve(__dirname, '../../../man/ms.4'), 'utf8');

test('ms(4) lists every manager message with its type number and length', () => {
  for (const name of Object.keys(MmType) as MmTypeName[]) {
    const line = `.It Dv ${name} No 0x${MmType[name].toString(16).padStart(4, '0')}, ${MM_LENGTH[name]} octets`;
    assert.ok(page.includes(line), `missing: ${line}`);
  }
});

test('ms(4) lists every reason code with the ICMP code the tunnel uses', () => {
  for (const name of Object.keys(MmReason) as MmReasonName[]) {
    const line = `.It ${name} Ta ${MmReason[name]} Ta ${unreachCodeForReason(MmReason[name])} Ta `;
    assert.ok(page.includes(line), `missing: ${line}`);
  }
});

test('ms(4) gives AF_MSNL and the interface table', () => {
  assert.ok(page.includes(`AF_MSNL (0x${AF_MSNL.toString(16)})`));
  for (const spec of TUNNEL_INTERFACES) {
    const line = `.It ${spec.name} Ta ${spec.mtu} Ta 0x${spec.port.toString(16).padStart(8, '0')}`;
    assert.ok(page.includes(line), `missing: ${line}`);
  }
});
