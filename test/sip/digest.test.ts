import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  computeDigestResponse,
  digestHashName,
  digestMatches,
  digestResponder,
  digestSupported,
  parseChallengesText,
  type DigestInput,
  parseCredentialsText,
} from '../../src/sip/digest.js';
import { parseSipMessage } from '../../src/sip/message.js';

const h = (alg: string, s: string): string => createHash(alg).update(s).digest('hex');

describe('Digest challenges', () => {
  it('reads credential parameter names in any case and keeps the scheme as written', () => {
    const c = parseCredentialsText(
      'dIGEST USERNAME="alice", Realm="r", NONCE="n\\"x", Uri="sip:r", Response="abc", NC=0000000a, CNonce="c", QOP=auth, X-Extra=1',
    );
    assert.ok(c);
    assert.equal(c.scheme, 'dIGEST');
    assert.equal(c.isDigest, true);
    assert.equal(c.username, 'alice');
    assert.equal(c.realm, 'r');
    assert.equal(c.nonce, 'n"x');
    assert.equal(c.uri, 'sip:r');
    assert.equal(c.response, 'abc');
    assert.equal(c.nc, 10);
    assert.equal(c.cnonce, 'c');
    assert.equal(c.qop, 'auth');
    assert.deepEqual(
      [...c.params.keys()],
      ['username', 'realm', 'nonce', 'uri', 'response', 'nc', 'cnonce', 'qop', 'x-extra'],
    );
  });

  it('reads realm, nonce, opaque, stale, algorithm, qop list and domain', () => {
    const [c, ...rest] = parseChallengesText(
      'Digest realm="atlanta.example.com", domain="sip:ss1.example.com sip:ss2.example.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5',
    );
    assert.equal(rest.length, 0);
    assert.ok(c);
    assert.equal(c.scheme, 'Digest');
    assert.equal(c.isDigest, true);
    assert.equal(c.realm, 'atlanta.example.com');
    assert.equal(c.nonce, 'f84f1cec41e6cbe5aea9c8e88d359');
    assert.equal(c.opaque, '');
    assert.equal(c.stale, false);
    assert.equal(c.algorithm, 'MD5');
    assert.deepEqual(c.qop, ['auth', 'auth-int']);
    assert.deepEqual(c.domain, ['sip:ss1.example.com', 'sip:ss2.example.com']);
    assert.equal(parseChallengesText('Digest realm="r", nonce="n", stale=true')[0]?.stale, true);
    assert.equal(parseChallengesText('Digest realm="r", nonce="n"')[0]?.stale, undefined);
  });

  it('reads several challenges in one field and keeps unknown schemes', () => {
    const list = parseChallengesText(
      'Digest realm="r", nonce="a", algorithm=SHA-256, Digest realm="r", nonce="b", algorithm=MD5, Newauth realm="x"',
    );
    assert.deepEqual(
      list.map((c) => [c.scheme, c.nonce ?? c.realm, c.algorithm]),
      [
        ['Digest', 'a', 'SHA-256'],
        ['Digest', 'b', 'MD5'],
        ['Newauth', 'x', undefined],
      ],
    );
  });

  it('reads every challenge of a response, with their issues as anomalies', () => {
    const m = parseSipMessage(
      Buffer.from(
        [
          'SIP/2.0 401 Unauthorized',
          'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx',
          'From: <sip:a@b>;tag=1',
          'To: <sip:a@b>;tag=2',
          'Call-ID: c',
          'CSeq: 1 REGISTER',
          'WWW-Authenticate: Digest realm="b", nonce="n1", algorithm=SHA-256, qop="auth"',
          'WWW-Authenticate: Digest realm="b", nonce="n2", algorithm=MD5, qop="auth"',
          'Proxy-Authenticate: Digest realm="b", nonce="open',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      ),
    );
    assert.deepEqual(
      m.wwwAuthenticate.map((c) => c.nonce),
      ['n1', 'n2'],
    );
    assert.equal(m.proxyAuthenticate[0]?.nonce, 'open');
    assert.deepEqual(
      m.anomalies.map((a) => `${a.code}:${a.detail}`),
      ['sip_unterminated_quote:Proxy-Authenticate'],
    );
  });
});

describe('Digest credentials', () => {
  it('reads every parameter, the nonce count as hex', () => {
    const c = parseCredentialsText(
      'Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.example.com", qop=auth, nc=0000000a, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5',
    );
    assert.ok(c);
    assert.equal(c.isDigest, true);
    assert.equal(c.username, 'bob');
    assert.equal(c.realm, 'biloxi.example.com');
    assert.equal(c.nonce, 'dcd98b7102dd2f0e8b11d0f600bfb0c093');
    assert.equal(c.uri, 'sip:bob@biloxi.example.com');
    assert.equal(c.qop, 'auth');
    assert.equal(c.nc, 10);
    assert.equal(c.ncRaw, '0000000a');
    assert.equal(c.cnonce, '0a4f113b');
    assert.equal(c.response, '6629fae49393a05397450978507c4ef1');
    assert.equal(c.opaque, '5ccc069c403ebaf9f0171e9517f40e41');
    assert.equal(c.algorithm, 'MD5');
  });

  it('decodes username* (RFC 7616), escapes in quoted values, and keeps other schemes', () => {
    assert.equal(
      parseCredentialsText('Digest username*=UTF-8\'\'J%C3%A4s%C3%B8n%20Doe, realm="r"')?.username,
      'Jäsøn Doe',
    );
    assert.equal(parseCredentialsText('Digest username="a\\"b", realm="r"')?.username, 'a"b');
    const basic = parseCredentialsText('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    assert.equal(basic?.scheme, 'Basic');
    assert.equal(basic?.token68, 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    assert.equal(parseCredentialsText('Digest nc=zz')?.nc, undefined);
  });

  it('reports malformed fields', () => {
    const issues = (text: string): string[] => {
      const m = parseSipMessage(
        Buffer.from(
          `REGISTER sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nAuthorization: ${text}\r\n\r\n`,
        ),
      );
      return m.anomalies.map((a) => a.code);
    };
    assert.deepEqual(issues('Digest username="bob, jr", realm="r"'), []);
    assert.deepEqual(issues('Digest username="bob'), ['sip_unterminated_quote']);
    assert.deepEqual(issues('Digest username=bob realm=r'), ['sip_bad_auth_header']);
    assert.deepEqual(issues('Digest ,,= x'), ['sip_bad_auth_header']);
  });
});

describe('computeDigestResponse', () => {
  it('matches the RFC 2617 section 3.5 example', () => {
    const cred = parseCredentialsText(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    assert.ok(cred);
    assert.equal(computeDigestResponse(cred, 'Circle Of Life', 'GET'), '6629fae49393a05397450978507c4ef1');
    assert.equal(digestMatches(cred, 'Circle Of Life', 'GET'), true);
    assert.equal(digestMatches(cred, 'circle of life', 'GET'), false);
    assert.equal(digestMatches(cred, 'Circle Of Life', 'REGISTER'), false);
  });

  it('matches the RFC 7616 section 3.9.1 MD5 and SHA-256 examples', () => {
    const base = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      uri: '/dir/index.html',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      ncRaw: '00000001',
    };
    assert.equal(
      computeDigestResponse({ ...base, algorithm: 'MD5' }, 'Circle of Life', 'GET'),
      '8ca523f5e9506fed4657c9700eebdbec',
    );
    assert.equal(
      computeDigestResponse({ ...base, algorithm: 'SHA-256' }, 'Circle of Life', 'GET'),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('computes RFC 2069 (no qop), -sess, auth-int and SHA-512-256 forms', () => {
    const p = { username: 'u', realm: 'r', nonce: 'n', uri: 'sip:r', cnonce: 'c', ncRaw: '00000002' };
    assert.equal(
      computeDigestResponse({ ...p, algorithm: undefined, qop: undefined }, 'pw', 'REGISTER'),
      h('md5', `${h('md5', 'u:r:pw')}:n:${h('md5', 'REGISTER:sip:r')}`),
    );
    const ha1 = h('sha512-256', `${h('sha512-256', 'u:r:pw')}:n:c`);
    assert.equal(
      computeDigestResponse({ ...p, algorithm: 'SHA-512-256-sess', qop: 'auth' }, 'pw', 'INVITE'),
      h('sha512-256', `${ha1}:n:00000002:c:auth:${h('sha512-256', 'INVITE:sip:r')}`),
    );
    const body = Buffer.from('v=0\r\n');
    const ha2 = h('sha256', `INVITE:sip:r:${h('sha256', 'v=0\r\n')}`);
    assert.equal(
      computeDigestResponse({ ...p, algorithm: 'sha-256', qop: 'auth-int' }, 'pw', 'INVITE', body),
      h('sha256', `${h('sha256', 'u:r:pw')}:n:00000002:c:auth-int:${ha2}`),
    );
  });

  it('gives undefined when it cannot compute', () => {
    const p = {
      username: 'u',
      realm: 'r',
      nonce: 'n',
      uri: 'sip:r',
      cnonce: 'c',
      ncRaw: '00000001',
      qop: 'auth',
    };
    assert.equal(computeDigestResponse({ ...p, algorithm: 'SHA-1' }, 'pw', 'REGISTER'), undefined);
    assert.equal(
      computeDigestResponse({ ...p, algorithm: 'MD5', nonce: undefined }, 'pw', 'REGISTER'),
      undefined,
    );
    assert.equal(
      computeDigestResponse({ ...p, algorithm: 'MD5', cnonce: undefined }, 'pw', 'REGISTER'),
      undefined,
    );
    assert.equal(
      computeDigestResponse({ ...p, algorithm: 'MD5', qop: 'bogus' }, 'pw', 'REGISTER'),
      undefined,
    );
    assert.equal(digestHashName('SHA-512-256'), 'sha512-256');
    assert.equal(digestHashName(undefined), 'md5');
    assert.equal(digestHashName('AKAv1-MD5'), undefined);
  });

  it('digestResponder follows the RFC formulas for every algorithm, qop and password', () => {
    // The reference, written from RFC 7616 section 3.4.1 as plainly as it reads.
    const reference = (c: DigestInput, password: string, method: string, body: Buffer): string => {
      const alg = digestHashName(c.algorithm) as string;
      const hx = (d: string | Buffer): string => createHash(alg).update(d).digest('hex');
      const qop = c.qop?.toLowerCase();
      let ha1 = hx(`${c.username}:${c.realm}:${password}`);
      if ((c.algorithm ?? '').toLowerCase().endsWith('-sess')) ha1 = hx(`${ha1}:${c.nonce}:${c.cnonce}`);
      const ha2 = qop === 'auth-int' ? hx(`${method}:${c.uri}:${hx(body)}`) : hx(`${method}:${c.uri}`);
      return qop === undefined
        ? hx(`${ha1}:${c.nonce}:${ha2}`)
        : hx(`${ha1}:${c.nonce}:${c.ncRaw}:${c.cnonce}:${qop}:${ha2}`);
    };
    const body = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.31\r\n', 'latin1');
    let compared = 0;
    for (const algorithm of [undefined, 'MD5', 'md5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256']) {
      for (const qop of [undefined, 'auth', 'AUTH-INT']) {
        const input: DigestInput = {
          username: '1001',
          realm: 'pbx.example',
          nonce: 'a1b2c3d4e5',
          uri: 'sip:pbx.example',
          algorithm,
          cnonce: qop === undefined && !(algorithm ?? '').endsWith('-sess') ? undefined : 'c0ffee',
          qop,
          ncRaw: qop === undefined ? undefined : '0000000a',
        };
        assert.equal(digestSupported(input), true, `${algorithm} ${qop}`);
        const respond = digestResponder(input, 'REGISTER', body);
        assert.ok(respond !== undefined, `${algorithm} ${qop}`);
        for (const password of ['', '1001', 'pässwörd', '12345678901234567890']) {
          const want = reference(input, password, 'REGISTER', body);
          assert.equal(respond(password), want);
          assert.equal(computeDigestResponse(input, password, 'REGISTER', body), want);
          compared++;
        }
      }
    }
    assert.equal(compared, 6 * 3 * 4);
    // Unsupported: an unknown algorithm, a qop without its nonce count, missing parameters.
    const base: DigestInput = {
      username: '1001',
      realm: 'pbx.example',
      nonce: 'n',
      uri: 'sip:x',
      algorithm: 'SHA-1',
      cnonce: undefined,
      qop: undefined,
      ncRaw: undefined,
    };
    const unsupported: DigestInput[] = [
      base,
      { ...base, algorithm: 'MD5', qop: 'auth', cnonce: 'c' },
      { ...base, algorithm: 'MD5-sess' },
      { ...base, algorithm: undefined, qop: 'auth-conf', cnonce: 'c', ncRaw: '00000001' },
      { ...base, algorithm: undefined, uri: undefined },
      { ...base, algorithm: undefined, realm: undefined },
    ];
    for (const input of unsupported) {
      assert.equal(digestSupported(input), false);
      assert.equal(digestResponder(input, 'REGISTER', undefined), undefined);
      assert.equal(computeDigestResponse(input, 'x', 'REGISTER'), undefined);
    }
    assert.equal(digestSupported({ ...base, algorithm: 'sha-512-256-SESS', cnonce: 'c' }), true);
  });
});
