// Warm-up at start: msnld's very first call used to run cold code (the endpoint's signalling,
// handshake, framing and segmentation compiled on first use, ~1 ms and more on the first packet
// to a new peer). Two throwaway endpoints over the in-memory hub make one call with the same code
// (keyed when this host is keyed), carry a whole and a segmented packet both ways, probe, and hang
// up, so the first real call finds that code compiled (the addon's AEAD and the batched sealing
// included). Nothing leaves the process.
import { performance } from 'node:perf_hooks';
import { MemoryHub, type MemoryPeer } from '../msdl/memory.js';
import { generateKeyPair, type KeyPair } from '../crypto/primitives.js';
import { DATA_HEADER_SIZE } from '../msnl/constants.js';
import { MsnlEndpoint } from '../msnl/endpoint.js';
import type { EndpointEvents } from '../msnl/types.js';
import { defaultAead } from './aead.js';

const A = 0x7f000001;
const B = 0x7f000002;
const PORT = 0x0a00;

/** Runs the warm-up call; returns whether it completed (it always ends, bounded in steps). */
export function warmUp(keyed: boolean): boolean {
  const clock = { now: () => performance.now() };
  const hub = new MemoryHub({ clock, seed: 1, delayMs: 0 });
  const keys: [KeyPair, KeyPair] | null = keyed ? [generateKeyPair(), generateKeyPair()] : null;
  const pending: Array<() => void> = [];
  let connA = 0;
  let connB = 0;
  let received = 0;
  let down = 0;
  const make = (name: string, address: number, other: number, key: KeyPair | null, otherKey: Uint8Array | null): MsnlEndpoint<MemoryPeer> => {
    const node = hub.attach(name);
    const events: EndpointEvents<MemoryPeer> = {
      incomingCall: (call) => pending.push(() => void ep.accept(call.callId, 0)),
      connected: (_handle, info) => {
        if (name === 'a') connA = info.connId;
      },
      callFailed: () => undefined,
      data: () => void received++,
      disconnected: () => void down++,
      idle: () => undefined,
      echoReply: () => undefined,
    };
    const ep: MsnlEndpoint<MemoryPeer> = new MsnlEndpoint<MemoryPeer>({
      localAddress: address,
      clock,
      transmit: (to, buf, offset, length) => node.send(to, buf.slice(offset, offset + length)),
      events,
      identity: key,
      // The data path msnld's endpoint runs: the addon's AEAD, frames sealed in batches.
      aead: defaultAead(),
      scheduleSeals: (flush) => pending.push(flush),
      peerKeyOf: (addr) => (addr === other ? (otherKey ?? 'none') : undefined),
    });
    node.onReceive((bytes, from) => ep.receive(bytes, from));
    return ep;
  };
  const a = make('a', A, B, keys?.[0] ?? null, keys?.[1].publicKey ?? null);
  const b = make('b', B, A, keys?.[1] ?? null, keys?.[0].publicKey ?? null);
  b.listen(PORT);
  const settle = (): void => {
    for (let i = 0; i < 100 && (hub.nextDeliveryAt() <= clock.now() || pending.length > 0); i++) {
      hub.deliverDue();
      pending.splice(0).forEach((f) => f());
    }
  };
  a.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  settle();
  if (connA === 0) return false;
  connB = b.connections()[0]?.connId ?? 0;
  const packet = new Uint8Array(DATA_HEADER_SIZE + 4000);
  for (const length of [1200, 4000]) {
    a.send(connA, packet, DATA_HEADER_SIZE, length);
    b.send(connB, packet, DATA_HEADER_SIZE, length);
    settle();
  }
  a.tick();
  b.tick();
  settle();
  a.disconnect(connA);
  settle();
  return received >= 4 && down === 2;
}
