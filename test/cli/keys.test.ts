// Host keys and keyed routes through the CLI: generate, import, show (never the private key), the
// database mode after a key is stored, and route add with key PUBKEY or auth none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/primitives.js';
import { formatKey } from '../../src/crypto/keys.js';
import { openStore } from '../../src/store/store.js';
import { sandbox, type CliResult } from '../helpers/cli.js';

function ok(result: CliResult): string {
  assert.equal(result.status, 0, `expected success, stderr: ${result.stderr}`);
  return result.stdout;
}

function fails(result: CliResult, status: number, message: RegExp): void {
  assert.equal(result.status, status, `stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.match(result.stderr, message);
  assert.equal(result.stderr.includes('    at '), false);
}

const KEY = /^[A-Za-z0-9+/]{43}=$/;

test('host key generate prints the public key, stores the private one, and makes the database 0600', (t) => {
  const box = sandbox(t);
  ok(box.run(['host', 'set', 'address', '128.232.0.1'])); // the database exists first, with the default mode
  const printed = ok(box.run(['host', 'key', 'generate'])).trim();
  assert.match(printed, KEY);
  for (const file of [box.db, `${box.db}-wal`, `${box.db}-shm`]) {
    if (fs.existsSync(file)) assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is private`);
  }
  const shown = ok(box.run(['host', 'show']));
  assert.match(shown, new RegExp(`^public-key ${printed.replace(/[+/]/g, '\\$&')}$`, 'm'));
  assert.equal(JSON.parse(ok(box.run(['-j', 'host']))).public_key, printed);
  const store = openStore(box.db, { readonly: true });
  const priv = store.getPrivateKey()!;
  store.close();
  assert.equal(formatKey(publicKeyOf(priv)), printed);
  const privText = formatKey(priv);
  for (const args of [['host', 'show'], ['-j', 'host'], ['route', 'show']]) assert.ok(!ok(box.run(args)).includes(privText), `${args.join(' ')} printed the private key`);
  fails(box.run(['host', 'key', 'generate']), 1, /already has a key pair \(public key .+\); give --force/);
  assert.equal(ok(box.run(['-j', 'host'])).includes(printed), true, 'unchanged');
  const again = ok(box.run(['host', 'key', 'generate', '--force'])).trim();
  assert.notEqual(again, printed);
});

test('host set private-key reads a wg-style key from a file or stdin; a bad key changes nothing', (t) => {
  const box = sandbox(t);
  assert.match(ok(box.run(['host', 'show'])), /^public-key \(none\)$/m);
  const pair = generateKeyPair();
  ok(box.run(['host', 'set', 'private-key', '-'], `${formatKey(pair.privateKey)}\n`));
  assert.equal(JSON.parse(ok(box.run(['-j', 'host']))).public_key, formatKey(pair.publicKey));
  const file = `${box.dir}/key`;
  const other = generateKeyPair();
  fs.writeFileSync(file, formatKey(other.privateKey), { mode: 0o600 });
  ok(box.run(['host', 'set', 'private-key', file]));
  assert.equal(JSON.parse(ok(box.run(['-j', 'host']))).public_key, formatKey(other.publicKey));
  fails(box.run(['host', 'set', 'private-key', '-'], 'not a key\n'), 1, /^Error: -: the private key must be 32 octets in base64/m);
  fails(box.run(['host', 'set', 'private-key', `${box.dir}/missing`]), 2, /^Error: failed to read the private key from /m);
  assert.equal(JSON.parse(ok(box.run(['-j', 'host']))).public_key, formatKey(other.publicKey));
});

test('route add needs key PUBKEY or auth none; route show prints which', (t) => {
  const box = sandbox(t);
  const peer = formatKey(generateKeyPair().publicKey);
  fails(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994']), 1, /^Error: a route needs "key PUBKEY" .* or "auth none"/m);
  fails(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994', 'key', 'abc']), 1, /^Error: argument "abc" is wrong: the public key must be 32 octets in base64/m);
  fails(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994', 'auth', 'maybe']), 1, /expected "auth none"/);
  fails(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994', 'key', peer, 'extra']), 1, /unexpected "extra"/);
  assert.equal(ok(box.run(['route', 'show'])), '');
  ok(box.run(['route', 'add', '128.232.0.2', 'via', '192.0.2.2:1994', 'key', peer]));
  ok(box.run(['route', 'add', '128.233.0.0/16', 'via', '192.0.2.3:1994', 'auth', 'none']));
  assert.equal(ok(box.run(['route', 'show'])), `128.232.0.2/32 via 192.0.2.2:1994 key ${peer}\n128.233.0.0/16 via 192.0.2.3:1994 auth none\n`);
  const rows = JSON.parse(ok(box.run(['-j', 'route'])));
  assert.deepEqual(rows.map((r: { auth: string; public_key: string }) => [r.auth, r.public_key]), [['key', peer], ['none', '']]);
});
