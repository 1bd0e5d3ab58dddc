// Root-only: secure MSNL against an attacker on the underlay, with real daemons in namespaces.
// h1 and h2 have a keyed tunnel; h3, on the same bridge, captures h2's frames to h1 and replays
// them from its own address and with h2's address forged (a raw socket), then claims h2's MSNL
// and IP addresses with its own key and calls h1. Nothing may reach h1's ms0, h1 stays up and
// the tunnel keeps working; the impostor gets one clear log line at h1 and no tunnel, and sees
// why on its own side (log line, msnl conn and health reason no-handshake).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Topology, sleep } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { requireTools } from '../helpers/tools.js';
import { configure, eventually } from './network.js';

/** UDP payloads of an Ethernet pcap file (IPv4 only). */
function udpPayloads(file: string): Uint8Array[] {
  const data = readFileSync(file);
  const out: Uint8Array[] = [];
  for (let at = 24; at + 16 <= data.length;) {
    const caplen = data.readUInt32LE(at + 8);
    const frame = data.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    out.push(new Uint8Array(frame.subarray(udp + 8, 14 + frame.readUInt16BE(16))));
  }
  return out;
}

function ms0Rx(net: Topology, h: ReturnType<Topology['host']>): number {
  return (JSON.parse(net.mustMsnl(h, ['-j', 'ifconfig', 'ms0'])) as Array<{ rx_packets: number }>)[0]!.rx_packets;
}

function counter(net: Topology, h: ReturnType<Topology['host']>, name: string): number {
  return (JSON.parse(net.mustMsnl(h, ['-j', 'status'])) as { counters: Record<string, number> }).counters[name] ?? -1;
}

test('replayed and forged frames from a third host reach nothing; an impostor without the key cannot call', async (t) => {
  if (!requireRoot(t)) return;
  requireTools(['tcpdump', 'python3']); // python3: the forged-source replay needs a raw socket
  const net = Topology.create({ tag: 'sec', hosts: 3 });
  try {
    const [h1, h2, h3] = [net.host(1), net.host(2), net.host(3)];
    configure(net, [h1, h2]);
    // h3 claims h2's MSNL and IP addresses, with its own key, and knows h1's key.
    net.mustMsnl(h3, ['host', 'set', 'address', h2.msnlAddress]);
    net.publicKey(h3);
    net.mustMsnl(h3, ['route', 'add', h1.msnlAddress, 'via', `${h1.underlay}:7010`, 'key', net.publicKey(h1)]);
    net.mustMsnl(h3, ['map', 'add', '10.0.0.1/32', h1.msnlAddress]);
    net.mustMsnl(h3, ['ifconfig', 'ms0', '10.0.0.2/24', 'up']);
    for (const h of [h1, h2, h3]) await net.startDaemon(h);

    // Capture h2's frames to h1 while h2 pings h1 through ms0.
    const pcap = path.join(net.dir, 'h2.pcap');
    const dump = spawn('ip', ['netns', 'exec', h2.netns, 'tcpdump', '-i', 'u0', '-U', '-n', '-w', pcap, 'udp and dst host 192.0.2.1 and dst port 7010'], { stdio: 'ignore' });
    await eventually('tcpdump is capturing', () => existsSync(pcap), 10_000);
    await sleep(1500);
    const ping = await net.execAsync(h2, ['ping', '-n', '-c', '25', '-i', '0.05', '-W', '2', '10.0.0.1'], 30_000);
    assert.equal(ping.code, 0, ping.stdout + net.tail(h1));
    await sleep(500);
    if (dump.pid !== undefined) process.kill(dump.pid, 'SIGINT');
    await new Promise((resolve) => dump.once('exit', resolve));
    const captured = udpPayloads(pcap);
    assert.ok(captured.length >= 20, `captured ${captured.length} frames`);
    assert.ok(captured.every((p) => p[1]! >= 11), 'every frame h2 sent was a handshake or sealed frame');
    await sleep(300);

    const rxBefore = ms0Rx(net, h1);
    const replaysBefore = counter(net, h1, 'drop_replay');
    const hex = captured.map((p) => Buffer.from(p).toString('hex')).join(',');
    // Replay from h3's own address, each frame twice.
    const own = `const d=require('dgram').createSocket('udp4');const f='${hex}'.split(',');let n=0;` +
      `(async()=>{for(let r=0;r<2;r++)for(const x of f){await new Promise(ok=>d.send(Buffer.from(x,'hex'),7010,'192.0.2.1',ok));n++}d.close();console.log(n)})()`;
    const sentOwn = await net.execAsync(h3, [process.execPath, '-e', own], 30_000);
    assert.equal(Number(sentOwn.stdout.trim()), captured.length * 2, sentOwn.stderr);
    // Replay with h2's underlay address forged: raw IPv4 + UDP (checksum 0) from 192.0.2.2:7010.
    const forged = [
      'import socket,struct,sys',
      's=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)',
      'n=0',
      `for x in '${hex}'.split(','):`,
      '  p=bytes.fromhex(x); u=struct.pack("!HHHH",7010,7010,8+len(p),0)+p',
      '  h=struct.pack("!BBHHHBBH4s4s",0x45,0,20+len(u),0,0x4000,64,17,0,socket.inet_aton("192.0.2.2"),socket.inet_aton("192.0.2.1"))',
      '  s.sendto(h+u,("192.0.2.1",0)); n+=1',
      'print(n)',
    ].join('\n');
    const sentForged = await net.execAsync(h3, ['python3', '-c', forged], 30_000);
    assert.equal(Number(sentForged.stdout.trim()), captured.length, sentForged.stderr);
    await sleep(1000);
    assert.equal(ms0Rx(net, h1), rxBefore, '0 replayed packets reached h1 ms0');
    assert.ok(counter(net, h1, 'drop_replay') - replaysBefore >= captured.length, 'the replays were counted');
    assert.equal(net.msnl(h1, ['status']).code, 0, 'h1 msnld is up and answers');
    const after = await net.execAsync(h2, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '2', '10.0.0.1'], 30_000);
    assert.equal(after.code, 0, `the tunnel still carries pings: ${after.stdout}`);

    // The impostor h3 calls h1 as 128.232.0.2 / 10.0.0.2 with its own key.
    const rxBeforeImpostor = ms0Rx(net, h1);
    const impostor = await net.execAsync(h3, ['ping', '-n', '-c', '3', '-i', '0.3', '-W', '1', '10.0.0.1'], 30_000);
    assert.notEqual(impostor.code, 0, 'the impostor got no answer');
    await eventually('h1 logged the refused call', () => /failed to authenticate a call from MSNL address 128\.232\.0\.2: it proved a key other than/.test(readFileSync(h1.log, 'utf8')), 5000);
    const lines = readFileSync(h1.log, 'utf8').split('\n').filter((l) => l.includes('failed to authenticate a call from MSNL address 128.232.0.2'));
    assert.equal(lines.length, 1, `one clear log line, not one per attempt:\n${lines.join('\n')}`);
    assert.ok(counter(net, h1, 'drop_wrong_key') >= 1);
    const rows = JSON.parse(net.mustMsnl(h1, ['-j', 'conn', 'show'])) as Array<{ interface: string; peer_ip: string; auth: string }>;
    assert.deepEqual(rows.filter((r) => r.interface === 'ms0').map((r) => [r.peer_ip, r.auth]), [['10.0.0.2', 'key']], 'h1 keeps its one, authenticated, ms0 tunnel');
    assert.equal(ms0Rx(net, h1) - rxBeforeImpostor, 0, 'nothing from the impostor reached ms0');
    // The impostor's side: one clear line, and the reason in conn and health, not a bare timeout.
    await eventually('h3 logged why its keyed call failed', () => /failed to make a keyed call to MSNL address 128\.232\.0\.1: it answered no handshake/.test(readFileSync(h3.log, 'utf8')), 15_000);
    const h3Lines = readFileSync(h3.log, 'utf8').split('\n').filter((l) => l.includes('failed to make a keyed call to MSNL address 128.232.0.1'));
    assert.equal(h3Lines.length, 1, `one line, however often it redials:\n${h3Lines.join('\n')}`);
    const h3Calls = JSON.parse(net.mustMsnl(h3, ['-j', 'conn', 'show'])) as Array<{ interface: string; state: string; reason: string | null; auth: string }>;
    assert.ok(h3Calls.some((r) => r.interface === 'ms0' && r.state === 'failed' && r.reason === 'no-handshake' && r.auth === 'key'), JSON.stringify(h3Calls));
    const h3Health = JSON.parse(net.mustMsnl(h3, ['-j', 'health'])) as Array<{ interface: string; reason: string | null }>;
    assert.ok(h3Health.some((r) => r.interface === 'ms0' && r.reason === 'no-handshake'), JSON.stringify(h3Health));
    const still = await net.execAsync(h2, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '2', '10.0.0.1'], 30_000);
    assert.equal(still.code, 0, 'the real h2 still reaches h1');
  } finally {
    await net.destroy();
    assert.deepEqual(net.leftovers(), []);
  }
});
