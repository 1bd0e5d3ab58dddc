// The underlay over the in-memory data-link hub of src/msdl/memory.ts: whole daemons in one
// process, for tests. A node is named by its HOST:PORT, so routes read like real ones.

import { octetsOf } from '../abi/bytes.js';
import { MemoryHub, type MemoryPeer } from '../msdl/memory.js';
import type { Underlay, UnderlaySocket } from './underlay.js';

export class MemoryUnderlay implements Underlay<MemoryPeer> {
  constructor(readonly hub: MemoryHub) {}

  async open(host: string, port: number, onReceive: (buf: Uint8Array, offset: number, length: number, link: MemoryPeer) => void): Promise<UnderlaySocket<MemoryPeer>> {
    const name = `${host}:${port}`;
    const link = this.hub.attach(name);
    link.onReceive((bytes, from) => onReceive(bytes, 0, bytes.length, from));
    return {
      send: (to, buf, offset, length) => link.send(to, octetsOf(buf, offset, length)),
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
