// The underlay as the daemon sees it: something that opens a datagram socket at HOST:PORT and makes
// canonical link values for MSNL routes. src/daemon/udp-underlay.ts is the real one (node:dgram);
// tests use the in-memory data links of src/msdl.

export interface UnderlaySocket<L> {
  /** Sends one datagram, buf[offset, offset + length), consumed before it returns; never throws
   *  (failures are counted by the implementation). */
  send(link: L, buf: Uint8Array, offset: number, length: number): void;
  close(): Promise<void>;
  /** `HOST:PORT` actually bound. */
  describe(): string;
}

export interface Underlay<L> {
  /** Binds HOST:PORT; each datagram is handed to onReceive as buf[offset, offset + length), valid
   *  during the call only. */
  open(host: string, port: number, onReceive: (buf: Uint8Array, offset: number, length: number, link: L) => void): Promise<UnderlaySocket<L>>;
  /** The link value for a route's `HOST:PORT`. */
  link(host: string, port: number): L;
  /** True when two links name the same peer. */
  same(a: L, b: L): boolean;
}
