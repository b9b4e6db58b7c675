/**
 * A fixed-capacity map from strings to numbers that gives up its oldest entry, held in typed
 * arrays: about 30 bytes per entry whatever the key's length, and no object for the collector to
 * trace. For large tables of wire strings whose keys are only ever looked up, never listed
 * (auth.digest-replay's known nonces: 100,000 of them were 12.6 MiB as a FifoMap of strings).
 *
 * A key is kept as a 64-bit hash (two 32-bit hashes with seeds drawn at start, so a sender cannot
 * craft two keys that share one); two different keys share a hash with odds of about n / 2^64 per
 * lookup. Entries sit in a ring in insertion order (the oldest at the head) and an open-addressing
 * index (linear probing) maps a hash to its ring slot. A deleted entry leaves a hole in the ring
 * that `shift` skips; the ring has room for half as many again as the capacity, and when holes
 * fill that it is compacted.
 */
export class HashedFifo {
  readonly capacity: number;
  private readonly ringSize: number;
  private readonly hashHi: Uint32Array;
  private readonly hashLo: Uint32Array;
  private readonly values: Float64Array;
  private readonly live: Uint8Array;
  /** Ring slot + 1 per index bucket; 0 is empty. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly seedA: number;
  private readonly seedB: number;
  /** Ring position of the oldest entry and count of slots in use from there (holes included). */
  private head = 0;
  private used = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1 && Number.isInteger(capacity)))
      throw new RangeError('HashedFifo: capacity must be >= 1');
    this.capacity = capacity;
    this.ringSize = capacity + Math.ceil(capacity / 2);
    this.hashHi = new Uint32Array(this.ringSize);
    this.hashLo = new Uint32Array(this.ringSize);
    this.values = new Float64Array(this.ringSize);
    this.live = new Uint8Array(this.ringSize);
    let buckets = 16;
    while (buckets < capacity * 2) buckets <<= 1;
    this.index = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.seedA = (Math.random() * 0x100000000) >>> 0;
    this.seedB = (Math.random() * 0x100000000) >>> 0;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): number | undefined {
    const b = this.find(key);
    return b < 0 ? undefined : this.values[(this.index[b] as number) - 1];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /**
   * Sets the value of `key`: a key already present keeps its place in the order; a new one is the
   * newest entry, and when the table is full the oldest is dropped first (the caller who must
   * know what leaves shifts it out before).
   */
  set(key: string, value: number): void {
    const b = this.find(key);
    if (b >= 0) {
      this.values[(this.index[b] as number) - 1] = value;
      return;
    }
    const hi = this.lastHi;
    const lo = this.lastLo;
    if (this.count >= this.capacity) this.shift();
    if (this.used >= this.ringSize) this.compact();
    const slot = (this.head + this.used) % this.ringSize;
    this.used++;
    this.count++;
    this.hashHi[slot] = hi;
    this.hashLo[slot] = lo;
    this.values[slot] = value;
    this.live[slot] = 1;
    // Probed again: the shift or the compaction may have moved entries of the index.
    let empty = lo & this.mask;
    while (this.index[empty] !== 0) empty = (empty + 1) & this.mask;
    this.index[empty] = slot + 1;
  }

  delete(key: string): boolean {
    const b = this.find(key);
    if (b < 0) return false;
    const slot = (this.index[b] as number) - 1;
    this.live[slot] = 0;
    this.count--;
    this.unindex(b);
    this.trimHead();
    return true;
  }

  /** Removes the oldest entry and returns its value (undefined when empty). */
  shift(): number | undefined {
    if (this.count === 0) return undefined;
    this.trimHead();
    const slot = this.head;
    const value = this.values[slot] as number;
    const b = this.bucketOf(this.hashHi[slot] as number, this.hashLo[slot] as number);
    this.live[slot] = 0;
    this.count--;
    this.unindex(b);
    this.trimHead();
    return value;
  }

  // The hashes of the key last looked up.
  private lastHi = 0;
  private lastLo = 0;

  /** The index bucket holding `key`, or -1; leaves the key's hashes in `lastHi` and `lastLo`. */
  private find(key: string): number {
    let a = this.seedA ^ 0x811c9dc5;
    let c = this.seedB ^ 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const ch = key.charCodeAt(i);
      a = Math.imul(a ^ ch, 0x01000193);
      c = Math.imul(c ^ ch, 0x5bd1e995);
      c ^= c >>> 15;
    }
    a ^= key.length;
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    a = (a ^ (a >>> 16)) >>> 0;
    c = Math.imul(c ^ (c >>> 16), 0x85ebca6b);
    c = (c ^ (c >>> 13)) >>> 0;
    this.lastHi = a;
    this.lastLo = c;
    const index = this.index;
    const mask = this.mask;
    for (let b = c & mask; ; b = (b + 1) & mask) {
      const s = index[b] as number;
      if (s === 0) return -1;
      if (this.hashLo[s - 1] === c && this.hashHi[s - 1] === a) return b;
    }
  }

  /** The bucket holding the entry of these hashes (present by construction). */
  private bucketOf(hi: number, lo: number): number {
    const index = this.index;
    for (let b = lo & this.mask; ; b = (b + 1) & this.mask) {
      const s = index[b] as number;
      if (s !== 0 && this.hashLo[s - 1] === lo && this.hashHi[s - 1] === hi) return b;
    }
  }

  /** Empties bucket `b`, moving back the entries after it that could not sit at their own bucket. */
  private unindex(b: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = b;
    for (let j = (b + 1) & mask; ; j = (j + 1) & mask) {
      const s = index[j] as number;
      if (s === 0) break;
      const home = (this.hashLo[s - 1] as number) & mask;
      // The entry at j stays unless its home lies cyclically outside (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        index[hole] = s;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  /** Moves the head past deleted entries. */
  private trimHead(): void {
    while (this.used > 0 && this.live[this.head] === 0) {
      this.head = (this.head + 1) % this.ringSize;
      this.used--;
    }
  }

  /** Closes the ring's holes (when they fill its spare room), keeping the order. */
  private compact(): void {
    const n = this.ringSize;
    const hi = this.hashHi.slice();
    const lo = this.hashLo.slice();
    const values = this.values.slice();
    const live = this.live.slice();
    this.index.fill(0);
    this.live.fill(0);
    let k = 0;
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) % n;
      if (live[s] === 0) continue;
      this.hashHi[k] = hi[s] as number;
      this.hashLo[k] = lo[s] as number;
      this.values[k] = values[s] as number;
      this.live[k] = 1;
      let b = (lo[s] as number) & this.mask;
      while (this.index[b] !== 0) b = (b + 1) & this.mask;
      this.index[b] = k + 1;
      k++;
    }
    this.head = 0;
    this.used = k;
  }
}
