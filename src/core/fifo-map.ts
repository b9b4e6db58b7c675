/**
 * A map that gives up its oldest entry cheaply, for tables bounded by age of insertion.
 *
 * Why not `map.keys().next()` on a plain Map: V8 leaves a deleted entry's slot in place until the
 * map is rehashed, so on a full map that evicts one entry per insertion, finding the oldest walks
 * every hole left before it (7.5 µs per eviction at 100,000 entries, measured with node 20). Here a
 * queue of keys and values with lazy deletion gives the oldest live entry in constant amortised
 * time: the map holds each key's position in the queue, and a queued key whose map position is
 * another one was deleted or set again since.
 *
 * The map's values are those positions (small integers), and the values sit in a list beside the
 * keys: no object per entry (a spoofed flood fills auth.digest-replay's 100,000 known nonces;
 * test/core/fifo-map.test.ts holds an entry under 130 bytes beside its key).
 */
export class FifoMap<K, V> {
  /** Key → absolute position in the queue (`base` + index). */
  private readonly map = new Map<K, number>();
  private keys: K[] = [];
  private values: (V | undefined)[] = [];
  /** Absolute position of index 0 of the queue. */
  private base = 0;
  private head = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const p = this.map.get(key);
    return p === undefined ? undefined : this.values[p - this.base];
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Sets `key` as the newest entry (a key already present moves to the young end). */
  set(key: K, value: V): void {
    // Deleted first, so the map's own order stays the insertion order (the rebuild relies on it).
    this.delete(key);
    this.map.set(key, this.base + this.keys.length);
    this.keys.push(key);
    this.values.push(value);
    this.compact();
  }

  delete(key: K): boolean {
    const p = this.map.get(key);
    if (p === undefined) return false;
    this.map.delete(key);
    // The queued key stays until passed; its value is let go now.
    this.values[p - this.base] = undefined;
    return true;
  }

  /** The oldest entry without removing it, or undefined when empty. */
  peek(): [K, V] | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head] as K;
      if (this.map.get(key) === this.base + this.head) return [key, this.values[this.head] as V];
      this.head++;
    }
    return undefined;
  }

  /** The oldest entry's value without removing it (no tuple made), or undefined when empty. */
  oldest(): V | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head] as K;
      if (this.map.get(key) === this.base + this.head) return this.values[this.head] as V;
      this.head++;
    }
    return undefined;
  }

  /** Removes and returns the oldest entry, or undefined when empty. */
  shift(): [K, V] | undefined {
    while (this.head < this.keys.length) {
      const i = this.head++;
      const key = this.keys[i] as K;
      if (this.map.get(key) === this.base + i) {
        const value = this.values[i] as V;
        this.map.delete(key);
        this.values[i] = undefined;
        this.compact();
        return [key, value];
      }
    }
    return undefined;
  }

  /** Keeps the queue within about twice the map: drops the consumed head, or rebuilds it. */
  private compact(): void {
    const queued = this.keys.length - this.head;
    if (queued > 2 * this.map.size + 64) {
      const keys: K[] = [];
      const values: (V | undefined)[] = [];
      for (const [k, p] of this.map) {
        values.push(this.values[p - this.base]);
        // Setting an existing key keeps its place in the map's order.
        this.map.set(k, keys.length);
        keys.push(k);
      }
      this.keys = keys;
      this.values = values;
      this.base = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.values = this.values.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
