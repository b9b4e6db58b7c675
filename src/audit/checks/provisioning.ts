/**
 * Provisioning: a few common phone configuration paths fetched without credentials from the web
 * ports found open (HTTP on 80/5000, HTTPS on 443/5001), on the target host only. A control request
 * to a random path first: a server that answers every path alike (a web app's catch-all page) is not
 * leaking configuration. Redirects are recorded, not followed.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AUDIT_MAX_MESSAGE_BYTES } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import type { CheckContext, CheckOutcome } from '../context.js';
import { evidenceMessage } from '../evidence.js';
import { randomToken } from '../sip-probe.js';

/** Paths tried: the 3CX provisioning root and common vendors' default configuration names. */
export const PROVISIONING_PATHS: readonly string[] = [
  '/provisioning/',
  '/y000000000000.cfg',
  '/000000000000.cfg',
  '/000000000000-phone.cfg',
  '/XMLDefault.cnf.xml',
  '/spa.xml',
];

/** The User-Agent of the audit's HTTP requests (the owner finds them in the web server's log). */
export const AUDIT_HTTP_USER_AGENT = 'sipwarden-audit/0.1 (authorized security audit)';

/** Web ports and their scheme (3CX's console and provisioning ports). */
export const WEB_PORTS: readonly [number, 'http' | 'https'][] = [
  [80, 'http'],
  [5000, 'http'],
  [443, 'https'],
  [5001, 'https'],
];

/** Answer of one HTTP request. */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly truncated: boolean;
  readonly location: string | undefined;
  readonly server: string | undefined;
  /** The request as sent (start line and headers) and the answer's start line and headers, raw. */
  readonly requestText: string;
  readonly responseHead: string;
}

/** One GET without credentials (never follows a redirect), bounded in size and time. */
export async function httpGet(
  ctx: CheckContext,
  scheme: 'http' | 'https',
  port: number,
  path: string,
): Promise<HttpAnswer | { error: string }> {
  const { probe, target, options } = ctx;
  if (!probe.scope.allows(target.address)) return { error: 'not a target' };
  await probe.limiter.take();
  const fn = scheme === 'https' ? httpsRequest : httpRequest;
  const headers = {
    'User-Agent': AUDIT_HTTP_USER_AGENT,
    Host: target.host.includes(':') ? `[${target.host}]` : target.host,
    Connection: 'close',
  };
  const requestText = [
    `GET ${path} HTTP/1.1`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const req = fn(
      {
        host: target.address,
        port,
        path,
        method: 'GET',
        agent: false,
        timeout: options.timeoutMs,
        headers,
        ...(scheme === 'https'
          ? {
              rejectUnauthorized: false,
              ...(/^[\d.]+$|:/.test(target.host) ? {} : { servername: target.host }),
            }
          : {}),
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (c: Buffer) => {
          if (size >= AUDIT_MAX_MESSAGE_BYTES) {
            truncated = true;
            res.destroy();
            return;
          }
          chunks.push(c);
          size += c.length;
        });
        const raw = res.rawHeaders;
        const headLines = [`HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`];
        for (let i = 0; i + 1 < raw.length && i < 200; i += 2) headLines.push(`${raw[i]}: ${raw[i + 1]}`);
        const end = (): void =>
          resolve({
            requestText,
            responseHead: `${headLines.join('\r\n')}\r\n\r\n`,
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).subarray(0, AUDIT_MAX_MESSAGE_BYTES),
            truncated,
            location: res.headers.location,
            server: typeof res.headers.server === 'string' ? res.headers.server : undefined,
          });
        res.on('end', end);
        res.on('close', end);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/** True when a body looks like a phone configuration or a directory listing of them. */
export function looksLikeConfig(path: string, a: HttpAnswer): boolean {
  const text = a.body.toString('latin1', 0, Math.min(a.body.length, 8192));
  if (path.endsWith('/')) return /index of|\.(?:cfg|xml)\b/i.test(text);
  if (/^\s*<!doctype html|^\s*<html/i.test(text)) return false;
  return /sip|account|password|register|proxy|server|\[\w+\]|^\s*<\?xml/im.test(text);
}

/** Runs the provisioning check. */
export async function runProvisioningCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const ports = WEB_PORTS.filter(([p]) => ctx.facts.openTcp.has(p));
  if (ports.length === 0) {
    return { findings: [], data: {}, notes: [], skipped: 'no web port (80, 443, 5000, 5001) was found open' };
  }
  const findings: AuditFinding[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const [port, scheme] of ports) {
    const control = await httpGet(ctx, scheme, port, `/${randomToken(6)}.cfg`);
    const controlBody = 'error' in control ? undefined : control.body;
    for (const path of PROVISIONING_PATHS) {
      const a = await httpGet(ctx, scheme, port, path);
      if ('error' in a) {
        rows.push({ port, path, error: a.error });
        continue;
      }
      rows.push({
        port,
        path,
        status: a.status,
        bytes: a.body.length,
        ...(a.location ? { redirect: a.location } : {}),
      });
      const same = controlBody !== undefined && controlBody.equals(a.body);
      if (a.status === 200 && a.body.length > 0 && !same && looksLikeConfig(path, a)) {
        findings.push(
          makeFinding(
            'audit.provisioning-exposed',
            `${ctx.target.host}|${port}${path}`,
            `${scheme}://${ctx.target.host}:${port}${path} is readable without authentication`,
            {
              url: `${scheme}://${ctx.target.host}:${port}${path}`,
              status: a.status,
              contentType: a.contentType,
              bytes: a.body.length,
              // The first bytes only: a configuration may hold credentials.
              excerpt: escapeText(a.body.toString('latin1', 0, 120), 120),
              request: evidenceMessage(a.requestText),
              response: evidenceMessage(a.responseHead),
            },
          ),
        );
      }
    }
  }
  return {
    findings,
    data: { requests: rows },
    notes: [
      '3CX provisioning folders have random names; only their root and common vendor default names are tried',
    ],
  };
}
