/**
 * Applies the parts of the configuration that rules share: the dial plan and high-risk list the
 * call rules classify numbers with, and the geography the geo rules look sources up in.
 */
import { ConfigError, type Config } from '../config/config.js';
import { loadRiskList } from '../enrich/risk-list.js';
import { configureNumbers } from '../track/calls.js';
import { configureCallVolume } from './rules/fraud-call-volume.js';
import { configureBusinessHours } from './rules/fraud-off-hours.js';
import { configureGeo } from './rules/geo-hosting-provider.js';

/** Configures number classification and geography for the rules (call before traffic). */
export function configureEnrichment(config: Config): void {
  let riskList;
  try {
    riskList = config.numbers.riskList !== undefined ? loadRiskList(config.numbers.riskList) : undefined;
  } catch (err) {
    throw new ConfigError(`numbers.riskList: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  configureNumbers({
    dialPlan: config.numbers.dialPlan,
    allowedCountries: config.numbers.allowedCountries,
    riskList,
  });
  configureBusinessHours(config.businessHours);
  // The call-volume baseline counts calls per hour of the week in the site's time zone.
  configureCallVolume({ timeZone: config.timeZone });
  // Without a geo section, lookups find nothing and the geo rules stay silent.
  configureGeo(config.geo ?? (() => ({})));
}
