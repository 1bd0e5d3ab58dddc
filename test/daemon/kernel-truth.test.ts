// One truth with the kernel: an address set on ms1 behind msnl's back (`ip addr add` + `ip link set
// up`, here straight on the fake TUN) is bound, shown as the kernel state beside the stored one,
// and never reverted by `msnl reload` nor rebound by an unrelated table edit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonControl } from '../../src/daemon/control-handler.js';
import { Lab, ip, prefix, until } from './harness.js';

test('an address set with ip on ms1 is bound, shown by the control rows, and survives reload and an unrelated map add', async () => {
  const lab = new Lab();
  try {
    const store = lab.store('hostA', '128.232.0.1');
    const A = await lab.start('hostA', '128.232.0.1', store);
    const ms1 = A.devices.get('ms1')!;
    const control = new DaemonControl(A.daemon);
    // `ip addr add 10.1.0.1/24 dev ms1; ip link set ms1 up`
    ms1.setAddress(ip('10.1.0.1'), 24);
    ms1.setUp(true);
    A.daemon.refreshDevices();
    assert.equal(A.daemon.tunnels[1]!.isBound, true, 'msnld binds what the kernel has');
    const row = control.interfaces().find((r) => r.interface === 'ms1')!;
    assert.equal(row.address, '10.1.0.1/24');
    assert.equal(row.admin_up, true);

    const binds = (): number => A.logs.filter((line) => /ms1: (bound|unbound)/.test(line)).length;
    const before = binds();
    await A.daemon.reconcile(true); // msnl reload
    assert.equal(ms1.isUp(), true, 'reload leaves the interface up');
    assert.deepEqual(ms1.getAddress(), { address: ip('10.1.0.1'), prefixLength: 24 });
    store.addMapping({ prefix: prefix('10.9.0.0/16'), msnlAddress: ip('128.232.0.9') }); // unrelated
    await until('the daemon read the mapping', () => A.daemon.view.msnlAddressOf(ip('10.9.1.1')) === ip('128.232.0.9'));
    await new Promise((resolve) => setTimeout(resolve, 1200)); // one device refresh period
    assert.equal(A.daemon.tunnels[1]!.isBound, true);
    assert.equal(binds(), before, `no unbind/rebind of ms1:\n${A.logs.join('\n')}`);
  } finally {
    await lab.close();
  }
});

test('an interface msnl configures: an ip change stays until reload, which logs what it replaces; ip addr flush shows at once', async () => {
  const lab = new Lab();
  try {
    const store = lab.store('hostA', '128.232.0.1');
    store.setInterfaceAddress('ms0', { address: ip('10.0.0.1'), length: 24 }, true);
    const A = await lab.start('hostA', '128.232.0.1', store);
    const ms0 = A.devices.get('ms0')!;
    const control = new DaemonControl(A.daemon);
    assert.deepEqual(ms0.getAddress(), { address: ip('10.0.0.1'), prefixLength: 24 });
    ms0.setAddress(ip('10.0.0.5'), 24); // ip addr replace, behind msnl's back
    store.addMapping({ prefix: prefix('10.9.0.0/16'), msnlAddress: ip('128.232.0.9') });
    await until('the daemon read the mapping', () => A.daemon.view.msnlAddressOf(ip('10.9.1.1')) === ip('128.232.0.9'));
    assert.deepEqual(ms0.getAddress(), { address: ip('10.0.0.5'), prefixLength: 24 }, 'a table edit does not revert it');
    assert.equal(control.interfaces().find((r) => r.interface === 'ms0')!.address, '10.0.0.5/24');
    await A.daemon.reconcile(true);
    assert.deepEqual(ms0.getAddress(), { address: ip('10.0.0.1'), prefixLength: 24 }, 'reload applies the stored state');
    assert.ok(A.logs.some((line) => line.includes("ms0: replacing the kernel's address 10.0.0.5/24 with the stored 10.0.0.1/24")), A.logs.join('\n'));
    ms0.removeAddress(); // ip addr flush
    assert.equal(control.interfaces().find((r) => r.interface === 'ms0')!.address, null, 'the control row reads the kernel');
  } finally {
    await lab.close();
  }
});
