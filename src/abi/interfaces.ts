// The four tunnel interfaces of seed 000 and the fixed MTU / MSNL tunnelling port of each
// (DESIGN.md section 2). Both ends of a tunnel must agree on these: the port selects the MTU.

export interface TunnelInterfaceSpec {
  /** Interface name, ms0..ms3. */
  readonly name: string;
  /** Index 0..3, the digit in the name. */
  readonly index: number;
  /** IP MTU of the interface. */
  readonly mtu: number;
  /** The MSNL port of this MTU's IP tunnelling service (32-bit). */
  readonly port: number;
}

export const TUNNEL_INTERFACES: readonly TunnelInterfaceSpec[] = Object.freeze([
  Object.freeze({ name: 'ms0', index: 0, mtu: 1500, port: 0x0800 }),
  Object.freeze({ name: 'ms1', index: 1, mtu: 4470, port: 0x0801 }),
  Object.freeze({ name: 'ms2', index: 2, mtu: 9180, port: 0x0802 }),
  Object.freeze({ name: 'ms3', index: 3, mtu: 65535, port: 0x0803 }),
]);

/** The largest MTU of any tunnel interface: the size of the biggest IP packet msnl carries. */
export const MAX_TUNNEL_MTU = 65535;

/** Looks an interface up by name; undefined when the name is not ms0..ms3. */
export function interfaceByName(name: string): TunnelInterfaceSpec | undefined {
  return TUNNEL_INTERFACES.find((spec) => spec.name === name);
}

/** Looks an interface up by its tunnelling port; undefined for any other port. */
export function interfaceByPort(port: number): TunnelInterfaceSpec | undefined {
  return TUNNEL_INTERFACES.find((spec) => spec.port === port);
}
