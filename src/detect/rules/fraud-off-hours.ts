import { z } from 'zod';
import type { CdrCall } from '../../core/records.js';
import type { Call } from '../../track/call-table.js';
import type { RuleModule } from '../rule.js';
import { destinationDetector } from './fraud-premium-destination.js';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Business hours as written in configuration (`businessHours`). */
export const BusinessHoursSchema = z
  .object({
    /** IANA time zone of the site, e.g. `Europe/Paris`. */
    timeZone: z.string().refine(validZone, { message: 'unknown IANA time zone' }),
    /** Working days: 0 (Sunday) to 6, or `mon`..`sun`. */
    days: z.array(z.union([z.number().int().min(0).max(6), z.enum(DAY_NAMES)])).default([1, 2, 3, 4, 5]),
    /** Local opening time `HH:MM`. */
    start: z.string().regex(HHMM).default('08:00'),
    /** Local closing time `HH:MM` (before `start`: hours run past midnight). */
    end: z.string().regex(HHMM).default('19:00'),
  })
  .strict();

/** Business hours (configuration input: defaults not yet applied). */
export type BusinessHours = z.input<typeof BusinessHoursSchema>;

function validZone(tz: string): boolean {
  return Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC';
}

interface Hours {
  readonly days: ReadonlySet<number>;
  readonly start: number;
  readonly end: number;
  readonly format: Intl.DateTimeFormat;
  readonly timeZone: string;
}

let hours: Hours | undefined;

function minutes(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Sets the site's business hours fraud.off-hours reads; without them (default, or `undefined`) the rule is silent. */
export function configureBusinessHours(config: BusinessHours | undefined): void {
  if (config === undefined) {
    hours = undefined;
    return;
  }
  const c = BusinessHoursSchema.parse(config);
  hours = {
    days: new Set(c.days.map((d) => (typeof d === 'number' ? d : DAY_NAMES.indexOf(d)))),
    start: minutes(c.start),
    end: minutes(c.end),
    timeZone: c.timeZone,
    format: new Intl.DateTimeFormat('en-US', {
      timeZone: c.timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }),
  };
}

/** The local weekday (0 = Sunday) and minute of the day of `time` in the configured zone. */
function localTime(h: Hours, time: number): { day: number; minute: number; label: string } {
  let day = 0;
  let hh = 0;
  let mm = 0;
  for (const p of h.format.formatToParts(time)) {
    if (p.type === 'weekday')
      day = DAY_NAMES.indexOf(p.value.toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number]);
    else if (p.type === 'hour') hh = Number(p.value);
    else if (p.type === 'minute') mm = Number(p.value);
  }
  const label = `${DAY_NAMES[day] ?? '?'} ${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')} ${h.timeZone}`;
  return { day, minute: hh * 60 + mm, label };
}

/** Outside business hours at `time`: the local time label, else undefined (also when none are configured). */
export function offHours(time: number): string | undefined {
  const h = hours;
  if (h === undefined || !Number.isFinite(time)) return undefined;
  const t = localTime(h, time);
  if (h.start === h.end) return h.days.has(t.day) ? undefined : t.label;
  if (h.start < h.end) {
    return h.days.has(t.day) && t.minute >= h.start && t.minute < h.end ? undefined : t.label;
  }
  // Past midnight: the late part belongs to the day the shift started.
  if (t.minute >= h.start && h.days.has(t.day)) return undefined;
  if (t.minute < h.end && h.days.has((t.day + 6) % 7)) return undefined;
  return t.label;
}

/**
 * fraud.off-hours: an outbound international call the PBX progressed (ringing or answered) outside
 * the site's business hours, in its time zone.
 */
export const fraudOffHours: RuleModule = {
  meta: {
    id: 'fraud.off-hours',
    title: 'International call outside business hours',
    severity: 'medium',
    description:
      'A call (src/track/call-table.ts: a PBX\u2019s relayed legs are one call, under the phone that dialled) to an ' +
      'international number (read under the site\u2019s dial plan: outbound prefix, +, 00, ' +
      '011...) that rang or was answered (180\u2013189 or a 2xx on any leg) at a time outside the configured ' +
      'business hours (`businessHours`: time zone, working days, opening and closing time; a closing time before ' +
      'the opening time runs past midnight). Toll fraud runs at night and at weekends, when nobody watches. ' +
      'Grouped per source and caller over `windowSeconds`. Silent until business hours are configured. From a CDR ' +
      '(docs/cdr.md): a call that left through a trunk (or of unknown direction), rang or was answered, to an ' +
      'international number (the dialled one, or the one sent to the trunk when the dialled one does not read as a ' +
      'valid number), that *started* outside business hours; one alert per caller (`Ext.105` is caller 105), ' +
      'raised when the CDR comes at hang-up.',
    falsePositives:
      'Calls delivered by a declared trunk (incoming), national numbers, and the onward leg a back-to-back PBX ' +
      'relays for a call already counted are not reported. Staff working late or travelling, night shifts and ' +
      'other time zones are: widen the hours or the days, or exempt the extension by disabling the rule for its ' +
      'site. Without a dial plan, only numbers dialled in international form (+, 00, 011) are read. From CDRs, a ' +
      'call that started in business hours and ran into the night is not reported.',
    remediation:
      '3CX: restrict outbound rules by time (Outbound Rules: route only during office hours, or use the office ' +
      'hours of the Security → Allowed Country Codes and Advanced → Office Hours settings) and block international ' +
      'calls outside them; check the extension that called and change its password. Any PBX: apply a time ' +
      'condition to international routes (Asterisk: GotoIfTime/IFTIME in the outbound context; Kamailio: the ' +
      'tmrec module; FreeSWITCH: wday/time-of-day dialplan conditions) and ask the provider for a night-time ' +
      'international barring or spend limit.',
    references: [
      'CFCA Global Telecommunications Fraud Loss Survey',
      'ITU-T E.164',
      'RFC 3261 §13 (initiating a session)',
    ],
    thresholds: { windowSeconds: 86_400 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    let label = '';
    const inner = destinationDetector(ctx, 'fraud.off-hours', 'international number off-hours', (info) => {
      if (info.scope !== 'international') return undefined;
      return label !== '' ? `at ${label}` : undefined;
    });
    return {
      // Calls, not INVITE legs: a call relayed by a proxying or back-to-back PBX is judged once,
      // under the phone that dialled it, at the local time it started ringing.
      onCallRinging(c: Call): void {
        if (hours === undefined) return;
        label = offHours(c.ringing ?? c.start) ?? '';
        if (label !== '') inner.onCallRinging?.(c);
      },
      onCallAnswered(c: Call): void {
        inner.onCallAnswered?.(c);
      },
      onCdrCall(c: CdrCall): void {
        if (hours === undefined) return;
        // A CDR comes at hang-up: the call is judged by the local time it started.
        label = offHours(c.start) ?? '';
        if (label !== '') inner.onCdrCall?.(c);
      },
    };
  },
};
