// Big-endian reads and writes on plain Uint8Arrays (Buffers included), without allocating.
// Callers check bounds first; these helpers do not.

export function readU16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] ?? 0) << 24) | ((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0)) >>>
    0
  );
}

export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 8) & 0xff;
  bytes[offset + 1] = value & 0xff;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

/** True for an integer in 0..0xffffffff. */
export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** True for an integer in 0..0xffff. */
export function isU16(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

/** Throws a RangeError naming the field when `value` is not a u32 (encoders only: our own data). */
export function checkU32(value: number, field: string): void {
  if (!isU32(value)) throw new RangeError(`${field} must be an unsigned 32-bit integer, got ${value}`);
}

/** Buffer's native copy (memcpy): takes any Uint8Array as source and target, allocates nothing. */
const nativeCopy = Buffer.prototype.copy;

/** buf[offset, offset + length): buf itself when that is all of it, else a view. */
export function octetsOf(buf: Uint8Array, offset: number, length: number): Uint8Array {
  return offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length);
}

/** Copies src[from, from + length) to dst[to..) without making views. */
export function copyOctets(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): void {
  nativeCopy.call(src as Buffer, dst, to, from, from + length);
}
