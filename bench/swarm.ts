// A crowd of MSNL callers for the RSS figure: COUNT user-space MSNL endpoints in one process, each
// with its own MSNL address (128.233.x.y) and UDP socket, each opening one connection to a real
// msnld's ms0 tunnelling port claiming the IP 10.9.x.y (which that msnld maps to the caller's
// address, so the calls pass validation). It prints "connected N failed M" once all calls have
// settled and then holds the connections until stdin closes or it gets SIGTERM. Lines on stdin:
// `hangup` releases every connection at once (reason normal; prints "hung up N"), `calls` prints
// "calls N", the calls msnld made to the swarm (refused; a redial would be one).
// Run (inside a namespace): node dist/bench/swarm.js TARGET_HOST:PORT TARGET_MSNL_ADDR COUNT LOCAL_HOST
import dgram from 'node:dgram';
import { TUNNEL_INTERFACES } from '../src/abi/interfaces.js';
import { ArgumentError, parseDottedQuad } from '../src/abi/inet.js';
import { MsnlEndpoint } from '../src/msnl/endpoint.js';

interface Link {
  readonly host: string;
  readonly port: number;
}

/** Caller i (1-based): MSNL address 128.233.hi.lo and tunnel IP 10.9.hi.lo. */
export function caller(i: number): { msnl: string; ip: string } {
  const tail = `${(i >> 8) & 255}.${i & 255}`;
  return { msnl: `128.233.${tail}`, ip: `10.9.${tail}` };
}

export const SWARM_BASE_PORT = 20_000;

async function main(): Promise<void> {
  const [target = '', targetAddressText = '', countText = '', localHost = ''] = process.argv.slice(2);
  const [targetHost = '', targetPortText = ''] = target.split(':');
  const targetAddress = parseDottedQuad(targetAddressText, 'MSNL address');
  const count = Number(countText);
  if (targetAddress instanceof ArgumentError || !Number.isInteger(count) || count < 1 || count > 60_000 || localHost === '') {
    process.stderr.write('usage: swarm TARGET_HOST:PORT TARGET_MSNL_ADDR COUNT LOCAL_HOST\n');
    process.exit(1);
  }
  const link: Link = { host: targetHost, port: Number(targetPortText) };
  const port = TUNNEL_INTERFACES[0]!.port;
  const endpoints: MsnlEndpoint<Link>[] = [];
  const sockets: dgram.Socket[] = [];
  let connected = 0;
  let failed = 0;
  let incoming = 0;
  for (let i = 1; i <= count; i++) {
    const me = caller(i);
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(SWARM_BASE_PORT + i, localHost, () => resolve());
    });
    sockets.push(socket);
    const endpoint = new MsnlEndpoint<Link>({
      localAddress: parseDottedQuad(me.msnl) as number,
      clock: { now: Date.now },
      transmit: (to, buf, offset, length) => socket.send(buf, offset, length, to.port, to.host),
      sameLink: (a, b) => a.host === b.host && a.port === b.port,
      events: {
        incomingCall: (call) => {
          incoming++;
          endpoint.refuse(call.callId);
        },
        connected: () => void connected++,
        callFailed: () => void failed++,
        data: () => undefined,
        disconnected: () => undefined,
        idle: () => undefined,
        echoReply: () => undefined,
      },
    });
    socket.on('message', (bytes, rinfo) => endpoint.receive(bytes, { host: rinfo.address, port: rinfo.port }));
    endpoints.push(endpoint);
    endpoint.connect({ remoteAddress: targetAddress, remotePort: port, localPort: port, ipa: parseDottedQuad(me.ip) as number, link });
  }
  const ticker = setInterval(() => endpoints.forEach((e) => e.tick()), 250);
  const deadline = Date.now() + 30_000;
  while (connected + failed < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  process.stdout.write(`connected ${connected} failed ${failed}\n`);
  const stop = (): void => {
    clearInterval(ticker);
    sockets.forEach((s) => s.close());
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    input += chunk;
    for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
      const line = input.slice(0, nl).trim();
      input = input.slice(nl + 1);
      if (line === 'hangup') {
        let n = 0;
        for (const e of endpoints) for (const c of e.connections()) if (e.disconnect(c.connId)) n++;
        process.stdout.write(`hung up ${n}\n`);
      } else if (line === 'calls') process.stdout.write(`calls ${incoming}\n`);
    }
  });
  process.stdin.on('end', stop);
}

if (require.main === module) void main();
