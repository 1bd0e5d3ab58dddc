// The sealed frames of secure MSNL, octets only: FrameSealer seals one MSNL frame into a sealed
// datagram and opens one back, through an AeadBatch (the addon's in msnld, node:crypto by
// default), in work buffers it keeps, so the data path allocates nothing per datagram. Keys,
// counters, the replay window and what a failure means stay with the caller (secure.ts).
//
// A work buffer is the caller's from take to give back (seal()..sealed(), open()..opened()): a
// use nested inside that (a transmit delivered at once, in memory, and answered) gets a fresh
// buffer instead of overwriting the one in use.

import { copyOctets } from '../abi/bytes.js';
import { AEAD_FAILED, AEAD_ITEM, Desc, describe, nodeCryptoAead, type AeadBatch } from '../crypto/aead.js';
import { KEY_SIZE, TAG_SIZE } from '../crypto/primitives.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from './secure-wire.js';

class WorkBuffer {
  private buf = new Uint8Array(2048);
  private depth = 0;

  take(size: number): Uint8Array {
    this.depth++;
    if (this.depth > 1) return new Uint8Array(size);
    if (this.buf.length < size) this.buf = new Uint8Array(Math.max(size, 2 * this.buf.length));
    return this.buf;
  }

  give(): void {
    this.depth--;
  }
}

export class FrameSealer {
  // The one-item batch every frame goes through, and the key it names.
  private readonly desc = new Uint32Array(AEAD_ITEM);
  private readonly keySlot = new Uint8Array(KEY_SIZE);
  private readonly tx = new WorkBuffer();
  private readonly rx = new WorkBuffer();

  constructor(private readonly aead: AeadBatch = nodeCryptoAead) {}

  /** Which AEAD implementation this uses ('native' or 'node:crypto'). */
  get name(): string {
    return this.aead.name;
  }

  /**
   * Seals `head` (when given) then buf[offset, offset + length), one MSNL frame, under `key` and
   * `counter` as a sealed frame to `receiver`: the datagram is the returned array's first
   * SEALED_HEADER_SIZE + frame length + TAG_SIZE octets, the caller's until sealed(). Null
   * (nothing to give back) when the AEAD refused the item.
   */
  seal(key: Uint8Array, receiver: number, counter: number, buf: Uint8Array, offset: number, length: number, head: Uint8Array | null = null): Uint8Array | null {
    const headLength = head === null ? 0 : head.length;
    const frameLength = headLength + length;
    const out = this.tx.take(SEALED_HEADER_SIZE + frameLength + TAG_SIZE);
    writeSealedHeader(out, 0, receiver, counter);
    if (head !== null) out.set(head, SEALED_HEADER_SIZE);
    copyOctets(buf, offset, out, SEALED_HEADER_SIZE + headLength, length);
    this.keySlot.set(key);
    describe(this.desc, 0, 0, counter, 0, SEALED_HEADER_SIZE, SEALED_HEADER_SIZE, frameLength);
    this.aead.seal(this.keySlot, out, this.desc, 1);
    if (this.desc[Desc.RESULT] === frameLength + TAG_SIZE) return out;
    this.tx.give();
    return null;
  }

  /** Gives back the buffer seal() returned. */
  sealed(): void {
    this.tx.give();
  }

  /**
   * Opens the sealed frame buf[offset, offset + length) (header read and window checked by the
   * caller) under `key` and `counter`, in a copy: the received datagram stays as it came. Returns
   * the array whose octets SEALED_HEADER_SIZE .. length - TAG_SIZE are the inner frame, the
   * caller's until opened(); null (nothing to give back) when it does not authenticate.
   */
  open(key: Uint8Array, counter: number, buf: Uint8Array, offset: number, length: number): Uint8Array | null {
    const rx = this.rx.take(length);
    copyOctets(buf, offset, rx, 0, length);
    this.keySlot.set(key);
    describe(this.desc, 0, 0, counter, 0, SEALED_HEADER_SIZE, SEALED_HEADER_SIZE, length - SEALED_HEADER_SIZE);
    this.aead.open(this.keySlot, rx, this.desc, 1);
    const n = this.desc[Desc.RESULT]!;
    if (n !== AEAD_FAILED && n === length - SEALED_HEADER_SIZE - TAG_SIZE) return rx;
    this.rx.give();
    return null;
  }

  /** Gives back the buffer open() returned. */
  opened(): void {
    this.rx.give();
  }
}
