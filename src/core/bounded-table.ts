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
/** Counters per block: one 64-byte cache line holds a key's four counters (one per row). */
const SKETCH_BLOCK = 64;
const SKETCH_ROW_SPAN = SKETCH_BLOCK / SKETCH_ROWS;

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
 * Process-wide totals per table name, over every table of that name (a process runs one pipeline
 * in `watch`, which exports them as metrics; tests and `analyze` may run several, which only adds
 * up). Bounded by the number of table names in the code, plus the ad-hoc names `countRefusal` is
 * given (constants too).
 */
const TOTALS = new Map<string, TableStats>();

function totalsOf(name: string): TableStats {
  let t = TOTALS.get(name);
  if (t === undefined) {
    t = { evictions: 0, rejections: 0, expirations: 0 };
    TOTALS.set(name, t);
  }
  return t;
}

/** Evictions, rejections and expirations of every bounded table so far, by table name. */
export function tableTotals(): ReadonlyMap<string, Readonly<TableStats>> {
  return TOTALS;
}

/** Counts a new key refused by a bounded map that is not a BoundedTable, under `table`. */
export function countRefusal(table: string): void {
  totalsOf(table).rejections++;
}

/**
 * Count-min sketch of recent key frequencies, 4-bit saturating counters halved every
 * `10 × capacity` additions so that old popularity fades. Memory: 4 × width bytes.
 *
 * Blocked layout: a key's block (64 counters, one cache line) is chosen by its hash and each of
 * the four rows owns 16 counters in it, so a key costs one cache miss instead of four. Each row
 * still picks its counter from independent hash bits, so the estimate (the minimum over rows)
 * only overcounts when another key shares the block and the same counter in every row.
 */
export class FrequencySketch {
  private readonly counters: Uint8Array;
  private readonly blockMask: number;
  private additions = 0;
  private readonly resetAt: number;

  constructor(capacity: number) {
    let width = 16;
    while (width < capacity * 4) width <<= 1;
    const size = width * SKETCH_ROWS;
    this.blockMask = size / SKETCH_BLOCK - 1;
    this.counters = new Uint8Array(size);
    this.resetAt = Math.max(16, capacity * 10);
  }

  /** Records one occurrence and returns the new estimate. */
  increment(key: string | number): number {
    return this.incrementHash(hashKey(key));
  }

  private incrementHash(h: number): number {
    const c = this.counters;
    const base = (h & this.blockMask) * SKETCH_BLOCK;
    const g = rehash(h);
    let min = SKETCH_MAX;
    for (let row = 0; row < SKETCH_ROWS; row++) {
      const i = base + row * SKETCH_ROW_SPAN + ((g >>> (row * 4)) & (SKETCH_ROW_SPAN - 1));
      let v = c[i] as number;
      if (v < SKETCH_MAX) c[i] = ++v;
      if (v < min) min = v;
    }
    if (++this.additions >= this.resetAt) this.age();
    return min;
  }

  /** Estimated recent occurrences of `key`. */
  estimate(key: string | number): number {
    return this.estimateHash(hashKey(key));
  }

  private estimateHash(h: number): number {
    const c = this.counters;
    const base = (h & this.blockMask) * SKETCH_BLOCK;
    const g = rehash(h);
    let min = SKETCH_MAX;
    for (let row = 0; row < SKETCH_ROWS; row++) {
      const v = c[base + row * SKETCH_ROW_SPAN + ((g >>> (row * 4)) & (SKETCH_ROW_SPAN - 1))] as number;
      if (v < min) min = v;
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
  /** The process-wide totals of tables of this name (`tableTotals`). */
  private readonly totals: TableStats;
  /**
   * Keys in insertion order, for picking eviction candidates: a queue with lazy deletion (a key
   * removed from the map stays until the head passes it or the queue is rebuilt), rotated like a
   * clock hand as candidates survive. The map's own
   * order cannot serve: V8 leaves a deleted entry's slot in place until the map is rehashed, so
   * iterating from the head of a map whose head is evicted over and over walks every hole, and
   * under a flood of new keys that walk was most of the table's cost.
   */
  private order: K[] = [];
  private head = 0;
  /** Scratch list of the candidates one admission looks at. */
  private readonly picked: K[] = [];

  constructor(name: string, capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`table ${name}: capacity must be >= 1`);
    this.name = name;
    this.capacity = capacity;
    this.sketch = new FrequencySketch(capacity);
    this.totals = totalsOf(name);
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
      // Candidates: the four oldest live keys, taken off the queue (stale keys met on the way are
      // dropped for good); the survivors go to its back, as a clock hand passes them, so every
      // key is met once per round and the cost per admission is constant.
      let victimKey: K | undefined;
      let victimFreq = Infinity;
      const order = this.order;
      const picked = this.picked;
      picked.length = 0;
      while (picked.length < 4 && this.head < order.length) {
        const k = order[this.head++] as K;
        if (!this.map.has(k)) continue;
        picked.push(k);
        const f = this.sketch.estimate(k);
        if (f < victimFreq) {
          victimFreq = f;
          victimKey = k;
        }
      }
      const admit = victimKey !== undefined && freq > victimFreq;
      for (const k of picked) if (!admit || k !== victimKey) order.push(k);
      this.compact();
      if (!admit) {
        this.stats.rejections++;
        this.totals.rejections++;
        return undefined;
      }
      const victim = this.map.get(victimKey as K) as V;
      this.map.delete(victimKey as K);
      this.stats.evictions++;
      this.totals.evictions++;
      if (onEvict) onEvict(victimKey as K, victim);
    }
    const value = create();
    this.map.set(key, value);
    this.queue(key);
    return value;
  }

  /** Appends a key to the candidate queue, rebuilding it from the map when stale keys pile up. */
  private queue(key: K): void {
    this.order.push(key);
    this.compact();
  }

  /** Keeps the queue within about twice the table: drops the consumed head, or rebuilds it. */
  private compact(): void {
    if (this.order.length - this.head > 2 * this.capacity + 64) {
      this.order = [...this.map.keys()];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Removes up to `budget`-many expired entries met by the same clock hand that picks eviction
   * candidates: each call looks at `budget` live keys from the head of the queue, deletes those
   * `expired` says are past (counted as expirations) and sends the others to the back. Called a
   * few keys per event, it passes every key once per round of about `size / budget` events, so
   * state whose time is over leaves the table in bounded time instead of holding its place (and
   * its memory) until a newer key evicts it.
   */
  sweep(budget: number, expired: (value: V) => boolean): void {
    const order = this.order;
    const map = this.map;
    for (let seen = 0; seen < budget && this.head < order.length;) {
      const k = order[this.head++] as K;
      const v = map.get(k);
      if (v === undefined) continue;
      seen++;
      if (expired(v)) {
        map.delete(k);
        this.stats.expirations++;
        this.totals.expirations++;
      } else order.push(k);
    }
    this.compact();
  }

  /** Inserts or replaces without admission control (for owner-driven state such as config). */
  set(key: K, value: V): void {
    const had = this.map.has(key);
    this.map.set(key, value);
    if (!had) this.queue(key);
  }

  /** Removes an entry that ended normally or expired; `expired` counts it as an expiration. */
  delete(key: K, expired = false): boolean {
    const had = this.map.delete(key);
    if (had && expired) {
      this.stats.expirations++;
      this.totals.expirations++;
    }
    return had;
  }

  /** Moves an entry to the young end of the eviction order (after real activity). */
  refresh(key: K): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.map.set(key, v);
    this.queue(key);
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
