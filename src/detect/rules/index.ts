import type { RuleModule } from '../rule.js';
import { authBruteforce } from './auth-bruteforce.js';
import { authCredentialStuffing } from './auth-credential-stuffing.js';
import { authDistributedBruteforce } from './auth-distributed-bruteforce.js';
import { authLowAndSlow } from './auth-low-and-slow.js';
import { authStaleCredentials } from './auth-stale-credentials.js';
import { authSuccessAfterFailures } from './auth-success-after-failures.js';
import { dosFlood } from './dos-flood.js';
import { exposureEnumerationOracle } from './exposure-enumeration-oracle.js';
import { protocolInjection } from './protocol-injection.js';
import { protocolMalformed } from './protocol-malformed.js';
import { reconExtensionEnumeration } from './recon-extension-enumeration.js';
import { scanToolFingerprint } from './scan-tool-fingerprint.js';

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
  dosFlood,
  protocolMalformed,
  protocolInjection,
];
