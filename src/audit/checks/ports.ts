/**
 * Port exposure: a TCP connect to each port of the 3CX port guide's list (nothing is written; the
 * connection is closed at once) and a SIP OPTIONS over UDP to 5060/5090. For each open port: what
 * it is and whether it should face the internet.
 */
import { connect } from 'node:net';
import type { Severity } from '../../core/alert.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import type { CheckContext, CheckOutcome } from '../context.js';
import { answerSignature, uriHost } from '../context.js';
import { evidenceLine } from '../evidence.js';
import { answerText, evidenceText, hostPort } from '../sip-probe.js';

/** Whether a port should face the internet. */
export type Exposure = 'expected' | 'restrict' | 'never';

/** One row of the port table. */
export interface PortInfo {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly what: string;
  readonly exposure: Exposure;
  /** Severity when open and not `expected`. */
  readonly severity: Severity;
  readonly advice: string;
}

/** The ports examined by default and what each one is (3CX first, then generic SIP). */
export const PORT_TABLE: readonly PortInfo[] = [
  {
    port: 5060,
    protocol: 'udp',
    what: 'SIP (UDP)',
    exposure: 'restrict',
    severity: 'low',
    advice: 'open only to SIP trunk providers; remote phones through the 3CX SBC/tunnel or TLS',
  },
  {
    port: 5060,
    protocol: 'tcp',
    what: 'SIP (TCP)',
    exposure: 'restrict',
    severity: 'low',
    advice: 'open only to SIP trunk providers',
  },
  {
    port: 5061,
    protocol: 'tcp',
    what: 'SIP over TLS',
    exposure: 'expected',
    severity: 'info',
    advice: 'may face the internet for remote phones using TLS',
  },
  {
    port: 5090,
    protocol: 'udp',
    what: '3CX tunnel (apps, SBC)',
    exposure: 'expected',
    severity: 'info',
    advice: 'may face the internet when 3CX apps or SBCs connect from outside',
  },
  {
    port: 5090,
    protocol: 'tcp',
    what: '3CX tunnel (apps, SBC)',
    exposure: 'expected',
    severity: 'info',
    advice: 'may face the internet when 3CX apps or SBCs connect from outside',
  },
  {
    port: 80,
    protocol: 'tcp',
    what: 'HTTP (web console/provisioning in clear text)',
    exposure: 'restrict',
    severity: 'medium',
    advice: 'serve the console and provisioning over HTTPS only; close HTTP or redirect it',
  },
  {
    port: 443,
    protocol: 'tcp',
    what: 'HTTPS (3CX web client, console, provisioning)',
    exposure: 'expected',
    severity: 'info',
    advice: 'may face the internet for apps and provisioning; restrict the console with console restrictions',
  },
  {
    port: 5000,
    protocol: 'tcp',
    what: '3CX HTTP management (clear text)',
    exposure: 'never',
    severity: 'medium',
    advice: 'never expose: credentials cross it in clear text',
  },
  {
    port: 5001,
    protocol: 'tcp',
    what: '3CX HTTPS (web client, console, provisioning)',
    exposure: 'expected',
    severity: 'info',
    advice: 'may face the internet for apps and provisioning; restrict the console with console restrictions',
  },
  {
    port: 5015,
    protocol: 'tcp',
    what: '3CX installation wizard (web config tool)',
    exposure: 'never',
    severity: 'high',
    advice: 'never expose: it configures the PBX; it should not even run after installation',
  },
  {
    port: 5432,
    protocol: 'tcp',
    what: 'PostgreSQL (3CX database)',
    exposure: 'never',
    severity: 'high',
    advice: 'never expose: bind it to localhost and firewall it',
  },
  {
    port: 5480,
    protocol: 'tcp',
    what: 'PostgreSQL (3CX database, Windows installations)',
    exposure: 'never',
    severity: 'high',
    advice: 'never expose: bind it to localhost and firewall it',
  },
];

/** Result of one port probe. */
export type PortState = 'open' | 'closed' | 'filtered' | 'answered' | 'no-answer' | 'error';

/** TCP connect without writing anything: open, closed (refused) or filtered (timeout). */
export async function tcpConnectProbe(ctx: CheckContext, port: number): Promise<PortState> {
  const { probe, target, options } = ctx;
  if (!probe.scope.allows(target.address)) return 'error';
  await probe.limiter.take();
  return new Promise<PortState>((resolve) => {
    const s = connect({
      host: target.address,
      port,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    const done = (st: PortState): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(st);
    };
    const timer = setTimeout(() => done('filtered'), options.timeoutMs);
    s.once('connect', () => done('open'));
    s.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'closed' : err.code === 'ETIMEDOUT' ? 'filtered' : 'error'),
    );
  });
}

/** Runs the port check. */
export async function runPortCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const { options, target, facts } = ctx;
  const tcpPorts = options.tcpPorts ?? PORT_TABLE.filter((p) => p.protocol === 'tcp').map((p) => p.port);
  const udpPorts = options.udpPorts ?? PORT_TABLE.filter((p) => p.protocol === 'udp').map((p) => p.port);
  const rows: {
    port: number;
    protocol: string;
    state: PortState;
    what: string;
    exposure: string;
    answer?: string;
  }[] = [];
  const findings: AuditFinding[] = [];
  const info = (port: number, protocol: 'tcp' | 'udp'): PortInfo =>
    PORT_TABLE.find((p) => p.port === port && p.protocol === protocol) ?? {
      port,
      protocol,
      what: 'unlisted port',
      exposure: 'restrict',
      severity: 'low',
      advice: 'open only to the addresses that need it',
    };
  for (const port of tcpPorts) {
    const state = await tcpConnectProbe(ctx, port);
    const i = info(port, 'tcp');
    rows.push({ port, protocol: 'tcp', state, what: i.what, exposure: i.exposure });
    if (state === 'open') facts.openTcp.add(port);
    if (state === 'open' && i.exposure !== 'expected')
      findings.push(
        portFinding(ctx, i, 'connect succeeded', {
          request: evidenceLine(
            `TCP connect to ${hostPort(target.address, port)} (nothing written, closed at once)`,
          ),
          response: evidenceLine('connection accepted'),
        }),
      );
  }
  for (const port of udpPorts) {
    const ex = await ctx.probe.request(
      { address: target.address, port, transport: 'udp', host: target.host },
      { method: 'OPTIONS', requestUri: `sip:${uriHost(ctx)}:${port}` },
    );
    const state: PortState =
      ex.final !== undefined ? 'answered' : ex.error !== undefined ? 'error' : 'no-answer';
    const i = info(port, 'udp');
    rows.push({
      port,
      protocol: 'udp',
      state,
      what: i.what,
      exposure: i.exposure,
      ...(ex.final !== undefined ? { answer: answerSignature(ex.final) } : {}),
    });
    if (state === 'answered' && i.exposure !== 'expected') {
      findings.push(
        portFinding(ctx, i, `SIP OPTIONS answered ${ex.final?.status ?? ''}`, {
          request: evidenceText(ex.request),
          response: answerText(ex.final) ?? '',
        }),
      );
    }
  }
  return {
    findings,
    data: { ports: rows },
    notes: [
      'UDP ports are judged by a SIP OPTIONS: a UDP service that ignores SIP is reported as no-answer (open or filtered).',
    ],
  };
}

function portFinding(
  ctx: CheckContext,
  i: PortInfo,
  how: string,
  exchange: { request: string; response: string },
): AuditFinding {
  return makeFinding(
    'audit.port-exposed',
    `${ctx.target.host}|${i.protocol}/${i.port}`,
    `${i.what} (${i.protocol.toUpperCase()} ${i.port}) is reachable on ${ctx.target.host}`,
    {
      port: i.port,
      protocol: i.protocol,
      service: i.what,
      shouldFaceInternet: i.exposure,
      advice: i.advice,
      observed: how,
      ...exchange,
    },
    i.severity,
  );
}
