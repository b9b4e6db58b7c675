/**
 * SIP message counts must equal tshark's on every capture it decodes: requests by method and
 * responses by status code, several per frame on TCP. HEP captures (tshark 4.0 has no HEP
 * dissector) and SCTP are compared elsewhere; captures on non-standard ports get tshark's
 * decode-as. Each known difference is listed with its reason.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFiles } from '../../src/cli/analyze.js';
import { haveTshark, tsharkSipCounts } from '../helpers/tshark.js';

const CORPUS = '../shared/corpus/pcap';
const DECODE_AS: Record<string, string[]> = {
  'heplify/sip_ipv4_tcp_fragmented.pcap': ['tcp.port==6060,sip'],
  'suricata-verify/sip-pattern-matching/sip.pcap': ['udp.port==5062,sip'],
  'suricata-verify/sip-tcp-pattern-matching/sip.pcap': ['tcp.port==5062,sip'],
  'sngrep/ipv6frag.pcap': ['udp.port==5062,sip'],
  'sngrep/ipip.pcap': ['tcp.port==5090,sip'],
};
/** Captures tshark cannot be compared on, and why. */
const SKIP: Record<string, string> = {
  'hep/hep.pcap': 'HEP: tshark 4.0 has no HEP dissector (test/decode/hep.test.ts checks it)',
  'hep/hep3_compressed.pcap.pcapng':
    'HEP: tshark 4.0 has no HEP dissector (test/decode/hep.test.ts checks it)',
  'heplify/sip_sctp.pcap': 'SIP over SCTP is not decoded by sipwarden yet',
};

function corpusCaptures(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else if (/\.pcap(ng)?$/.test(e.name)) out.push(r);
    }
  };
  walk(CORPUS, '');
  return out.sort();
}

test('tshark is installed (CI installs it; see .ci/run)', () => {
  assert.ok(haveTshark(), 'install tshark: DEBIAN_FRONTEND=noninteractive apt-get install -y tshark');
});

for (const rel of corpusCaptures().filter((r) => SKIP[r] === undefined)) {
  test(`SIP counts equal tshark's: corpus ${rel}`, async () => {
    const file = join(CORPUS, rel);
    const expected = tsharkSipCounts(file, DECODE_AS[rel] ?? []);
    const { document } = await analyzeFiles([file]);
    assert.deepEqual(
      { requests: document.summary.requests, responses: document.summary.responses },
      expected,
    );
  });
}

const LAB = 'test/fixtures/captures';
const labCaptures = readdirSync(LAB)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();
for (const f of labCaptures) {
  test(`SIP counts equal tshark's: lab ${f}`, async () => {
    const file = join(LAB, f);
    const expected = tsharkSipCounts(file);
    const { document } = await analyzeFiles([file]);
    assert.deepEqual(
      { requests: document.summary.requests, responses: document.summary.responses },
      expected,
    );
  });
}
