// The underlay over the in-memory data-link hub of src/msdl/memory.ts: whole daemons in one
// process, for tests. A node is named by its HOST:PORT, so routes read like real ones.

import { MemoryHub, type MemoryPeer } from '../msdl/memory.js';
import type { Underlay, UnderlaySocket } from './underlay.js';

export class MemoryUnderlay implements Underlay<MemoryPeer> {
  constructor(readonly hub: MemoryHub) {}

  async open(host: string, port: number, onReceive: (bytes: Uint8Array, link: MemoryPeer) => void): Promise<UnderlaySocket<MemoryPeer>> {
    const name = `${host}:${port}`;
    const link = this.hub.attach(name);
    link.onReceive(onReceive);
    return {
      send: (to, bytes) => link.send(to, bytes),
      close: () => link.close(),
      describe: () => name,
    };
  }

  link(host: string, port: number): MemoryPeer {
    return this.hub.peer(`${host}:${port}`);
  }

  same(a: MemoryPeer, b: MemoryPeer): boolean {
    return a === b;
  }
}
