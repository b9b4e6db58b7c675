import type { RuleModule } from '../rule.js';
import { authBruteforce } from './auth-bruteforce.js';
import { authCredentialStuffing } from './auth-credential-stuffing.js';
import { authDistributedBruteforce } from './auth-distributed-bruteforce.js';
import { authLowAndSlow } from './auth-low-and-slow.js';
import { callUnauthenticatedAccepted } from './call-unauthenticated-accepted.js';
import { exposureCleartextSignaling } from './exposure-cleartext-signaling.js';
import { exposureVulnerableVersion } from './exposure-vulnerable-version.js';
import { authDigestReplay } from './auth-digest-replay.js';
import { authWeakPassword } from './auth-weak-password.js';
import { cryptoPredictableIdentifiers } from './crypto-predictable-identifiers.js';
import { cryptoWeakNonce } from './crypto-weak-nonce.js';
import { authStaleCredentials } from './auth-stale-credentials.js';
import { authSuccessAfterFailures } from './auth-success-after-failures.js';
import { dosFlood } from './dos-flood.js';
import { exposureEnumerationOracle } from './exposure-enumeration-oracle.js';
import { protocolInjection } from './protocol-injection.js';
import { protocolMalformed } from './protocol-malformed.js';
import { reconExtensionEnumeration } from './recon-extension-enumeration.js';
import { scanToolFingerprint } from './scan-tool-fingerprint.js';
import { sensorSourceHealth } from './sensor-source-health.js';
import { exposureUnencryptedMedia } from './exposure-unencrypted-media.js';
import { fraudPremiumDestination } from './fraud-premium-destination.js';
import { fraudInternationalDestination } from './fraud-international-destination.js';
import { fraudPrefixProbing } from './fraud-prefix-probing.js';
import { fraudSequentialDialing } from './fraud-sequential-dialing.js';
import { fraudConcurrentCalls } from './fraud-concurrent-calls.js';
import { fraudCallVolume } from './fraud-call-volume.js';
import { geoHostingProvider } from './geo-hosting-provider.js';
import { geoNewCountry } from './geo-new-country.js';
import { sessionDialogHijack } from './session-dialog-hijack.js';
import { sessionMediaRedirect } from './session-media-redirect.js';
import { registrationHijack } from './registration-hijack.js';
import { fraudOffHours } from './fraud-off-hours.js';

/** Every rule sipwarden ships, in catalog order (DESIGN.md "Rule catalog"). */
export const ALL_RULES: readonly RuleModule[] = [
  scanToolFingerprint,
  reconExtensionEnumeration,
  exposureEnumerationOracle,
  authBruteforce,
  authCredentialStuffing,
  authDistributedBruteforce,
  authLowAndSlow,
  authStaleCredentials,
  authSuccessAfterFailures,
  authDigestReplay,
  authWeakPassword,
  cryptoWeakNonce,
  cryptoPredictableIdentifiers,
  exposureCleartextSignaling,
  exposureVulnerableVersion,
  dosFlood,
  protocolMalformed,
  protocolInjection,
  callUnauthenticatedAccepted,
  sessionDialogHijack,
  sessionMediaRedirect,
  registrationHijack,
  exposureUnencryptedMedia,
  fraudPremiumDestination,
  fraudInternationalDestination,
  fraudPrefixProbing,
  fraudCallVolume,
  fraudConcurrentCalls,
  fraudOffHours,
  fraudSequentialDialing,
  geoNewCountry,
  geoHostingProvider,
  sensorSourceHealth,
];
