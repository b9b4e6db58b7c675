/**
 * Unauthenticated access: an INVITE without credentials to `--test-number` (a number the owner
 * controls), cancelled at the first provisional answer and ended with BYE if it is ever answered,
 * so nothing is billed; an OPTIONS and a MESSAGE without credentials. Also the SRTP assessment of
 * every SDP answer the audit saw (the INVITE's, and OPTIONS bodies).
 */
import { randomBytes } from 'node:crypto';
import { isSecure, parseSdp } from '../../sdp/parser.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import {
  answerSignature,
  uriHost,
  type AuditFacts,
  type CheckContext,
  type CheckOutcome,
} from '../context.js';
import { answerText, evidenceText, hostPort, type SipAnswer } from '../sip-probe.js';

/** An SDP offer with plain RTP and an SDES key (best-effort SRTP), so the answer says what the PBX takes. */
export function offerSdp(localAddress: string): string {
  const key = randomBytes(30).toString('base64');
  const ip6 = localAddress.includes(':');
  return [
    'v=0',
    `o=sipwarden 1 1 IN ${ip6 ? 'IP6' : 'IP4'} ${localAddress}`,
    's=sipwarden audit',
    `c=IN ${ip6 ? 'IP6' : 'IP4'} ${localAddress}`,
    't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** Runs the unauthenticated-access check (the call test only with a test number). */
export async function runUnauthenticatedCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const ep = ctx.facts.sipEndpoint;
  const findings: AuditFinding[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  if (ep === undefined)
    return { findings, data, notes: ['no SIP transport answered'], skipped: 'no SIP answer' };
  const host = uriHost(ctx);
  const number = ctx.options.testNumber;
  if (number === undefined) {
    notes.push('no --test-number: the call test did not run (it dials only a number the owner controls)');
  } else {
    let firstProvisional: SipAnswer | undefined;
    let cancelledAt: number | undefined;
    const ex = await ctx.probe.request(
      ep,
      {
        method: 'INVITE',
        requestUri: `sip:${number}@${host}`,
        body: offerSdp(ctx.options.localAddress ?? (ep.address.includes(':') ? '::1' : '127.0.0.1')),
        contentType: 'application/sdp',
      },
      {
        onProvisional: (a, cancel) => {
          if (firstProvisional === undefined) {
            firstProvisional = a;
            cancelledAt = a.status;
          }
          cancel();
        },
      },
    );
    const statuses = ex.answers.map((a) => a.status);
    const progressed = ex.answers.find((a) => a.status >= 180 && a.status < 300);
    const final = ex.final;
    // 487 after our CANCEL: the INVITE was being routed, unchallenged.
    const routed = final !== undefined && final.status === 487;
    const challenged = final !== undefined && (final.status === 401 || final.status === 407);
    for (const a of ex.answers) {
      if (a.message.body.length > 0 && (a.message.mediaType ?? '').toLowerCase() === 'application/sdp') {
        ctx.facts.sdpAnswers.push({
          source: `INVITE answer ${a.status}`,
          body: a.message.body.toString('latin1'),
          request: evidenceText(ex.request),
          response: answerText(a) ?? '',
        });
      }
    }
    data.call = {
      number,
      statuses,
      final: answerSignature(final),
      cancelledAtProvisional: cancelledAt ?? null,
      timedOut: ex.timedOut,
    };
    if (progressed !== undefined || routed || (final !== undefined && final.status < 300)) {
      const answered = final !== undefined && final.status >= 200 && final.status < 300;
      findings.push(
        makeFinding(
          'audit.unauthenticated-call',
          `${ctx.target.host}|INVITE`,
          `An INVITE to ${number} without credentials ${answered ? 'was answered' : 'progressed'} (${statuses.join(', ')})`,
          {
            method: 'INVITE',
            testNumber: number,
            statuses,
            answered,
            safety: answered
              ? 'the call was answered and hung up at once (ACK, BYE)'
              : 'cancelled at the first provisional answer',
            request: evidenceText(ex.request),
            response: answerText(progressed ?? final) ?? null,
          },
        ),
      );
    } else if (!challenged && final !== undefined) {
      notes.push(`the unauthenticated INVITE was refused without a challenge (${final.status})`);
    } else if (final === undefined) {
      notes.push('the unauthenticated INVITE got no final answer');
    }
  }
  // MESSAGE: to the test number when given, else to a random user (a PBX that relays it unchallenged
  // can be used to spoof messages to its users).
  const to = number ?? `9${randomBytes(4).readUInt32BE(0) % 100000000}`;
  const msg = await ctx.probe.request(ep, {
    method: 'MESSAGE',
    requestUri: `sip:${to}@${host}`,
    body: 'sipwarden audit: unauthenticated MESSAGE test',
    contentType: 'text/plain',
  });
  data.message = { to, answer: answerSignature(msg.final) };
  if (msg.final !== undefined && msg.final.status >= 200 && msg.final.status < 300) {
    findings.push(
      makeFinding(
        'audit.unauthenticated-call',
        `${ctx.target.host}|MESSAGE`,
        `A MESSAGE to ${to} without credentials was accepted (${msg.final.status})`,
        {
          method: 'MESSAGE',
          to,
          request: evidenceText(msg.request),
          response: answerText(msg.final) ?? null,
        },
        'medium',
      ),
    );
  }
  const opt = await ctx.probe.request(ep, {
    method: 'OPTIONS',
    requestUri: `sip:${number ?? 'sipwarden-probe'}@${host}`,
  });
  data.options = { answer: answerSignature(opt.final) };
  data.endpoint = `${ep.transport}:${hostPort(ep.address, ep.port)}`;
  return { findings, data, notes };
}

/** The SRTP assessment over every SDP answer the audit saw (no traffic of its own). */
export function assessSrtp(ctx: CheckContext, facts: AuditFacts): CheckOutcome {
  if (facts.sdpAnswers.length === 0) {
    return {
      findings: [],
      data: { sdpAnswers: 0 },
      notes: [
        'no SDP answer was seen (no --test-number, or the PBX answers OPTIONS without SDP): SRTP not tested',
      ],
    };
  }
  const seen: { source: string; protos: string[]; secure: boolean }[] = [];
  for (const a of facts.sdpAnswers) {
    const sdp = parseSdp(Buffer.from(a.body, 'latin1'));
    const audio = sdp.media.filter((m) => m.port !== 0);
    if (audio.length === 0) continue;
    seen.push({
      source: a.source,
      protos: audio.map((m) => m.proto),
      secure: audio.every((m) => isSecure(m)),
    });
  }
  const findings: AuditFinding[] = [];
  const plain = seen.filter((s) => !s.secure);
  if (seen.length > 0 && plain.length === seen.length) {
    findings.push(
      makeFinding(
        'audit.no-srtp',
        ctx.target.host,
        `${ctx.target.host} answers SDP with plain RTP only (${plain.map((p) => p.protos.join('/')).join(', ')})`,
        {
          answers: seen,
          request: facts.sdpAnswers[0]?.request ?? '',
          response: facts.sdpAnswers[0]?.response ?? '',
        },
      ),
    );
  }
  return { findings, data: { answers: seen }, notes: [] };
}
