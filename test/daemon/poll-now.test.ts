import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/base/logger.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { MemoryHub, MemoryUnderlay, type MemoryPeer } from '../../src/msdl/memory.js';
import type { UnderlaySocket } from '../../src/msdl/underlay.js';
import { openStore } from '../../src/store/store.js';
import { createFakeTun } from '../../src/tun/fake.js';

test('Daemon.pollNow runs every device\'s and the underlay socket\'s read path once (msnld\'s warm-up calls it each turn), and nothing once stopped', async () => {
  const hub = new MemoryHub({ clock: { now: Date.now }, seed: 1, delayMs: 0, maxDatagram: 1472 });
  const memory = new MemoryUnderlay(hub);
  const polled: string[] = [];
  // The memory socket and fake devices have no read path to run: stand-ins count the calls.
  const underlay = Object.assign(Object.create(memory) as MemoryUnderlay, {
    open: async (...args: Parameters<MemoryUnderlay['open']>): Promise<UnderlaySocket<MemoryPeer>> => {
      const socket = await memory.open(...args);
      return { send: (l, b, o, n) => socket.send(l, b, o, n), close: () => socket.close(), describe: () => socket.describe(), pollNow: () => void polled.push('socket') };
    },
  });
  const store = openStore(':memory:');
  store.updateHost({ msnlAddress: 0x7f000001, listenHost: '127.0.0.1', listenPort: 7010 });
  const daemon = new Daemon<MemoryPeer>({
    store,
    underlay,
    openTun: (spec) => Object.assign(createFakeTun(spec.name, { mtu: spec.mtu }).device, { pollNow: () => void polled.push(spec.name) }),
    log: createLogger('error', () => undefined),
    pollMs: 60_000,
  });
  try {
    await daemon.start();
    daemon.pollNow();
    assert.deepEqual(polled, ['ms0', 'ms1', 'ms2', 'ms3', 'socket']);
  } finally {
    await daemon.stop();
    store.close();
  }
  polled.length = 0;
  daemon.pollNow();
  assert.deepEqual(polled.filter((p) => p === 'socket'), [], 'no socket after stop');
});
