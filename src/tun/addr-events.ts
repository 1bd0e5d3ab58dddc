// IPv4 address changes from the kernel (rtnetlink, RTMGRP_IPV4_IFADDR), so the daemon learns when an
// operator runs `ip addr add` or `ifconfig` on an msN interface. The real source reads a non-blocking
// netlink socket on uv_poll readiness; the interface lets a fake stand in for tests.
import { loadNative, type NativeFdPoll } from './native.js';

export type AddrEvent =
  | {
      readonly kind: 'added' | 'removed';
      readonly ifname: string;
      readonly ifindex: number;
      /** Unsigned 32-bit IPv4 address, host order. */
      readonly address: number;
      readonly prefixLength: number;
      readonly peer?: number;
    }
  /** The kernel dropped notifications (socket buffer full): re-read the addresses you care about. */
  | { readonly kind: 'overrun' };

export interface AddrEventSource {
  /** cb gets every event in kernel order; one listener, null removes it. */
  onEvent(cb: ((ev: AddrEvent) => void) | null): void;
  close(): void;
}

/** Subscribes to the kernel's IPv4 address notifications in the current network namespace. */
export class NetlinkAddrMonitor implements AddrEventSource {
  private fd: number;
  private readonly poll: NativeFdPoll;
  private listener: ((ev: AddrEvent) => void) | null = null;

  constructor() {
    const native = loadNative();
    try {
      this.fd = native.addrMonitorOpen();
    } catch (err) {
      throw new Error(`failed to open rtnetlink address monitor: ${(err as Error).message}`);
    }
    const fd = this.fd;
    this.poll = new native.FdPoll(fd, () => {
      if (this.fd < 0) return;
      for (const ev of native.addrMonitorRead(fd)) this.listener?.(ev);
    });
  }

  onEvent(cb: ((ev: AddrEvent) => void) | null): void {
    this.listener = cb;
  }

  /** Whether the monitor keeps the process alive (default true). */
  ref(keepAlive: boolean): void {
    this.poll.ref(keepAlive);
  }

  close(): void {
    if (this.fd < 0) return;
    this.poll.close();
    loadNative().closeFd(this.fd);
    this.fd = -1;
    this.listener = null;
  }
}

export function openAddrMonitor(): AddrEventSource {
  return new NetlinkAddrMonitor();
}
