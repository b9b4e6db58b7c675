import { allowedCountries } from '../../track/calls.js';
import type { RuleModule } from '../rule.js';
import { CDR_DESTINATION_TEXT, destinationDetector } from './fraud-premium-destination.js';

/** fraud.international-destination: a call the PBX progressed to a country outside the allowed list. */
export const fraudInternationalDestination: RuleModule = {
  meta: {
    id: 'fraud.international-destination',
    title: 'Call to a country outside the allowed list',
    severity: 'medium',
    description:
      'A call rings or is up (its first 18x or 2xx, on any of its legs) and the number its caller dialled, read under ' +
      'the site\u2019s dial plan (or, when the number as dialled does not read, the form the PBX sent on to its trunk), ' +
      'is in a country outside the allowed countries (configuration `allowedCountries`; by default the dial ' +
      'plan\u2019s home country), or in a non-geographic international code (+881, +882, +883...), or in a country the ' +
      'high-risk list marks `elevated` (often abused whole countries) even when allowed. One alert per caller (the ' +
      'dialling phone\u2019s source, or IPv6 /64, and From user), each call counted once under its first leg whatever ' +
      'its legs (a proxying or back-to-back PBX relaying it to its trunk is never the caller), raised when it rings. ' +
      CDR_DESTINATION_TEXT,
    falsePositives:
      'Without a dial plan and without allowed countries, only `elevated` countries of the risk list are reported ' +
      '(nothing says which countries are foreign). Calls a declared trunk delivers (first leg from the trunk) are ' +
      'not counted, nor again the onward legs a proxying or back-to-back PBX places for a call it relays. Sites ' +
      'that call abroad routinely list those countries in `allowedCountries`. A premium-rate call abroad raises ' +
      'fraud.premium-destination too. From CDRs, inbound and internal calls and calls that were busy, rejected or ' +
      'failed do not count.',
    remediation:
      '3CX: set Security → Allowed Country Codes to the countries you call and disable international calling for ' +
      'extensions that do not need it (extension → Options → Outbound rules / "Disallow use of international ' +
      'calls"). Any PBX: allow international prefixes only for the callers and countries that need them ' +
      '(Asterisk: separate outbound contexts; Kamailio: a country allow-list before the gateway; FreeSWITCH: ' +
      'per-user toll_allow), and ask the provider for international barring on the trunk where possible.',
    references: [
      'CFCA Global Telecommunications Fraud Loss Survey (IRSF)',
      'ITU-T E.164 (international numbering plan)',
    ],
    thresholds: { windowSeconds: 86_400 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    return destinationDetector(ctx, 'fraud.international-destination', 'foreign number', (info) => {
      if (info.scope !== 'international') return undefined;
      const allowed = allowedCountries();
      const country = info.country;
      if (info.risk?.risk === 'elevated') return `elevated-risk ${info.risk.country ?? country ?? 'range'}`;
      if (allowed.size === 0) return undefined;
      if (country === undefined) return `non-geographic +${info.callingCode ?? '?'}`;
      if (!allowed.has(country)) return `country ${country}`;
      return undefined;
    });
  },
};
