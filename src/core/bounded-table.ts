/**
 * A map with a hard size bound whose admission is decided by frequency, not recency.
 *
 * Why not plain LRU: an attacker who floods a table with spoofed new keys (random source
 * addresses, random Call-IDs) would push every real entry out of an LRU, including the state of
 * the attack the flood is meant to hide. Here a new key is admitted into a full table only when it
 * has been seen more often than the entry it would replace (TinyLFU-style admission over a
 * count-min sketch with periodic halving). A spoofed key seen once cannot evict anything that was
 * seen twice; a real source that keeps sending is admitted on its second event.
 */

const SKETCH_ROWS = 4;
const SKETCH_MAX = 15;

/** Counts what a table did with keys past its bound: visible in stats and metrics. */
export interface TableStats {
  /** Entries removed to admit a more frequent key. */
  evictions: number;
  /** New keys refused because the table was full of more frequent entries. */
  rejections: number;
  /** Entries removed because they expired (the owner's `expire` calls). */
  expirations: number;
}

/**
 * Count-min sketch of recent key frequencies, 4-bit saturating counters halved every
 * `10 × capacity` additions so that old popularity fades. Memory: 4 × width bytes.
 */
export class FrequencySketch {
  private readonly counters: Uint8Array;
  private readonly mask: number;
  private additions = 0;
  private readonly resetAt: number;

  constructor(capacity: number) {
    let width = 16;
    while (width < capacity * 4) width <<= 1;
    this.mask = width - 1;
    this.counters = new Uint8Array(width * SKETCH_ROWS);
    this.resetAt = Math.max(16, capacity * 10);
  }

  /** Records one occurrence and returns the new estimate. */
  increment(key: string | number): number {
    let h = hashKey(key);
    let min = SKETCH_MAX;
    const width = this.mask + 1;
    for (let row = 0; row < SKETCH_ROWS; row++) {
      const i = row * width + (h & this.mask);
      let v = this.counters[i] as number;
      if (v < SKETCH_MAX) this.counters[i] = ++v;
      if (v < min) min = v;
      h = rehash(h);
    }
    if (++this.additions >= this.resetAt) this.age();
    return min;
  }

  /** Estimated recent occurrences of `key`. */
  estimate(key: string | number): number {
    let h = hashKey(key);
    let min = SKETCH_MAX;
    const width = this.mask + 1;
    for (let row = 0; row < SKETCH_ROWS; row++) {
      const v = this.counters[row * width + (h & this.mask)] as number;
      if (v < min) min = v;
      h = rehash(h);
    }
    return min;
  }

  private age(): void {
    const s = this.counters;
    for (let i = 0; i < s.length; i++) s[i] = (s[i] as number) >>> 1;
    this.additions = 0;
  }
}

/** Frequency-admission bounded map. `touch` records an occurrence of a key; `get`/`set` as Map. */
export class BoundedTable<K extends string | number, V> {
  readonly capacity: number;
  readonly name: string;
  readonly stats: TableStats = { evictions: 0, rejections: 0, expirations: 0 };
  private readonly map = new Map<K, V>();
  private readonly sketch: FrequencySketch;

  constructor(name: string, capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`table ${name}: capacity must be >= 1`);
    this.name = name;
    this.capacity = capacity;
    this.sketch = new FrequencySketch(capacity);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, if present. Does not count as an occurrence. */
  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /**
   * Records one occurrence of `key` and returns its entry, creating it with `create` when there is
   * room or when the key is more frequent than the eviction candidate. Returns undefined when the
   * key was refused admission (the caller counts that event elsewhere or drops it).
   */
  touch(key: K, create: () => V, onEvict?: (key: K, value: V) => void): V | undefined {
    const freq = this.sketch.increment(key);
    const found = this.map.get(key);
    if (found !== undefined) return found;
    if (this.map.size >= this.capacity) {
      // Candidate: the oldest-inserted entry (Map keeps insertion order); a few more are sampled
      // so one long-lived frequent entry at the head does not block every admission.
      let victimKey: K | undefined;
      let victimFreq = Infinity;
      let sampled = 0;
      for (const k of this.map.keys()) {
        const f = this.sketch.estimate(k);
        if (f < victimFreq) {
          victimFreq = f;
          victimKey = k;
        }
        if (++sampled >= 4) break;
      }
      if (victimKey === undefined || freq <= victimFreq) {
        this.stats.rejections++;
        return undefined;
      }
      const victim = this.map.get(victimKey) as V;
      this.map.delete(victimKey);
      this.stats.evictions++;
      if (onEvict) onEvict(victimKey, victim);
    }
    const value = create();
    this.map.set(key, value);
    return value;
  }

  /** Inserts or replaces without admission control (for owner-driven state such as config). */
  set(key: K, value: V): void {
    this.map.set(key, value);
  }

  /** Removes an entry that ended normally or expired; `expired` counts it as an expiration. */
  delete(key: K, expired = false): boolean {
    const had = this.map.delete(key);
    if (had && expired) this.stats.expirations++;
    return had;
  }

  /** Moves an entry to the young end of the eviction order (after real activity). */
  refresh(key: K): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.map.set(key, v);
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  /** Estimated number of recent occurrences of `key` (aged by halving). */
  estimate(key: K): number {
    return this.sketch.estimate(key);
  }
}

/** FNV-1a over a string's UTF-16 code units, or a mixed integer. */
export function hashKey(key: string | number): number {
  if (typeof key === 'number') {
    let x = key | 0;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    return (x ^ (x >>> 16)) >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function rehash(h: number): number {
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}
