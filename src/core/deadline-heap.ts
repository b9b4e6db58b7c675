/**
 * A binary min-heap of values by deadline (a number, e.g. an event time in ms): `push` and `pop`
 * in O(log n), `peek` in O(1). Deadlines and values sit in two parallel arrays, so an entry costs
 * no object of its own.
 *
 * Made for expiry with lazy updates: an owner whose values' deadlines only move later pushes each
 * value once, and when one comes out it reads the value's current deadline and pushes it again if
 * that moved. Each pass then costs the values due or moved, not a walk over all of them.
 */
export class DeadlineHeap<T> {
  private readonly deadlines: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.values.length;
  }

  push(deadline: number, value: T): void {
    const d = this.deadlines;
    const v = this.values;
    let i = v.length;
    d.push(deadline);
    v.push(value);
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = d[parent] as number;
      if (pd <= deadline) break;
      d[i] = pd;
      v[i] = v[parent] as T;
      i = parent;
    }
    d[i] = deadline;
    v[i] = value;
  }

  /** The earliest deadline, or Infinity when empty. */
  peekDeadline(): number {
    return this.values.length === 0 ? Infinity : (this.deadlines[0] as number);
  }

  /** Removes and returns the value with the earliest deadline (undefined when empty). */
  pop(): T | undefined {
    const d = this.deadlines;
    const v = this.values;
    const n = v.length;
    if (n === 0) return undefined;
    const top = v[0] as T;
    const lastD = d.pop() as number;
    const lastV = v.pop() as T;
    if (n === 1) return top;
    // Sift the last entry down from the root.
    const m = n - 1;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= m) break;
      const r = l + 1;
      const c = r < m && (d[r] as number) < (d[l] as number) ? r : l;
      if ((d[c] as number) >= lastD) break;
      d[i] = d[c] as number;
      v[i] = v[c] as T;
      i = c;
    }
    d[i] = lastD;
    v[i] = lastV;
    return top;
  }

  /** Drops every entry and pushes `entries` again (an owner's rebuild when stale entries pile up). */
  rebuild(entries: Iterable<[number, T]>): void {
    this.deadlines.length = 0;
    this.values.length = 0;
    for (const [deadline, value] of entries) this.push(deadline, value);
  }
}
