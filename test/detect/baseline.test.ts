import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeBaseline,
  encodeBaseline,
  HourCalendar,
  hourOfWeekLabel,
  HourOfWeekBaseline,
  HOURS_PER_WEEK,
  WatchedTime,
  type BaselineSettings,
} from '../../src/detect/baseline.js';

const HOUR = 3_600_000;
const SETTINGS: BaselineSettings = {
  alpha: 1 - 0.5 ** (1 / 4),
  minWeeks: 2,
  historyCalls: 10,
  sigmas: 4,
  floor: 10,
  maxFillHours: 8 * HOURS_PER_WEEK,
};

/** Watched time covering [from, to] with ticks every `step`. */
function watchedFrom(from: number, to: number, step = HOUR): WatchedTime {
  const w = new WatchedTime(72 * HOUR, 32);
  for (let t = from; t <= to; t += step) w.tick(t);
  w.tick(to);
  return w;
}

describe('HourCalendar', () => {
  it('numbers hours in the site zone: Monday 00:00 local is hour of week 0', () => {
    const berlin = new HourCalendar('Europe/Berlin');
    // Monday 2026-03-09 00:30 CET is Sunday 23:30 UTC.
    const p = berlin.period(Date.UTC(2026, 2, 8, 23, 30));
    assert.equal(berlin.hourOfWeek(p), 0);
    assert.equal(berlin.label(p), 'Mon 00:00');
    assert.equal(berlin.start(p), Date.UTC(2026, 2, 8, 23, 0));
    // Saturday 2026-03-14 02:10 CET.
    assert.equal(berlin.label(berlin.period(Date.UTC(2026, 2, 14, 1, 10))), 'Sat 02:00');
    const utc = new HourCalendar('UTC');
    assert.equal(utc.label(utc.period(Date.UTC(2026, 2, 14, 1, 10))), 'Sat 01:00');
  });

  it('follows daylight saving: the clocks going forward skip Sunday 02:00, going back repeat it', () => {
    const c = new HourCalendar('Europe/Berlin');
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    const spring: string[] = [];
    for (let h = 22; h < 28; h++) spring.push(c.label(c.period(Date.UTC(2026, 2, 28, h, 30))));
    assert.deepEqual(spring, ['Sat 23:00', 'Sun 00:00', 'Sun 01:00', 'Sun 03:00', 'Sun 04:00', 'Sun 05:00']);
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
    const autumn: string[] = [];
    for (let h = 22; h < 28; h++) autumn.push(c.label(c.period(Date.UTC(2026, 9, 24, h, 30))));
    assert.deepEqual(autumn, ['Sun 00:00', 'Sun 01:00', 'Sun 02:00', 'Sun 02:00', 'Sun 03:00', 'Sun 04:00']);
    // Each period is still one real hour.
    const p = c.period(Date.UTC(2026, 9, 25, 0, 30));
    assert.equal(c.start(p + 1) - c.start(p), HOUR);
    assert.notEqual(c.period(Date.UTC(2026, 9, 25, 0, 30)), c.period(Date.UTC(2026, 9, 25, 1, 30)));
  });

  it('aligns periods on local hours in a zone with a half-hour offset', () => {
    const c = new HourCalendar('Asia/Kolkata');
    // 09:10 IST is 03:40 UTC; its hour started at 09:00 IST = 03:30 UTC.
    const p = c.period(Date.UTC(2026, 2, 10, 3, 40));
    assert.equal(c.start(p), Date.UTC(2026, 2, 10, 3, 30));
    assert.equal(c.label(p), 'Tue 09:00');
    assert.equal(c.period(Date.UTC(2026, 2, 10, 3, 20)), p - 1);
  });

  it('labels every hour of the week', () => {
    assert.equal(hourOfWeekLabel(0), 'Mon 00:00');
    assert.equal(hourOfWeekLabel(24 * 5 + 2), 'Sat 02:00');
    assert.equal(hourOfWeekLabel(167), 'Sun 23:00');
  });
});

describe('WatchedTime', () => {
  it('a silence longer than the bound is not watched; shorter ones are', () => {
    const w = new WatchedTime(72 * HOUR, 32);
    w.tick(0);
    w.tick(60 * HOUR); // a weekend without calls: watched
    w.tick(200 * HOUR); // 140 h without any input: a hole
    w.tick(201 * HOUR);
    assert.equal(w.watched(10 * HOUR, 11 * HOUR), true);
    assert.equal(w.watched(100 * HOUR, 101 * HOUR), false);
    assert.equal(w.watched(58 * HOUR, 60 * HOUR), true);
    assert.equal(w.watched(59 * HOUR, 61 * HOUR), false, 'the hour the input stopped is partial');
    assert.equal(w.watched(199 * HOUR, 201 * HOUR), false, 'the hour the input came back is partial');
    assert.equal(w.watched(-HOUR, 0), false, 'before the first event');
    assert.equal(w.watched(201 * HOUR, 202 * HOUR), false, 'after the latest event');
    assert.equal(w.gapCount, 1);
  });

  it('keeps at most its bound of holes; nothing before the oldest kept is watched', () => {
    const w = new WatchedTime(HOUR, 2);
    for (let i = 0; i < 4; i++) {
      w.tick(i * 10 * HOUR);
      w.tick(i * 10 * HOUR + HOUR / 2);
    }
    assert.equal(w.gapCount, 2);
    assert.equal(w.watched(0, HOUR / 2), false, 'older than the holes kept');
    assert.equal(w.watched(30 * HOUR, 30 * HOUR + HOUR / 4), true);
  });

  it('round-trips through JSON and refuses bad values', () => {
    const w = new WatchedTime(HOUR, 4);
    w.tick(0);
    w.tick(5 * HOUR);
    const copy = new WatchedTime(HOUR, 4);
    assert.equal(copy.restore(JSON.parse(JSON.stringify(w.toJSON()))), undefined);
    assert.deepEqual(copy.toJSON(), w.toJSON());
    for (const bad of [
      null,
      3,
      { first: 1, last: 0, gaps: [] },
      { first: 0, last: 1, gaps: [1] },
      { first: 0, last: 1 },
    ])
      assert.equal(typeof copy.restore(bad), 'string', JSON.stringify(bad));
    assert.deepEqual(copy.toJSON(), w.toJSON(), 'a refused value changes nothing');
  });
});

describe('HourOfWeekBaseline', () => {
  const cal = new HourCalendar('UTC');
  const t0 = Date.UTC(2026, 2, 2); // a Monday
  const p0 = cal.period(t0);

  /** Weeks of `calls(hourOfWeek)` calls per hour, then everything folded. */
  function learn(weeks: number, calls: (how: number, week: number) => number): HourOfWeekBaseline {
    const b = new HourOfWeekBaseline(p0);
    const end = p0 + weeks * HOURS_PER_WEEK;
    const w = watchedFrom(t0, cal.start(end));
    for (let p = p0; p < end; p++) {
      const n = calls(cal.hourOfWeek(p), Math.floor((p - p0) / HOURS_PER_WEEK));
      for (let i = 0; i < n; i++) b.add(p);
      b.fold(p - 1, cal, w, SETTINGS);
    }
    b.fold(end - 1, cal, w, SETTINGS);
    return b;
  }

  it('learns the mean and variance of each hour of week; quiet hours are zeros', () => {
    const b = learn(3, (how, week) => (how === 9 ? [4, 6, 5][week]! : 0));
    assert.equal(b.weeks[9], 3);
    assert.equal(b.weeks[100], 3);
    assert.ok(Math.abs(b.mean[9]! - 5) < 1e-6, String(b.mean[9]));
    // Plain average for the first weeks: population variance of 4, 6, 5.
    assert.ok(Math.abs(b.variance[9]! - 2 / 3) < 1e-5, String(b.variance[9]));
    assert.equal(b.mean[100], 0);
    assert.equal(b.calls, 15);
    assert.equal(b.watchedHours, 3 * HOURS_PER_WEEK);
  });

  it('is trusted only with enough weeks and calls, and allows mean + k·sd but at least the floor', () => {
    const young = learn(1, (how) => (how === 9 ? 30 : 0));
    assert.equal(young.limit(p0 + 9, cal, SETTINGS), undefined, 'one week is not enough');
    const quiet = learn(3, () => 0);
    assert.equal(quiet.limit(p0 + 9, cal, SETTINGS), undefined, 'no calls: no history to trust');
    const b = learn(3, (how) => (how === 9 ? 25 : how === 10 ? 1 : 0));
    const busy = b.limit(p0 + 3 * HOURS_PER_WEEK + 9, cal, SETTINGS)!;
    // sd is at least √25 = 5: 25 + 4·5 = 45, so 46 calls cross it.
    assert.equal(busy.limit, 46);
    assert.equal(busy.weeks, 3);
    const night = b.limit(p0 + 3 * HOURS_PER_WEEK + 2, cal, SETTINGS)!;
    assert.equal(night.limit, 10, 'the floor');
    assert.equal(night.mean, 0);
  });

  it('does not learn tainted hours nor hours nobody watched', () => {
    const b = new HourOfWeekBaseline(p0);
    const w = new WatchedTime(72 * HOUR, 32);
    w.tick(t0);
    w.tick(t0 + 10 * HOUR);
    w.tick(t0 + 200 * HOUR); // a 190-hour hole
    w.tick(t0 + 210 * HOUR);
    for (let i = 0; i < 30; i++) b.add(p0 + 5);
    b.taint(p0 + 4, p0 + 6);
    b.fold(p0 + 209, cal, w, SETTINGS);
    assert.equal(b.weeks[5], 0, 'the tainted hour');
    assert.equal(b.calls, 0);
    assert.equal(b.weeks[1], 1, 'a watched quiet hour');
    assert.equal(b.weeks[50], 0, 'inside the hole');
    assert.equal(b.watchedHours, 10 - 3 + 10, 'hours 0-9 less the 3 tainted, and 200-209');
  });

  it('counts a call reported after its hour was learned in the oldest pending hour', () => {
    const b = new HourOfWeekBaseline(p0);
    const w = watchedFrom(t0, t0 + 10 * HOUR);
    b.fold(p0 + 4, cal, w, SETTINGS);
    assert.equal(b.add(p0 + 2), p0 + 5);
    assert.equal(b.add(p0 + 7), p0 + 7);
    assert.equal(b.add(p0 + 6), p0 + 6);
    assert.deepEqual(b.pending, [p0 + 5, 1, p0 + 6, 1, p0 + 7, 1]);
  });

  it('bounds the quiet hours learned at once after a long quiet', () => {
    const b = new HourOfWeekBaseline(p0);
    const w = watchedFrom(t0, t0 + 20 * HOURS_PER_WEEK * HOUR, 24 * HOUR);
    b.fold(p0 + 20 * HOURS_PER_WEEK - 1, cal, w, { ...SETTINGS, maxFillHours: 2 * HOURS_PER_WEEK });
    assert.equal(b.watchedHours, 2 * HOURS_PER_WEEK);
    assert.equal(b.folded, p0 + 20 * HOURS_PER_WEEK - 1);
  });

  it('round-trips through JSON exactly; corrupt values are refused', () => {
    const b = learn(3, (how, week) => (how % 24 >= 9 && how % 24 < 17 ? 5 + week + (how % 3) : 0));
    b.add(p0 + 3 * HOURS_PER_WEEK);
    b.taint(p0 + 3 * HOURS_PER_WEEK - 1, p0 + 3 * HOURS_PER_WEEK + 1);
    const j = JSON.parse(JSON.stringify(encodeBaseline(b))) as Record<string, unknown>;
    const copy = decodeBaseline(j, 8);
    assert.ok(copy instanceof HourOfWeekBaseline);
    assert.deepEqual([...copy.mean], [...b.mean]);
    assert.deepEqual([...copy.variance], [...b.variance]);
    assert.deepEqual([...copy.weeks], [...b.weeks]);
    assert.deepEqual(copy.pending, b.pending);
    assert.equal(copy.folded, b.folded);
    assert.equal(copy.calls, b.calls);
    assert.equal(copy.tainted(p0 + 3 * HOURS_PER_WEEK), true);
    assert.equal(copy.restored, true);
    const nan = Buffer.alloc(HOURS_PER_WEEK * 4);
    nan.writeFloatLE(NaN, 8);
    const corrupt: Record<string, unknown>[] = [
      { ...j, mean: (j.mean as string).slice(0, 40) },
      { ...j, mean: nan.toString('base64') },
      { ...j, weeks: 'AAAA' },
      { ...j, folded: 'x' },
      { ...j, pending: [j.folded, 1] },
      {
        ...j,
        pending: Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? (j.folded as number) + 1 + i : 1)),
      },
      { ...j, taint: [5, 1] },
      { ...j, calls: -1 },
    ];
    for (const c of corrupt)
      assert.equal(typeof decodeBaseline(c, 8), 'string', JSON.stringify(c).slice(0, 80));
    assert.equal(typeof decodeBaseline('garbage', 8), 'string');
  });
});
