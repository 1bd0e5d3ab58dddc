// UdpUnderlay: the UDP underlay msnld runs on: the batched native socket (udp-native.ts) for an
// IPv4 listen address and for an IPv6 one alike (an IPv6 socket reaches IPv4 peers IPv4-mapped
// when it is bound to ::). node:dgram (udp-dgram.ts) stays for callers that ask for it.
import { NativeUdpUnderlay, type NativeUdpTuning } from './udp-native.js';
import { UdpEndpoints } from './udp-endpoint.js';
import type { UnderlayLog } from './underlay.js';

export class UdpUnderlay extends NativeUdpUnderlay {
  constructor(log: UnderlayLog, tuning: NativeUdpTuning = {}) {
    super(log, tuning, new UdpEndpoints());
  }
}
