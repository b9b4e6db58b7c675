/**
 * Calls as the fraud rules see them: the number an initial INVITE dials, read under the site's dial
 * plan (src/enrich/numbers.ts), who dials it, and the numbers configuration the rules share (dial
 * plan, allowed countries, high-risk list), set once from the configuration by `configureNumbers`.
 */
import { DETECT_NUMBER_CACHE_ENTRIES } from '../config/limits.js';
import { classifyDialled, type DialPlan, type NumberInfo } from '../enrich/numbers.js';
import { defaultRiskList, type RiskList } from '../enrich/risk-list.js';
import type { SipEvent } from './sip-event.js';

/** What the fraud rules need to read dialled numbers (configuration `dialPlan`, `allowedCountries`). */
export interface NumbersConfig {
  /** The site's dial plan; without one only `+`, 00 and 011 numbers are understood. */
  readonly dialPlan?: DialPlan | undefined;
  /** Countries (ISO 3166 alpha-2) calls may go to; default: the dial plan's home country. */
  readonly allowedCountries?: readonly string[] | undefined;
  /** The high-risk (IRSF) list; default: the bundled one, loaded on first use. */
  readonly riskList?: RiskList | undefined;
}

/** A plan without a home country: the classifier then reads international forms only. */
const NO_PLAN: DialPlan = { country: '' };

interface Resolved {
  readonly plan: DialPlan;
  readonly configured: boolean;
  readonly allowed: ReadonlySet<string>;
  readonly riskList: RiskList | undefined;
}

let current: Resolved = { plan: NO_PLAN, configured: false, allowed: new Set(), riskList: undefined };
const cache = new Map<string, NumberInfo>();

/** Sets the numbers configuration every fraud rule reads (call once, before traffic; tests reset it). */
export function configureNumbers(config: NumbersConfig = {}): void {
  const plan = config.dialPlan ?? NO_PLAN;
  const allowed = new Set(
    config.allowedCountries ?? (config.dialPlan !== undefined ? [config.dialPlan.country] : []),
  );
  current = { plan, configured: config.dialPlan !== undefined, allowed, riskList: config.riskList };
  cache.clear();
}

/** Countries calls may go to (empty: none declared and no dial plan, so none is judged foreign). */
export function allowedCountries(): ReadonlySet<string> {
  return current.allowed;
}

/** True when a dial plan was configured (national numbers can then be read). */
export function hasDialPlan(): boolean {
  return current.configured;
}

/** Classifies a dialled user part under the configured plan (cached, bounded). */
export function classifyNumber(user: string): NumberInfo {
  const hit = cache.get(user);
  if (hit !== undefined) return hit;
  current = current.riskList === undefined ? { ...current, riskList: defaultRiskList() } : current;
  const info = classifyDialled(user, current.plan, current.riskList);
  if (cache.size >= DETECT_NUMBER_CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(user, info);
  return info;
}

/** Entries in the classification cache (bounded by DETECT_NUMBER_CACHE_ENTRIES). */
export function numberCacheSize(): number {
  return cache.size;
}

/** The user part an INVITE dials: its Request-URI user, else its To user ('' when none). */
export function calledUser(req: SipEvent): string {
  return req.msg.requestUri?.user ?? req.msg.to?.uri?.user ?? '';
}

/** The caller's user part (From user, '' when none). */
export function callerUser(req: SipEvent): string {
  return req.msg.from?.uri?.user ?? '';
}

/** Digest user name of an INVITE's credentials ('' when it carried none). */
export function credentialsUser(req: SipEvent): string {
  return (req.msg.authorization ?? req.msg.proxyAuthorization)?.username ?? '';
}

/** True for the first copy of an initial (out-of-dialog) INVITE request. */
export function isInitialInvite(ev: SipEvent, retransmission: boolean): boolean {
  return ev.isRequest && !retransmission && ev.method === 'INVITE' && ev.toTag === '';
}

/** True when a response progressed an initial INVITE: 180–189 or 2xx. */
export function isProgress(ev: SipEvent): boolean {
  return !ev.isRequest && ((ev.status >= 180 && ev.status <= 189) || (ev.status >= 200 && ev.status <= 299));
}
