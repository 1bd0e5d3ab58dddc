// The floor of a Node.js tunnel: one process per host relaying IP packets between a TUN device and
// a UDP socket, through the same I/O layers msnld uses (KernelTun's batched reads, BatchUdpSocket's
// sendmmsg/recvmmsg), with no MSNL, no mapping, no connection state. Spawned by
// bench/peers/node-relay.ts inside a host's namespace:
//   node relay-child.js DEVICE TUNNEL-ADDRESS/24 LOCAL-UNDERLAY PEER-UNDERLAY PORT
// It prints "ready" once the device is up and runs until SIGTERM.
// The TUN MTU is 1472: the underlay socket never fragments (DF, EMSGSIZE for a datagram larger than
// the 1500-octet link), so a packet must fit one IPv4 UDP payload (1500 - 20 - 8). With MTU 1500 every
// full-size TCP segment was refused and the TCP rows read 0.
import { parseDottedQuad } from '../src/abi/inet.js';
import { BatchUdpSocket } from '../src/msdl/udp-batch.js';
import { openTun } from '../src/tun/device.js';

function address(text: string | undefined, what: string): number {
  const value = parseDottedQuad(text ?? '');
  if (typeof value !== 'number') throw new Error(`argument "${text ?? ''}" is wrong: ${what} must be a dotted quad`);
  return value;
}

const [name = 'brelay0', tunnelText = '', localText, peerText, portText = '7030'] = process.argv.slice(2);
const [tunnelAddress, prefixText = '24'] = tunnelText.split('/');
const local = address(localText, 'the local underlay address');
const peer = address(peerText, 'the peer underlay address');
const port = Number(portText);
/** The largest packet one UDP datagram carries over the 1500-octet IPv4 underlay. */
const RELAY_MTU = 1500 - 20 - 8;
const device = openTun(name, { mtu: RELAY_MTU, address: { address: address(tunnelAddress, 'the tunnel address'), prefixLength: Number(prefixText) } });
const socket = BatchUdpSocket.open({
  address: local,
  port,
  onReceive: (slab, offset, length) => {
    device.write(slab, offset, length);
  },
});
const batch = 32;
const bufs = Array.from({ length: batch }, () => Buffer.allocUnsafe(RELAY_MTU));
const sizes = new Int32Array(batch);
device.onReadable(() => {
  for (let round = 0; round < 64; round++) {
    const n = device.readBatch(bufs, sizes, 0);
    for (let i = 0; i < n; i++) socket.send(peer, port, bufs[i]!, 0, sizes[i]!);
    if (n < batch) break;
  }
});
process.once('SIGTERM', () => {
  socket.close();
  device.close();
  process.exit(0);
});
process.stdout.write('ready\n');
