/**
 * The audit's finding catalog (DESIGN.md "Audit (active)"): stable ids, default severities, the fix
 * (the 3CX setting and the generic SIP fix), references, and a first mapping to CIS Controls v8 and
 * PCI DSS 4.0 safeguards. `audit.provisioning-exposed` is an addition to the ids DESIGN.md lists.
 */
import type { Severity } from '../core/alert.js';

/** Every finding id the audit can produce. */
export const FINDING_IDS = [
  'audit.port-exposed',
  'audit.version-disclosure',
  'audit.vulnerable-version',
  'audit.enumeration-oracle',
  'audit.unauthenticated-call',
  'audit.no-rate-limit',
  'audit.weak-nonce',
  'audit.digest-md5-only',
  'audit.tls-weak',
  'audit.tls-certificate',
  'audit.no-tls',
  'audit.no-srtp',
  'audit.weak-password',
  'audit.provisioning-exposed',
  'audit.web-console-exposed',
] as const;

/** A finding id. */
export type FindingId = (typeof FINDING_IDS)[number];

/** One finding of an audit report (the JSON shape of DESIGN.md, plus `key` for baselines). */
export interface AuditFinding {
  readonly id: FindingId;
  readonly severity: Severity;
  readonly title: string;
  /** What was sent and answered, and what was concluded (wire strings as received, bounded). */
  readonly evidence: Record<string, unknown>;
  readonly fix: string;
  readonly references: readonly string[];
  /** Compliance safeguards the finding maps to (`CIS 4.4`, `PCI DSS 1.3.1`). */
  readonly controls: readonly string[];
  /** Stable identity of the finding across runs (id plus its subject), for `--baseline`. */
  readonly key: string;
}

/** Catalog entry of one finding id. */
export interface FindingMeta {
  readonly id: FindingId;
  readonly severity: Severity;
  readonly title: string;
  readonly fix: string;
  readonly references: readonly string[];
  readonly controls: readonly string[];
}

const PORT_GUIDE = '3CX firewall and port guide: https://www.3cx.com/docs/ports/';

/** The catalog, by id. */
export const FINDING_CATALOG: Readonly<Record<FindingId, FindingMeta>> = {
  'audit.port-exposed': {
    id: 'audit.port-exposed',
    severity: 'medium',
    title: 'A port answers that should not face the internet',
    fix:
      '3CX: forward only the ports its port guide lists for your setup (SIP 5060 for trunks, 5090 for the 3CX tunnel, ' +
      '5001/443 for apps and provisioning) and restrict the management console to known addresses (console ' +
      'restrictions); never expose the database (5432/5480) or the installer (5015). Any PBX: firewall every port to ' +
      'the addresses that need it (trunk providers, SBCs), put remote phones behind an SBC or VPN.',
    references: [PORT_GUIDE, 'RFC 3261 §26 (security considerations)'],
    controls: ['CIS 4.4', 'CIS 4.8', 'PCI DSS 1.3.1', 'PCI DSS 1.4.2', 'PCI DSS 2.2.4'],
  },
  'audit.version-disclosure': {
    id: 'audit.version-disclosure',
    severity: 'low',
    title: 'The PBX discloses its product and version',
    fix:
      '3CX writes its version in User-Agent/Server and has no setting to remove it: keep it updated and filter SIP ' +
      'from the internet to trunks and SBCs. Any PBX: remove or shorten the Server/User-Agent header (Kamailio ' +
      'server_signature=no, Asterisk useragent= / PJSIP user_agent, FreeSWITCH user-agent-string).',
    references: ['RFC 3261 §20.35 and §20.41 (Server, User-Agent)', 'RFC 3261 §26.1'],
    controls: ['CIS 4.1', 'PCI DSS 2.2.6'],
  },
  'audit.vulnerable-version': {
    id: 'audit.vulnerable-version',
    severity: 'high',
    title: 'The PBX reveals a version with known vulnerabilities or past end of life',
    fix:
      '3CX: install the latest update (Updates page of the management console) and move off end-of-life majors. Any ' +
      'PBX: upgrade to a supported release; until then, restrict who can reach it.',
    references: ['data/versions/vulnerable-versions.json and its SOURCES.md (each entry names its source)'],
    controls: ['CIS 2.2', 'CIS 7.4', 'PCI DSS 6.3.3', 'PCI DSS 12.3.4'],
  },
  'audit.enumeration-oracle': {
    id: 'audit.enumeration-oracle',
    severity: 'medium',
    title: 'Unknown and existing extensions are answered differently',
    fix:
      '3CX: keep Anti-Hacking on (Security settings), use random Auth IDs (the default) and block extensions from ' +
      'registering outside the LAN where they do not need to. Any PBX: challenge every REGISTER/INVITE alike ' +
      '(Asterisk alwaysauthreject=yes / PJSIP answers 401 for unknown endpoints; Kamailio: challenge before the user ' +
      'lookup) and answer OPTIONS to any user alike.',
    references: ['RFC 3261 §26.3.2.4 (denial of service and enumeration)', 'Asterisk alwaysauthreject'],
    controls: ['CIS 4.1', 'PCI DSS 2.2.6'],
  },
  'audit.unauthenticated-call': {
    id: 'audit.unauthenticated-call',
    severity: 'critical',
    title: 'A call or message without credentials is accepted',
    fix:
      '3CX: never allow calls from unknown sources (inbound rules only from trunks matched by address), restrict ' +
      'allowed country codes and outbound rules, keep "Allow calls from the external network" off for extensions ' +
      'that do not need it. Any PBX: challenge every INVITE/MESSAGE not from a trusted trunk address (Asterisk: no ' +
      'anonymous endpoint / allowguest=no; Kamailio: auth before routing).',
    references: ['RFC 3261 §22 (authentication)', 'RFC 3261 §26.3.2.2'],
    controls: ['CIS 4.1', 'PCI DSS 8.3.1'],
  },
  'audit.no-rate-limit': {
    id: 'audit.no-rate-limit',
    severity: 'high',
    title: 'Failed logins are not blocked or throttled',
    fix:
      '3CX: keep Anti-Hacking enabled with low thresholds (failed authentication requests, challenge requests, ' +
      'blacklist duration) and the global IP blocklist on. Any PBX: block a source after a few failed logins ' +
      '(fail2ban on Asterisk security events, Kamailio pike/htable counters, FreeSWITCH auth-fail logging).',
    references: ['RFC 3261 §26.3.2.4', 'Kamailio pike module'],
    controls: ['CIS 4.1', 'PCI DSS 8.3.4'],
  },
  'audit.weak-nonce': {
    id: 'audit.weak-nonce',
    severity: 'medium',
    title: 'Digest challenges are weak (repeated or predictable nonces, no qop)',
    fix:
      '3CX generates its nonces itself (no setting): update it and report the finding to 3CX. Any PBX: use nonces made ' +
      'of a timestamp and an HMAC with a secret, one per challenge, offer qop=auth and check the nonce count ' +
      '(Kamailio auth nonce_count / one_time_nonce).',
    references: ['RFC 7616 §3.3 and §5.4', 'RFC 3261 §22.4', 'RFC 8760'],
    controls: ['CIS 4.1', 'PCI DSS 2.2.6'],
  },
  'audit.digest-md5-only': {
    id: 'audit.digest-md5-only',
    severity: 'low',
    title: 'Digest authentication offers MD5 only',
    fix:
      '3CX offers MD5 digests only (no setting): compensate with long random passwords and TLS. Any PBX: also offer ' +
      'SHA-256 (RFC 8760: Kamailio auth algorithm, Asterisk 18+/PJSIP digest algorithms) and prefer TLS transport.',
    references: ['RFC 8760 (SIP digest algorithms)', 'RFC 7616 §3.5'],
    controls: ['CIS 3.10', 'PCI DSS 8.3.2'],
  },
  'audit.tls-weak': {
    id: 'audit.tls-weak',
    severity: 'medium',
    title: 'SIP over TLS accepts old protocol versions or weak ciphers',
    fix:
      '3CX: update (recent builds accept TLS 1.2 and later only) and use the 3CX FQDN certificate. Any PBX: accept ' +
      'TLS 1.2 and 1.3 only with AEAD ciphers (Kamailio tls_method TLSv1.2+, Asterisk PJSIP method=tlsv1_2).',
    references: ['RFC 8996 (deprecating TLS 1.0 and 1.1)', 'RFC 9325 (TLS recommendations)', 'RFC 5630'],
    controls: ['CIS 3.10', 'PCI DSS 4.2.1'],
  },
  'audit.tls-certificate': {
    id: 'audit.tls-certificate',
    severity: 'medium',
    title: 'The SIP TLS certificate cannot be trusted',
    fix:
      '3CX: use the certificate 3CX issues for its FQDN (or upload one from a public CA for your own domain) and make ' +
      'phones connect by that name. Any PBX: a certificate from a CA the phones trust, valid now, naming the host the ' +
      'phones dial, RSA 2048+ or ECDSA P-256+.',
    references: ['RFC 5922 (domain certificates in SIP)', 'RFC 9325'],
    controls: ['CIS 3.10', 'PCI DSS 4.2.1'],
  },
  'audit.no-tls': {
    id: 'audit.no-tls',
    severity: 'medium',
    title: 'SIP is offered in clear text only (no TLS)',
    fix:
      '3CX: enable secure SIP (TLS on 5061) for remote extensions and provision phones with TLS and SRTP, or use the ' +
      '3CX tunnel/SBC. Any PBX: a TLS listener (5061) with a trusted certificate, and phones configured for it.',
    references: ['RFC 3261 §26.2 (TLS)', 'RFC 5630 (SIPS)'],
    controls: ['CIS 3.10', 'PCI DSS 4.2.1', 'PCI DSS 8.3.2'],
  },
  'audit.no-srtp': {
    id: 'audit.no-srtp',
    severity: 'low',
    title: 'Media is offered without encryption (no SRTP)',
    fix:
      '3CX: enable SRTP on the extensions and phone templates that use TLS. Any PBX: require SRTP (SDES over TLS or ' +
      'DTLS-SRTP) on endpoints that leave the LAN (Asterisk media_encryption=sdes).',
    references: ['RFC 3711 (SRTP)', 'RFC 4568 (SDES)', 'RFC 5763/5764 (DTLS-SRTP)'],
    controls: ['CIS 3.10', 'PCI DSS 4.2.1'],
  },
  'audit.weak-password': {
    id: 'audit.weak-password',
    severity: 'critical',
    title: 'An extension has a guessable SIP password',
    fix:
      '3CX: regenerate the extension\u2019s SIP password (random, the default) and re-provision the phone. Any PBX: ' +
      'long random SIP passwords (16+ characters), never the extension number, and a different Auth ID.',
    references: ['NIST SP 800-63B §5.1.1', 'RFC 3261 §22.4'],
    controls: ['CIS 5.2', 'PCI DSS 8.3.6', 'PCI DSS 8.6.3'],
  },
  'audit.provisioning-exposed': {
    id: 'audit.provisioning-exposed',
    severity: 'high',
    title: 'Phone provisioning files are readable without authentication',
    fix:
      '3CX: keep the random provisioning folder name, never publish it, and enable the Anti-Hacking protection of the ' +
      'web server; restrict the provisioning port to phones and SBCs. Any PBX: serve phone configurations over HTTPS ' +
      'with authentication (client certificates or per-device credentials), not from a guessable path.',
    references: ['Phone configuration files hold SIP credentials: RFC 6080 §6 (provisioning security)'],
    controls: ['CIS 3.3', 'PCI DSS 7.2.1', 'PCI DSS 8.3.2'],
  },
  'audit.web-console-exposed': {
    id: 'audit.web-console-exposed',
    severity: 'low',
    title: 'The PBX web console answers from here',
    fix:
      '3CX: restrict the management console to known addresses (console restrictions / the allowed IP list of the ' +
      'admin console), turn on two-factor authentication for administrators, and reach it over HTTPS only (5001 or ' +
      '443), never over HTTP 5000/80. Any PBX: put the admin interface on a management network or behind a VPN, ' +
      'HTTPS only with a trusted certificate, strong admin passwords and MFA.',
    references: [PORT_GUIDE],
    controls: ['CIS 4.4', 'CIS 4.6', 'CIS 6.5', 'PCI DSS 1.4.2', 'PCI DSS 2.2.7', 'PCI DSS 8.4.2'],
  },
};

/**
 * Titles of the safeguards the findings map to. CIS Controls v8 (Center for Internet Security, May
 * 2021; v8.1 June 2024 keeps these numbers) and PCI DSS v4.0 (PCI Security Standards Council, March
 * 2022; v4.0.1 June 2024 keeps these numbers), titles shortened.
 */
export const CONTROL_TITLES: Readonly<Record<string, string>> = {
  'CIS 2.2': 'Ensure authorized software is currently supported',
  'CIS 3.3': 'Configure data access control lists',
  'CIS 3.10': 'Encrypt sensitive data in transit',
  'CIS 4.1': 'Establish and maintain a secure configuration process',
  'CIS 4.4': 'Implement and manage a firewall on servers',
  'CIS 4.6': 'Securely manage enterprise assets and software (secure management protocols)',
  'CIS 4.8': 'Uninstall or disable unnecessary services',
  'CIS 5.2': 'Use unique passwords',
  'CIS 6.5': 'Require MFA for administrative access',
  'CIS 7.4': 'Perform automated application patch management',
  'PCI DSS 1.3.1': 'Inbound traffic to the CDE is restricted to what is necessary',
  'PCI DSS 1.4.2': 'Inbound traffic from untrusted networks is restricted',
  'PCI DSS 2.2.4': 'Only necessary services, protocols, daemons and functions are enabled',
  'PCI DSS 2.2.6': 'System security parameters are configured to prevent misuse',
  'PCI DSS 2.2.7': 'All non-console administrative access is encrypted',
  'PCI DSS 4.2.1': 'Strong cryptography protects data in transit over public networks; certificates valid',
  'PCI DSS 6.3.3': 'Known vulnerabilities are fixed by installing security patches',
  'PCI DSS 7.2.1': 'An access control model is defined',
  'PCI DSS 8.3.1': 'All user access is authenticated',
  'PCI DSS 8.3.2': 'Authentication factors are unreadable in transmission and storage (strong cryptography)',
  'PCI DSS 8.3.4': 'Invalid authentication attempts are limited (lockout after at most 10)',
  'PCI DSS 8.3.6': 'Passwords meet minimum complexity (12 characters, letters and digits)',
  'PCI DSS 8.4.2': 'MFA for all access into the CDE',
  'PCI DSS 8.6.3': 'Passwords of application and system accounts are protected against misuse',
  'PCI DSS 12.3.4': 'Hardware and software technologies are reviewed (end of life)',
};

/** Builds a finding from the catalog; `severity` overrides the default when the evidence warrants. */
export function makeFinding(
  id: FindingId,
  subject: string,
  title: string,
  evidence: Record<string, unknown>,
  severity?: Severity,
): AuditFinding {
  const meta = FINDING_CATALOG[id];
  return {
    id,
    severity: severity ?? meta.severity,
    title,
    evidence,
    fix: meta.fix,
    references: meta.references,
    controls: meta.controls,
    key: `${id}|${subject}`,
  };
}
