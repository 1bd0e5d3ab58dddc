// A Map keyed by connection ids, random u32s, held as signed 32-bit integers (`id | 0`): V8 keeps
// those as small integers, where a u32 above 2^31 (half of all ids) is a heap number, hashed and
// compared several times slower. The connection tables on the data path (the endpoint's, the
// daemon's connection -> tunnel, each tunnel's) key by id through this, so no call site can forget
// the conversion and miss an entry stored under the other form. Pure.

export class IdMap<V> {
  private readonly map = new Map<number, V>();

  get size(): number {
    return this.map.size;
  }

  get(id: number): V | undefined {
    return this.map.get(id | 0);
  }

  has(id: number): boolean {
    return this.map.has(id | 0);
  }

  set(id: number, value: V): void {
    this.map.set(id | 0, value);
  }

  delete(id: number): boolean {
    return this.map.delete(id | 0);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** [id | 0, value] pairs; deleting while iterating is safe, as for a Map. */
  entries(): IterableIterator<[number, V]> {
    return this.map.entries();
  }
}
