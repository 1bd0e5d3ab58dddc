// One IP tunnelling interface (ms0..ms3) as seed 000 describes it. It talks to the manager only in
// manager messages (MMUP_* up, MMDOWN_* down), and to the MSNL data path only through DataSender:
// - given an address (and up), it binds an AF_MSNL address with MSNL address 0, its tunnelling port
//   and ms_ipa = its IP, then listens; losing the address or going down detaches;
// - an outbound packet for an IP peer with no connection issues MMUP_CONNECT with an AF_INET address
//   whose sa_data[6..9] holds its port, and waits in a small bounded queue until MMDOWN_CONNECTED;
// - MMDOWN_NEWCONN tells it the IP peer of an incoming connection (full duplex: one per peer);
// - a refused call or an unmapped destination gets ICMP destination unreachable, rate-limited.
// It tells the device how long a packet read may be: a device with TUN offload cuts TCP
// super-packets into segments that fill whole underlay datagrams (and joins inbound runs of one
// TCP flow again on write); the tunnel itself only ever sees plain IP packets.
// The packet path never allocates in steady state and never throws on bad input: it counts drops.

import { decodeMm, encodeMm, type MmMessage } from '../abi/mm.js';
import { MmReason } from '../abi/constants.js';
import { sockaddrIn, sockaddrMsnl } from '../abi/sockaddr.js';
import type { TunnelInterfaceSpec } from '../abi/interfaces.js';
import { checkIpv4, Ipv4Check } from '../abi/ipv4.js';
import { buildIcmpUnreachable, IcmpUnreachCode, ipv4Destination, ipv4Source, unreachCodeForReason } from './ipv4-packet.js';
import { TokenBucket } from '../base/token-bucket.js';
import { IdMap } from '../base/id-map.js';
import { PendingQueues } from './pending-queues.js';
import { TunnelCounters } from './counters.js';
import { RedialSchedule } from './redial.js';
import type { TunnelOptions } from './tunnel-options.js';

/** A live connection as the tunnel knows it: the IP peers it serves and the MSNL host behind them. */
interface TunnelConnection {
  readonly conn: number;
  /** The MSNL address the connection's IP peer maps to, for the inbound source check. */
  readonly peerMsnl: number | undefined;
  /** Usually one; a short array, not a Set per connection (a call storm makes thousands). */
  readonly peers: number[];
  readonly since: number;
  initiator: boolean;
}

function dropPeer(peers: number[], peer: number): void {
  const at = peers.indexOf(peer);
  if (at >= 0) peers.splice(at, 1);
}

export class Tunnel {
  readonly spec: TunnelInterfaceSpec;
  readonly counters = new TunnelCounters();
  /** The sock id this interface uses in manager messages: index + 1, never 0. */
  readonly sock: number;
  private address: number | undefined;
  private prefixLength = 0;
  private running = false;
  private bound = false;
  private readonly byPeer = new Map<number, TunnelConnection>();
  /** By connection id (looked up on every packet delivered). */
  private readonly byConn = new IdMap<TunnelConnection>();
  /** Refused IP peers: until when they are answered at once, and with which ICMP code. */
  private readonly refused = new Map<number, { readonly until: number; readonly code: number }>();
  private readonly pending: PendingQueues;
  private readonly refs = new Map<number, number>();
  private nextRef = 1;
  private readonly redial = new RedialSchedule();
  private readonly icmpBucket: TokenBucket;
  /** Read buffers: each holds the headroom and one packet of up to the MTU. */
  private readonly bufs: Uint8Array[];
  private readonly sizes: Int32Array;
  /** The longest packet a read may give: TCP super-packets are cut to it (offloading devices). */
  private segmentLimit = 0;
  private readonly icmpScratch = Buffer.alloc(20 + 8 + 60 + 8);
  private readonly mmScratch = Buffer.alloc(64);
  /** mmScratch[0, n) by length n, made once per length (a view per message was an allocation). */
  private readonly mmViews: Uint8Array[] = [];
  /** The device's cumulative drop counts already added to ours. */
  private deviceReadDrops = 0;
  private deviceRunsRefused = 0;

  constructor(private readonly options: TunnelOptions) {
    this.spec = options.spec;
    this.sock = options.spec.index + 1;
    const batch = options.batch ?? (options.spec.mtu > 9180 ? 8 : 32);
    this.bufs = Array.from({ length: batch }, () => new Uint8Array(options.headroom + options.spec.mtu));
    this.sizes = new Int32Array(batch);
    this.setDatagramPayload(options.datagramPayload ?? 1456);
    this.pending = new PendingQueues(options.pendingPerPeer ?? 16, options.headroom);
    this.icmpBucket = new TokenBucket(50, 20, options.now);
  }

  /**
   * IP octets one underlay datagram carries after the data header, now (the smallest path MTU in
   * use changes it): TCP super-packets are cut into segments that fill whole datagrams, so ms0's
   * 1500 becomes 1456 over a 1500-octet path and 1356 over a 1400-octet one (one datagram each
   * instead of two).
   */
  setDatagramPayload(fit: number): void {
    const mtu = this.spec.mtu;
    const f = Math.max(1, Math.floor(fit));
    this.segmentLimit = mtu < f ? mtu : Math.floor(mtu / f) * f;
  }

  /** The interface's IPv4 address and prefix length, when it has one. */
  get inet(): { address: number; prefixLength: number } | undefined {
    return this.address === undefined ? undefined : { address: this.address, prefixLength: this.prefixLength };
  }

  get isBound(): boolean {
    return this.bound;
  }

  get connectionCount(): number {
    return this.byConn.size;
  }

  /**
   * Tells the tunnel the device's actual state (after the daemon configured it, or after an
   * operator's `ip addr add` seen through netlink). Binds, rebinds or detaches as needed; idempotent.
   */
  setState(address: number | undefined, prefixLength: number, up: boolean): void {
    const changed = address !== this.address || up !== this.running;
    if (!changed) {
      this.prefixLength = prefixLength;
      return;
    }
    if (this.bound) this.detach();
    this.address = address;
    this.prefixLength = prefixLength;
    this.running = up;
    if (address !== undefined && up) {
      this.sendUp({ type: 'MMUP_BIND', sock: this.sock, addr: sockaddrMsnl(0, this.spec.port, address) });
      this.sendUp({ type: 'MMUP_LISTEN', sock: this.sock, backlog: 16 });
      this.bound = true;
    }
  }

  /** Unbinds: the manager disconnects this socket's connections and answers MMDOWN_FINAL. */
  private detach(): void {
    this.sendUp({ type: 'MMUP_DETACH', sock: this.sock });
    this.bound = false;
    for (const entry of [...this.byConn.values()]) this.forget(entry);
    for (const peer of this.pending.peers()) this.failPending(peer, IcmpUnreachCode.NET);
    this.refs.clear();
    this.redial.clear();
  }

  /** Reads every packet the device has (bounded by 64 batches per call) and sends or queues it. */
  onReadable(): number {
    const { device, headroom } = this.options;
    let total = 0;
    for (let round = 0; round < 64; round++) {
      const n = device.readBatch(this.bufs, this.sizes, headroom, this.segmentLimit);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) this.outbound(this.bufs[i]!, headroom, this.sizes[i]!);
      total += n;
      if (n < this.bufs.length) break;
    }
    this.countDeviceDrops();
    return total;
  }

  /** Adds what the device dropped since the last call (offload frames it could not use, joined
   *  runs it refused after write() had taken their packets) to our drop counters. */
  private countDeviceDrops(): void {
    const { readDrops, runsRefused } = this.options.device;
    if (readDrops !== this.deviceReadDrops) {
      this.counters.drops.bad_offload += readDrops - this.deviceReadDrops;
      this.deviceReadDrops = readDrops;
    }
    if (runsRefused !== this.deviceRunsRefused) {
      this.counters.drops.device_write += runsRefused - this.deviceRunsRefused;
      this.deviceRunsRefused = runsRefused;
    }
  }

  /** Sends or queues one IP packet read from the device; `offset` leaves the headroom in front. */
  private outbound(buf: Uint8Array, offset: number, length: number): void {
    if (checkIpv4(buf, offset, length) !== Ipv4Check.OK) {
      this.counters.drop('bad_packet');
      return;
    }
    const dst = ipv4Destination(buf, offset);
    const entry = this.byPeer.get(dst);
    if (entry !== undefined) {
      if (this.options.data.send(entry.conn, buf, offset, length)) this.counters.tx(length);
      else this.counters.drop('send_failed');
      return;
    }
    if (!this.bound) {
      this.counters.drop('not_bound');
      this.unreachable(buf, offset, length, IcmpUnreachCode.NET);
      return;
    }
    const refusal = this.refused.get(dst);
    if (refusal !== undefined) {
      if (this.options.now() < refusal.until) {
        this.counters.drop('refused');
        this.unreachable(buf, offset, length, refusal.code);
        return;
      }
      this.refused.delete(dst);
    }
    const fresh = !this.pending.has(dst);
    if (!this.pending.push(dst, buf, offset, length)) this.counters.drop('queue_full');
    // A redial call under way for the peer will flush the queue when it is answered.
    if (fresh && !this.redial.calling(dst)) this.call(dst);
  }

  /** Issues MMUP_CONNECT for an IP peer; returns the ref that the answer will carry. */
  private call(peer: number): number {
    const ref = this.nextRef;
    this.nextRef = (this.nextRef % 0xfffffffe) + 1;
    this.refs.set(ref, peer);
    this.sendUp({ type: 'MMUP_CONNECT', sock: this.sock, ref, peer: sockaddrIn(peer, this.spec.port) });
    return ref;
  }

  /** Runs the redial schedule (calls again the peers whose connection was lost abnormally) and
   *  takes in the device's drop counts. */
  tick(): void {
    this.countDeviceDrops();
    if (!this.bound) return;
    this.redial.due(this.options.now(), (peer) => this.call(peer));
  }

  /** True while some IP peer is being called again (its backoff wants timer turns under a second). */
  get redialing(): boolean {
    return this.redial.size > 0;
  }

  /** IP peers being called again after losing their connection, for health rows. */
  lostPeers(): ReadonlyArray<{ peer: number; since: number; attempts: number }> {
    return this.redial.list();
  }

  /**
   * Delivers one inbound IP packet from connection `conn`; checks its source against the mapping.
   * `authenticated` (it came sealed, man/msnl.7 SECURE MSNL): written as DATA_VALID, its inner
   * checksums not verified again (they are as the peer's msnld read them from its TUN).
   */
  deliver(conn: number, buf: Uint8Array, offset: number, length: number, authenticated = false): void {
    const entry = this.byConn.get(conn);
    if (entry === undefined) {
      this.counters.drop('unknown_connection');
      this.sendUp({ type: 'MMUP_ASSOCBAD', conn, source: sockaddrMsnl(0, this.spec.port, 0) });
      return;
    }
    if (checkIpv4(buf, offset, length) !== Ipv4Check.OK) {
      this.counters.drop('bad_packet');
      return;
    }
    const src = ipv4Source(buf, offset);
    const srcMsnl = this.options.mappings.msnlAddressOf(src);
    if (srcMsnl === undefined || srcMsnl !== entry.peerMsnl) {
      this.counters.drop('spoofed_source');
      return;
    }
    if (this.options.device.write(buf, offset, length, authenticated)) this.counters.rx(length);
    else this.counters.drop('device_write');
  }

  /** Handles one encoded manager message from the manager half. Bad messages are counted. */
  onDown(message: Uint8Array): void {
    const msg = decodeMm(message);
    if (!('type' in msg) || typeof msg.type !== 'string') {
      this.counters.drop('bad_mm');
      return;
    }
    this.handleDown(msg);
  }

  private handleDown(msg: MmMessage): void {
    switch (msg.type) {
      case 'MMDOWN_CONNECTED': {
        const peer = this.refs.get(msg.ref);
        this.refs.delete(msg.ref);
        if (peer === undefined || !this.bound) return;
        this.adopt(msg.conn, peer, true);
        return;
      }
      case 'MMDOWN_REFUSED': {
        const peer = this.refs.get(msg.ref);
        this.refs.delete(msg.ref);
        if (peer === undefined) return;
        if (this.byPeer.has(peer)) return; // a simultaneous open already gave us a connection
        if (this.redial.has(peer)) {
          if (msg.reason === MmReason.NO_MAPPING || msg.reason === MmReason.NO_ROUTE || msg.reason === MmReason.IPA_MISMATCH) this.redial.delete(peer);
          else this.redial.failed(peer, this.options.now());
        }
        const code = unreachCodeForReason(msg.reason);
        this.refused.set(peer, { until: this.options.now() + (this.options.negativeCacheMs ?? 1000), code });
        this.failPending(peer, code);
        return;
      }
      case 'MMDOWN_NEWCONN': {
        if (!this.bound || msg.sock !== this.sock) {
          this.sendUp({ type: 'MMUP_DISCONNECT', conn: msg.conn, reason: MmReason.NO_SERVICE });
          return;
        }
        this.adopt(msg.conn, msg.peer.addr, false);
        this.sendUp({ type: 'MMUP_ACCEPT', sock: this.sock, conn: msg.conn });
        return;
      }
      case 'MMDOWN_DISCONNECT': {
        const entry = this.byConn.get(msg.conn);
        if (entry === undefined) return;
        this.forget(entry);
        // A tunnel lost to a dead, restarted or stopped peer is called again; one released on
        // purpose (idle, mapping removed, operator) is not.
        if (msg.reason === MmReason.TIMEOUT || msg.reason === MmReason.SHUTDOWN) {
          for (const peer of entry.peers) this.redial.add(peer, this.options.now());
        }
        return;
      }
      case 'MMDOWN_ASSOCIDLE': {
        const entry = this.byConn.get(msg.conn);
        if (entry !== undefined) this.forget(entry);
        this.sendUp({ type: 'MMUP_DISCONNECT', conn: msg.conn, reason: MmReason.IDLE });
        return;
      }
      case 'MMDOWN_FINAL':
      case 'MMDOWN_HOSTSET':
      case 'MMDOWN_ERROR':
        return;
      default:
        this.counters.drop('bad_mm');
    }
  }

  /** Records connection `conn` as serving IP peer `peer` and sends what waited for it. */
  private adopt(conn: number, peer: number, initiator: boolean): void {
    let entry = this.byConn.get(conn);
    if (entry === undefined) {
      // peers made holding the peer: an empty literal grown by push gets room for 17 (a storm's
      // thousands of connections each kept that).
      entry = { conn, peerMsnl: this.options.mappings.msnlAddressOf(peer), peers: [peer], since: this.options.now(), initiator };
      this.byConn.set(conn, entry);
    }
    const previous = this.byPeer.get(peer);
    if (previous !== undefined && previous !== entry) {
      dropPeer(previous.peers, peer);
      if (previous.peers.length === 0) this.byConn.delete(previous.conn);
    }
    if (!entry.peers.includes(peer)) entry.peers.push(peer);
    this.byPeer.set(peer, entry);
    this.refused.delete(peer);
    this.redial.delete(peer);
    if (!this.pending.has(peer)) return; // an incoming call, or nothing waited: no closure made
    this.pending.drain(peer, (buf, offset, length) => {
      if (this.options.data.send(conn, buf, offset, length)) this.counters.tx(length);
      else this.counters.drop('send_failed');
    });
  }

  private forget(entry: TunnelConnection): void {
    this.byConn.delete(entry.conn);
    for (const peer of entry.peers) if (this.byPeer.get(peer) === entry) this.byPeer.delete(peer);
  }

  /**
   * Drops cached peers whose mapping no longer leads to the connection's MSNL host (the mapping
   * table was swapped): their next packet asks the manager again.
   */
  revalidate(): void {
    for (const entry of [...this.byConn.values()]) {
      for (const peer of [...entry.peers]) {
        if (this.options.mappings.msnlAddressOf(peer) !== entry.peerMsnl) {
          dropPeer(entry.peers, peer);
          this.byPeer.delete(peer);
        }
      }
    }
    this.refused.clear();
    for (const { peer } of this.redial.list()) if (this.options.mappings.msnlAddressOf(peer) === undefined) this.redial.delete(peer);
  }

  /** Drops the packets queued for a failed call, each answered with ICMP unreachable `code` (ms(4) REASON CODES). */
  private failPending(peer: number, code: number): void {
    this.pending.drain(peer, (buf, offset, length) => {
      this.counters.drop('call_failed');
      this.unreachable(buf, offset, length, code);
    });
  }

  /**
   * Writes an ICMP destination unreachable for the packet back into the device (rate-limited).
   * Its source is the unreachable destination: the kernel drops a packet arriving on ms0 from one
   * of its own addresses as a martian, and `ping` then says "From 10.0.0.2 ... Destination Host
   * Unreachable", naming the host that cannot be reached.
   */
  private unreachable(buf: Uint8Array, offset: number, length: number, code: number): void {
    if (!this.icmpBucket.take()) {
      this.counters.drop('icmp_rate_limited');
      return;
    }
    const n = buildIcmpUnreachable(this.icmpScratch, 0, buf, offset, length, code, ipv4Destination(buf, offset));
    if (n > 0 && this.options.device.write(this.icmpScratch, 0, n)) this.counters.icmpSent++;
  }

  private sendUp(msg: MmMessage): void {
    const n = encodeMm(msg, this.mmScratch, 0);
    this.options.up((this.mmViews[n] ??= this.mmScratch.subarray(0, n)));
  }
}
