/**
 * The HTTP API of the live sensor: alerts, acknowledgements and suppressions from the store,
 * Prometheus metrics and the block list. Meant for 127.0.0.1 by default. Security:
 * - writes (POST, DELETE) need `Authorization: Bearer <token>` when a token is configured;
 * - a request body must be `application/json` (a cross-site form cannot send it without a CORS
 *   preflight, which this server never answers) and at most API_MAX_BODY_BYTES;
 * - the Host header must be an IP literal, `localhost`, or one of `allowedHosts`, so a web page
 *   that rebinds its DNS name to 127.0.0.1 cannot read or write through the browser.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import {
  API_MAX_BODY_BYTES,
  API_MAX_CONNECTIONS,
  API_REQUEST_TIMEOUT_MS,
  STORE_MAX_NOTE_CHARS,
} from '../config/limits.js';
import { isSeverity } from '../core/alert.js';
import { AlertStore, StoreError, type AlertQuery } from '../store/alert-store.js';
import { normalizeSource } from '../store/suppression.js';
import { parseDuration, parseTimeSpec } from '../store/time-spec.js';

/** Options of `createApiServer`. */
export interface ApiOptions {
  store: AlertStore;
  /** Prometheus text exposition for `GET /metrics` (404 when absent). */
  metrics?: () => string;
  /** Block list text for `GET /blocklist.txt` (404 when absent). */
  blocklist?: () => string;
  /** Bearer token required for writes. */
  token?: string;
  /** Host names besides IP literals and `localhost` the API answers to. */
  allowedHosts?: readonly string[];
  /** Wall clock (suppression times, relative `since`). */
  now?: () => number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Creates the API server (not yet listening: the caller picks the address, 127.0.0.1 by default). */
export function createApiServer(opts: ApiOptions): Server {
  const now = opts.now ?? Date.now;
  const token = opts.token !== undefined && opts.token !== '' ? Buffer.from(opts.token, 'utf8') : undefined;
  const hosts = new Set(['localhost', ...(opts.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  const server = createServer(
    { requestTimeout: API_REQUEST_TIMEOUT_MS, headersTimeout: API_REQUEST_TIMEOUT_MS },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          // An unread body stays on the socket: close it rather than parse it as the next request.
          if (err.status === 413) res.setHeader('connection', 'close');
          send(res, err.status, { error: err.message });
        } else if (err instanceof StoreError)
          send(res, err.code === 'invalid' ? 400 : err.code === 'full' ? 409 : 503, {
            error:
              err.code === 'invalid' || err.code === 'full' ? err.message : `store unavailable (${err.code})`,
          });
        else send(res, 500, { error: 'internal error' });
      });
    },
  );
  server.maxConnections = API_MAX_CONNECTIONS;
  server.keepAliveTimeout = 5000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, hosts)) throw new HttpError(403, 'host not allowed');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const parts = path.split('/').filter((p) => p !== '');

    if (path === '/healthz') {
      allow(method, ['GET', 'HEAD']);
      opts.store.cursor('healthz');
      return sendText(res, 200, 'ok\n', 'text/plain; charset=utf-8');
    }
    if (path === '/metrics') {
      allow(method, ['GET', 'HEAD']);
      if (opts.metrics === undefined) throw new HttpError(404, 'metrics are not enabled');
      return sendText(res, 200, opts.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
    }
    if (path === '/blocklist.txt') {
      allow(method, ['GET', 'HEAD']);
      if (opts.blocklist === undefined) throw new HttpError(404, 'the block list is not enabled');
      return sendText(res, 200, opts.blocklist(), 'text/plain; charset=utf-8');
    }
    if (parts[0] !== 'api') throw new HttpError(404, `no such path: ${path.slice(0, 100)}`);

    if (parts[1] === 'alerts' && parts.length === 2) {
      allow(method, ['GET', 'HEAD']);
      return send(res, 200, { alerts: opts.store.list(alertQuery(url.searchParams, now())) });
    }
    if (parts[1] === 'alerts' && parts.length === 3) {
      allow(method, ['GET', 'HEAD']);
      const id = parts[2] ?? '';
      const a = opts.store.get(id);
      if (a === undefined) throw new HttpError(404, 'no such alert');
      return send(res, 200, { ...a, revisions: opts.store.revisions(id) });
    }
    if (parts[1] === 'alerts' && parts.length === 4 && parts[3] === 'ack') {
      allow(method, ['POST']);
      authorize(req, token);
      const body = await readJson(req);
      const by = optionalString(body, 'by') ?? 'api';
      const note = optionalString(body, 'note');
      const ack = opts.store.ack(parts[2] ?? '', by, note);
      if (ack === undefined) throw new HttpError(404, 'no such alert');
      return send(res, 200, ack);
    }
    if (parts[1] === 'suppressions' && parts.length === 2) {
      allow(method, ['GET', 'HEAD', 'POST']);
      if (method !== 'POST') return send(res, 200, { suppressions: opts.store.suppressions() });
      authorize(req, token);
      const body = await readJson(req);
      return send(res, 201, opts.store.suppress(suppressionInput(body, now())));
    }
    if (parts[1] === 'suppressions' && parts.length === 3) {
      allow(method, ['DELETE']);
      authorize(req, token);
      const n = parts[2] ?? '';
      if (!/^\d{1,15}$/.test(n)) throw new HttpError(400, 'a suppression number is expected');
      if (!opts.store.unsuppress(Number(n))) throw new HttpError(404, 'no such suppression');
      res.writeHead(204, baseHeaders()).end();
      return;
    }
    throw new HttpError(404, `no such path: ${path.slice(0, 100)}`);
  }

  return server;
}

function hostAllowed(host: string | undefined, hosts: ReadonlySet<string>): boolean {
  if (host === undefined) return true; // HTTP/1.0 clients; browsers always send Host.
  let name = host.toLowerCase();
  if (name.startsWith('[')) return isIP(name.slice(1, name.indexOf(']'))) === 6;
  const colon = name.lastIndexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  return isIP(name) !== 0 || hosts.has(name);
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, `method ${method.slice(0, 16)} not allowed here`);
}

function authorize(req: IncomingMessage, token: Buffer | undefined): void {
  if (token === undefined) return;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  const given = Buffer.from(m?.[1] ?? '', 'utf8');
  // Compare in constant time: a timing difference would leak the token byte by byte.
  if (given.length !== token.length || !timingSafeEqual(given, token))
    throw new HttpError(401, 'a valid bearer token is required for this request');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'the request body must be application/json');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > API_MAX_BODY_BYTES) {
    throw new HttpError(413, `request body larger than ${API_MAX_BODY_BYTES} bytes`);
  }
  const text = (await readBody(req)).toString('utf8');
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      `request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HttpError(400, 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** Reads a body up to the bound; past it stops reading (the 413 answer closes the connection). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > API_MAX_BODY_BYTES) {
        req.off('data', onData);
        req.pause();
        reject(new HttpError(413, `request body larger than ${API_MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `'${key}' must be a string`);
  if (v.length > STORE_MAX_NOTE_CHARS)
    throw new HttpError(400, `'${key}' is longer than ${STORE_MAX_NOTE_CHARS} characters`);
  return v;
}

function alertQuery(p: URLSearchParams, now: number): AlertQuery {
  const q: AlertQuery = {};
  for (const k of ['since', 'until'] as const) {
    const t = p.get(k);
    if (t === null) continue;
    const ms = parseTimeSpec(t, now);
    if (ms === undefined) throw new HttpError(400, `'${k}' must be an ISO time or a duration like 2h`);
    q[k] = ms;
  }
  const rule = p.get('rule');
  if (rule !== null) q.rule = rule;
  const state = p.get('state');
  if (state !== null) {
    if (state !== 'open' && state !== 'closed') throw new HttpError(400, "'state' must be open or closed");
    q.state = state;
  }
  const sev = p.get('severity');
  if (sev !== null) {
    if (!isSeverity(sev)) throw new HttpError(400, "'severity' must be info, low, medium, high or critical");
    q.severity = sev;
  }
  const site = p.get('site');
  if (site !== null) q.site = site;
  const limit = p.get('limit');
  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit) || Number(limit) === 0)
      throw new HttpError(400, "'limit' must be a positive number");
    q.limit = Number(limit);
  }
  const all = p.get('includeSuppressed');
  if (all === 'true' || all === '1') q.includeSuppressed = true;
  return q;
}

function suppressionInput(body: Record<string, unknown>, now: number): Parameters<AlertStore['suppress']>[0] {
  const rule = optionalString(body, 'rule');
  const source = optionalString(body, 'source');
  const identity = optionalString(body, 'identity');
  const reason = optionalString(body, 'reason');
  if (source !== undefined && normalizeSource(source) === undefined)
    throw new HttpError(400, "'source' must be an IP address or CIDR range");
  if (!rule && !identity && source === undefined)
    throw new HttpError(400, "a suppression needs 'rule', 'source' or 'identity'");
  let until: number;
  const forText = optionalString(body, 'for');
  if (forText !== undefined) {
    const ms = parseDuration(forText);
    if (ms === undefined) throw new HttpError(400, "'for' must be a duration like 30m, 24h, 7d");
    until = now + ms;
  } else if (typeof body.until === 'string') {
    const ms = parseDuration(body.until) === undefined ? parseTimeSpec(body.until, now) : undefined;
    if (ms === undefined) throw new HttpError(400, "'until' must be an ISO time (or give 'for')");
    until = ms;
  } else if (typeof body.until === 'number' && Number.isFinite(body.until)) {
    until = body.until;
  } else throw new HttpError(400, "a suppression needs 'for' (a duration) or 'until' (a time)");
  return {
    until,
    ...(rule ? { rule } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(identity ? { identity } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

function baseHeaders(): Record<string, string> {
  return { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, `${JSON.stringify(body)}\n`, JSON_TYPE);
}

function sendText(res: ServerResponse, status: number, text: string, type: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...baseHeaders(),
    'content-type': type,
    'content-length': Buffer.byteLength(text, 'utf8'),
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
