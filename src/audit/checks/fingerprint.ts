/**
 * Fingerprint: a SIP OPTIONS on each transport (UDP and TCP on the SIP port, TLS on the TLS port);
 * Server, User-Agent, Allow and Supported of each answer; product and version; versions of the
 * shared vulnerable-version list (data/versions/vulnerable-versions.json, the list the passive rule
 * exposure.vulnerable-version reads).
 */
import { defaultVersionList, matchVersions, type VersionList } from '../../detect/versions.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import { uriHost, type CheckContext, type CheckOutcome } from '../context.js';
import { answerText, evidenceText, type SipEndpoint, type SipTransport } from '../sip-probe.js';

/** A version-like token after a product name ("kamailio (5.6.3", "3CXPhoneSystem 18.0.9.20"). */
const VERSION_RE = /\d+\.\d+(?:\.\d+)*/;

/** Runs the fingerprint check; `list` defaults to the shipped vulnerable-version list. */
export async function runFingerprintCheck(ctx: CheckContext, list?: VersionList): Promise<CheckOutcome> {
  const { target, options, facts, probe } = ctx;
  const versions = list ?? defaultVersionList();
  const transports: [SipTransport, number][] = [
    ['udp', options.sipPort],
    ['tcp', options.sipPort],
    ['tls', options.tlsPort],
  ];
  const rows: Record<string, unknown>[] = [];
  const banners = new Map<string, { header: string; transports: string[] }>();
  let request = '';
  let answer: string | undefined;
  for (const [transport, port] of transports) {
    const ep: SipEndpoint = { address: target.address, port, transport, host: options.sni ?? target.host };
    const ex = await probe.request(ep, {
      method: 'OPTIONS',
      requestUri: `sip:${uriHost(ctx)}${port === 5060 && transport !== 'tls' ? '' : `:${port}`}`,
      headers: [['Accept', 'application/sdp']],
    });
    const a = ex.final;
    const row: Record<string, unknown> = { transport, port, status: a?.status ?? null };
    if (ex.error !== undefined) row.error = ex.error;
    else if (a === undefined) row.error = 'no answer';
    if (a !== undefined) {
      facts.answering.push(ep);
      if (facts.sipEndpoint === undefined) facts.sipEndpoint = ep;
      const m = a.message;
      const server = m.server;
      const ua = m.userAgent;
      row.server = server ?? null;
      row.userAgent = ua ?? null;
      row.allow = m.allow;
      row.supported = m.supported;
      if (m.body.length > 0 && (m.mediaType ?? '').toLowerCase() === 'application/sdp') {
        facts.sdpAnswers.push({
          source: `OPTIONS over ${transport}`,
          body: m.body.toString('latin1'),
          request: evidenceText(ex.request),
          response: answerText(a) ?? '',
        });
      }
      for (const [name, value] of [
        ['Server', server],
        ['User-Agent', ua],
      ] as const) {
        if (value === undefined || value.trim() === '') continue;
        const b = banners.get(`${name}: ${value}`) ?? { header: name, transports: [] };
        b.transports.push(transport);
        banners.set(`${name}: ${value}`, b);
      }
      if (answer === undefined) {
        request = evidenceText(ex.request);
        answer = answerText(a);
      }
    }
    rows.push(row);
  }
  const findings: AuditFinding[] = [];
  const disclosed: { header: string; value: string; transports: string[] }[] = [];
  for (const [line, b] of banners) {
    const value = line.slice(b.header.length + 2);
    if (VERSION_RE.test(value)) disclosed.push({ header: b.header, value, transports: b.transports });
  }
  if (disclosed.length > 0) {
    const first = disclosed[0] as { value: string };
    findings.push(
      makeFinding(
        'audit.version-disclosure',
        target.host,
        `${target.host} discloses its product and version: ${first.value.slice(0, 80)}`,
        { headers: disclosed, request, response: answer ?? null },
      ),
    );
  }
  const seen = new Set<string>();
  for (const d of disclosed) {
    for (const f of matchVersions(versions, d.value)) {
      const k = `${f.entry.product}|${f.entry.ids.join(',')}|${f.entry.reason}`;
      if (seen.has(k)) continue;
      seen.add(k);
      findings.push(
        makeFinding(
          'audit.vulnerable-version',
          `${target.host}|${f.entry.product}|${f.entry.ids.join(',') || f.entry.reason}`,
          `${f.entry.product} ${f.version} on ${target.host}: ${f.entry.reason === 'end-of-life' ? 'past end of life' : f.entry.reason === 'compromised-build' ? 'a compromised build' : f.entry.ids.join(', ')}`,
          {
            product: f.entry.product,
            version: f.version,
            reason: f.entry.reason,
            ids: f.entry.ids,
            summary: f.entry.summary,
            source: f.entry.source,
            header: `${d.header}: ${d.value}`,
            listUpdated: versions.updated,
            request,
            response: answer ?? null,
          },
          f.entry.reason === 'compromised-build'
            ? 'critical'
            : f.entry.reason === 'end-of-life'
              ? 'medium'
              : 'high',
        ),
      );
    }
  }
  const notes: string[] = [];
  if (facts.sipEndpoint === undefined)
    notes.push('no transport answered OPTIONS: later SIP checks are skipped');
  return { findings, data: { transports: rows, versionListUpdated: versions.updated }, notes };
}
