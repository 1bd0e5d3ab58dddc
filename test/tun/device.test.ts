// Root suite: real TUN devices, each test in a network namespace it creates and removes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addonCandidates } from '../../src/tun/native.js';
import { requireRoot } from '../helpers/root.js';
import { runInNetns } from './netns.js';

const A_10_77_0_1 = 0x0a4d0001;

test('ms0 with MTU 1500 and 10.77.0.1/24: ping makes a packet readable, our echo reply answers it, close removes it', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('ping');
  assert.equal(r.error, undefined);
  assert.equal(r.requests, 1, 'one echo request read from ms0');
  assert.equal(r.replies, 1, 'one echo reply written to ms0');
  assert.equal(r.pingExit, 0, `ping failed: ${String(r.pingOutput)}`);
  assert.match(String(r.pingOutput), /1 received/);
  assert.equal(r.mtu, 1500);
  assert.deepEqual(r.address, { address: A_10_77_0_1, prefixLength: 24 });
  assert.equal(r.up, true);
  assert.ok(typeof r.ifindex === 'number' && r.ifindex > 0);
  const stats = r.stats as Record<string, number>;
  assert.ok((stats.rxPackets ?? 0) >= 1, 'the kernel counted our written reply');
  assert.ok((stats.txPackets ?? 0) >= 1, 'the kernel counted the request it sent us');
  assert.equal(r.existsBeforeClose, true);
  assert.equal(r.existsAfterClose, false);
});

test('UDP datagrams written into an offloading ms0 are joined into UDP_L4 super-packets and arrive as the same datagrams, in order', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('udp-gro');
  assert.equal(r.error, undefined);
  assert.equal(r.offload, true, 'the kernel took TUN offload');
  // Linux 6.2+ takes UDP_L4 super-packets (TUN_F_USO4); older kernels get every datagram on its own.
  const [major = 0, minor = 0] = os.release().split('.').map(Number);
  const uso = major > 6 || (major === 6 && minor >= 2);
  assert.equal(r.udpSegmentation, uso, `kernel ${os.release()}`);
  assert.equal(r.written, 43);
  assert.equal(r.received, 43, 'every datagram reached the socket');
  assert.equal(r.inOrder, true, 'with its payload and length, in order');
  assert.equal(r.superPacketsWritten, uso ? 1 : 0, 'the 40 with consecutive identifiers went as one write');
  assert.equal(r.segmentsJoined, uso ? 40 : 0);
});

for (const mode of ['slab-read', 'slab-read-plain']) {
  const how = mode === 'slab-read' ? 'through io_uring' : 'one read() each';
  test(`an offloading ms0 reads its frames in one slab (readSlab, ${how}): 100 datagrams of 1..100 octets arrive whole and in order; bad arguments throw TypeError; a closed fd gives -EBADF`, (t) => {
    if (!requireRoot(t)) return;
    const r = runInNetns(mode);
    assert.equal(r.error, undefined);
    assert.equal(r.received, 100);
    assert.equal(r.inOrder, true, 'lengths 1..100 in order');
    assert.equal(r.intact, true, 'every payload octet as sent');
    assert.deepEqual(r.refusals, ['TypeError', 'TypeError', 'TypeError']);
    assert.equal(r.empty, 0, 'a drained device reads nothing');
    assert.equal(r.tooShort, 0, 'a slab shorter than one stride holds no packet');
    assert.equal(r.closed, -9, 'EBADF');
    // The ring path must really have run where the kernel allows io_uring, not fallen back.
    let disabled = '1';
    try {
      disabled = fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
    } catch {
      // no such sysctl: a kernel without io_uring
    }
    if (mode === 'slab-read' && disabled === '0') assert.equal(r.ringUsable, true, 'io_uring reads usable on this kernel');
  });
}

test('with UV_THREADPOOL_SIZE=4 and ms0..ms3 open and idle, fs.promises.readFile completes within a second', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('threadpool', { UV_THREADPOOL_SIZE: '4' });
  assert.equal(r.error, undefined);
  assert.equal(r.threadpool, '4');
  assert.equal(r.completed, true);
});

test('control: the blocking design (an fs.read loop per device) starves readFile, so the test above can fail', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('threadpool-blocking', { UV_THREADPOOL_SIZE: '4' });
  assert.equal(r.error, undefined);
  assert.equal(r.completed, false);
});

test('the address monitor reports `ip addr add` and `ip addr del` on ms0', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('addr');
  assert.equal(r.error, undefined);
  const expected = { ifindex: r.ifindex, ifname: 'ms0', address: 0x0a4d0009, prefixLength: 24 };
  assert.deepEqual(r.added, { kind: 'added', ...expected });
  assert.deepEqual(r.removed, { kind: 'removed', ...expected });
});

/** Makes every directory under `dir` 0755 and every file 0644 (the addon 0755). */
function openToAll(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) openToAll(full);
    else fs.chmodSync(full, entry.name.endsWith('.node') ? 0o755 : 0o644);
  }
}

/**
 * A copy of what the unprivileged child needs (compiled sources, the fixture, the addon) in a
 * fresh directory under the system's temp dir that anyone can read: the clone itself may sit in
 * a directory uid 65534 cannot enter, such as root's 0700 home. The caller removes it.
 */
function copyForNobody(): string {
  const dist = path.resolve(__dirname, '..', '..');
  const addon = addonCandidates().find((file) => fs.existsSync(file));
  if (addon === undefined) throw new Error(`no built addon; tried ${addonCandidates().join(', ')}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-nobody-'));
  fs.cpSync(path.join(dist, 'src'), path.join(root, 'dist', 'src'), { recursive: true });
  fs.cpSync(path.join(__dirname, 'fixtures'), path.join(root, 'dist', 'test', 'tun', 'fixtures'), { recursive: true });
  fs.mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(addon, path.join(root, 'build', 'Release', 'msnl_tun.node'));
  openToAll(root);
  return root;
}

test('creating a TUN device without CAP_NET_ADMIN names the device and the cause', (t) => {
  if (!requireRoot(t)) return;
  // An unprivileged child: TUNSETIFF fails before anything is created, so the host is untouched.
  const copy = copyForNobody();
  try {
    const child = path.join(copy, 'dist', 'test', 'tun', 'fixtures', 'ns-child.js');
    const run = spawnSync(process.execPath, [child, 'create'], { encoding: 'utf8', timeout: 20_000, uid: 65534, gid: 65534, cwd: copy });
    const r = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    assert.equal(r.error, 'creating ms0 needs CAP_NET_ADMIN (run as root)', `child exit ${String(run.status)}: ${run.stderr}`);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('pollNow on an offloading ms0 runs the readable callback at once: it reads nothing when nothing waits, the waiting datagram without a turn of the event loop, and nothing once closed', (t) => {
  if (!requireRoot(t)) return;
  const r = runInNetns('poll-now');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.idle, [{ polled: true, read: 0 }], 'one callback, nothing read');
  assert.equal(r.readByPoll, 1, 'the datagram sent to 10.77.0.2 was read by pollNow');
  assert.equal(r.readByEvents, 0, 'no readable event ran in between');
  assert.equal(r.callsAfterClose, 0, 'a closed device runs no callback');
});
