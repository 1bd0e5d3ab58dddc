// The typed result every ABI decoder returns instead of throwing on bad bytes.

export type DecodeErrorCode =
  /** The input is not exactly as long as the structure (or the header's length field). */
  | 'length'
  /** The family field is not the expected address family. */
  | 'family'
  /** A flags field has bits set. */
  | 'flags'
  /** A padding or reserved field is not zero. */
  | 'padding'
  /** The message type is unknown. */
  | 'type'
  /** A field holds a value outside its defined range (for example an unknown reason code). */
  | 'value';

/** A decoding failure: what is wrong and at which octet offset of the input. Never thrown. */
export class DecodeError {
  readonly ok = false as const;
  constructor(
    readonly code: DecodeErrorCode,
    /** Octet offset of the offending field, relative to the start of the decoded input. */
    readonly offset: number,
    readonly detail: string,
  ) {}

  get message(): string {
    return `${this.detail} (${this.code} at offset ${this.offset})`;
  }
}
