// The shipped systemd/msnld.service: its keys say what msnld(8) promises (msnld from PATH in the
// foreground with no setting overridden, Type=notify, SIGHUP reload, msnld's default directories,
// capability hardening), and `systemd-analyze verify` accepts it without a single warning (it
// exits 0 even on an unknown key, so the test asserts silence). ExecStart is pointed at this
// checkout's msnld for the check, since verify looks the command up on systemd's own PATH.
// test/package/install.test.ts verifies the installed copy against the installed msnld and man pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNLD } from '../../src/demo/topology.js';
import { parseUnit, UNIT, verifyUnit } from './unit-file.js';

test('msnld.service: msnld from PATH in the foreground, Type=notify, SIGHUP reload, default directories, hardening', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service');
  assert.ok(service, 'a [Service] section');
  const one = (key: string): string | undefined => service.get(key)?.[0];
  assert.equal(one('ExecStart'), 'msnld --foreground', 'no --listen/--address: the database holds the settings');
  assert.equal(one('Type'), 'notify');
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('StateDirectory'), 'msnl', 'msnld defaults to /var/lib/msnl/msnl.db');
  assert.equal(one('RuntimeDirectory'), 'msnl', 'msnld defaults to /run/msnl/msnld.sock');
  assert.deepEqual(one('CapabilityBoundingSet')?.split(' ').sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('DeviceAllow'), '/dev/net/tun rw');
  assert.equal(service.get('PrivateDevices'), undefined, 'PrivateDevices would hide /dev/net/tun');
  assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
  assert.match(unit.get('Unit')?.get('Documentation')?.[0] ?? '', /man:msnld\(8\)/);
});

test('systemd-analyze verify accepts msnld.service without a warning, and does warn on a broken copy', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(UNIT, 'utf8').replace(/^ExecStart=msnld /m, `ExecStart=${process.execPath} ${MSNLD} `);
  writeFileSync(path.join(dir, 'msnld.service'), text);
  const good = verifyUnit(path.join(dir, 'msnld.service'));
  assert.deepEqual(good, { code: 0, output: '' });
  writeFileSync(path.join(dir, 'broken.service'), text.replace('Type=notify', 'Type=notfy'));
  const broken = verifyUnit(path.join(dir, 'broken.service'));
  assert.match(broken.output, /Failed to parse service type/);
});
