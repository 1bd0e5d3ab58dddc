// A map keyed by up to four u32 numbers (a call: transaction, originator address and port; a SAP
// pair: both addresses and ports) with no string built per key: a Map by the first number (a
// random transaction id or an address, so almost never shared), the rest compared in the entry.
// A call storm looks up and stores such keys several times per call and per hang-up. set() makes
// the entry the newest, as delete + set on a Map does, so a table whose entries all live the same
// time expires from its head (expireHead). The Map's key is the first number as a signed 32-bit
// integer (`k0 | 0`): V8 keeps those as small integers, where a u32 above 2^31 (half of all random
// ids, and every 128.x address) is a heap number, hashed and compared several times slower. Pure.

interface Entry<V> {
  readonly k1: number;
  readonly k2: number;
  readonly k3: number;
  readonly value: V;
}

export class CallTable<V> {
  /** One entry per first number, or a short array when several keys share it. */
  private readonly byFirst = new Map<number, Entry<V> | Entry<V>[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(k0: number, k1: number, k2: number, k3 = 0): V | undefined {
    const found = this.byFirst.get(k0 | 0);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return found.k1 === k1 && found.k2 === k2 && found.k3 === k3 ? found.value : undefined;
    for (const e of found) if (e.k1 === k1 && e.k2 === k2 && e.k3 === k3) return e.value;
    return undefined;
  }

  has(k0: number, k1: number, k2: number, k3 = 0): boolean {
    return this.get(k0, k1, k2, k3) !== undefined;
  }

  delete(k0: number, k1: number, k2: number, k3 = 0): boolean {
    k0 |= 0;
    const found = this.byFirst.get(k0);
    if (found === undefined) return false;
    if (!Array.isArray(found)) {
      if (found.k1 !== k1 || found.k2 !== k2 || found.k3 !== k3) return false;
      this.byFirst.delete(k0);
      this.count--;
      return true;
    }
    const at = found.findIndex((e) => e.k1 === k1 && e.k2 === k2 && e.k3 === k3);
    if (at < 0) return false;
    found.splice(at, 1);
    if (found.length === 1) this.byFirst.set(k0, found[0]!);
    this.count--;
    return true;
  }

  /** Sets the value of the key, as the newest entry (`value` must not be undefined). */
  set(k0: number, k1: number, k2: number, k3: number, value: V): void {
    this.delete(k0, k1, k2, k3);
    k0 |= 0;
    const entry: Entry<V> = { k1, k2, k3, value };
    const found = this.byFirst.get(k0);
    if (found === undefined) this.byFirst.set(k0, entry);
    else {
      this.byFirst.delete(k0); // the shared first number moves to the end with its newest entry
      this.byFirst.set(k0, Array.isArray(found) ? [...found, entry] : [found, entry]);
    }
    this.count++;
  }

  /**
   * Removes entries from the oldest while `expired` says so, and stops at the first that is not.
   * Keys sharing a first number sit where the newest of them was set, so an older one among them
   * can outlive its time until that place comes up: never shorter, as long as the newest.
   */
  expireHead(expired: (value: V) => boolean): void {
    if (this.count === 0) return; // no iterator made for an empty table (every endpoint tick asks)
    for (const [k0, found] of this.byFirst) {
      if (!Array.isArray(found)) {
        if (!expired(found.value)) return;
        this.byFirst.delete(k0);
        this.count--;
        continue;
      }
      const rest = found.filter((e) => !expired(e.value));
      this.count -= found.length - rest.length;
      if (rest.length === 0) {
        this.byFirst.delete(k0);
        continue;
      }
      this.byFirst.set(k0, rest.length === 1 ? rest[0]! : rest);
      return;
    }
  }

  *values(): IterableIterator<V> {
    for (const found of this.byFirst.values()) {
      if (!Array.isArray(found)) yield found.value;
      else for (const e of found) yield e.value;
    }
  }
}
