import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyAddress,
  isInternalAddress,
  isPublicAddress,
  type AddressKind,
} from '../../src/detect/net.js';

test('IPv4 special-purpose ranges are classified by their registry entry', () => {
  const cases: [string, AddressKind][] = [
    ['8.8.8.8', 'public'],
    ['212.242.33.35', 'public'],
    ['172.168.0.252', 'public'], // outside 172.16.0.0/12
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['10.0.0.1', 'private'],
    ['192.168.1.2', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.0', 'public'],
    ['127.0.0.10', 'loopback'],
    ['127.100.3.4', 'loopback'],
    ['169.254.10.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.2', 'documentation'],
    ['203.0.113.7', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ];
  for (const [ip, kind] of cases) assert.equal(classifyAddress(ip), kind, ip);
});

test('IPv6 ranges, IPv4-mapped and NAT64 addresses, zone ids', () => {
  const cases: [string, AddressKind][] = [
    ['2a00:1450:4001:82b::200e', 'public'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['FE80::A00:27FF:FEB9:3519', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd17:625c:f037:2:a00:27ff:feb9:3519', 'private'],
    ['fc00::1', 'private'],
    ['fec0::1', 'private'],
    ['2001:db8::1', 'documentation'],
    ['3fff:1::1', 'documentation'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::c000:20a', 'documentation'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::1', 'private'],
  ];
  for (const [ip, kind] of cases) assert.equal(classifyAddress(ip), kind, ip);
});

test('what is not an address is invalid, never an exception', () => {
  for (const s of [
    '',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    ':::',
    'fe80::1%',
    '::ffff:zz:1',
    '\u0000',
    'a'.repeat(10_000),
  ]) {
    assert.equal(classifyAddress(s), 'invalid', JSON.stringify(s.slice(0, 20)));
    assert.equal(isPublicAddress(s), false);
    assert.equal(isInternalAddress(s), false);
  }
});

test('public and internal: documentation counts as public only when asked', () => {
  assert.equal(isPublicAddress('8.8.8.8'), true);
  assert.equal(isPublicAddress('203.0.113.7'), false);
  assert.equal(isPublicAddress('203.0.113.7', { documentationIsPublic: true }), true);
  assert.equal(isPublicAddress('2001:db8::5', { documentationIsPublic: true }), true);
  assert.equal(isPublicAddress('10.0.0.1', { documentationIsPublic: true }), false);
  assert.equal(isPublicAddress('127.0.0.1'), false);
  for (const ip of ['10.1.1.1', '127.0.0.1', '169.254.1.1', '100.64.1.1', 'fd00::1', 'fe80::2', '::1']) {
    assert.equal(isInternalAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '203.0.113.1', '224.0.0.1', '0.0.0.0', '2a00::1'])
    assert.equal(isInternalAddress(ip), false, ip);
});

/** A reference classifier over 32-bit integers, written independently from the BlockList one. */
function reference(n: number): AddressKind {
  const inNet = (base: string, bits: number): boolean => {
    const b = base.split('.').reduce((a, x) => a * 256 + Number(x), 0);
    const size = 2 ** (32 - bits);
    return n >= b && n < b + size;
  };
  if (inNet('0.0.0.0', 8)) return 'unspecified';
  if (inNet('10.0.0.0', 8) || inNet('172.16.0.0', 12) || inNet('192.168.0.0', 16)) return 'private';
  if (inNet('100.64.0.0', 10)) return 'cgnat';
  if (inNet('127.0.0.0', 8)) return 'loopback';
  if (inNet('169.254.0.0', 16)) return 'link-local';
  if (inNet('192.0.2.0', 24) || inNet('198.51.100.0', 24) || inNet('203.0.113.0', 24)) return 'documentation';
  if (inNet('192.0.0.0', 24) || inNet('198.18.0.0', 15) || inNet('240.0.0.0', 4)) return 'reserved';
  if (inNet('224.0.0.0', 4)) return 'multicast';
  return 'public';
}

test('property: random IPv4 addresses (and their IPv4-mapped form) agree with an integer reference', () => {
  let seed = 0x5eed;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const start = performance.now();
  for (let i = 0; i < 20_000; i++) {
    // Half the samples inside the interesting /8s, half anywhere.
    const n =
      i % 2 === 0
        ? rnd()
        : ((([0, 10, 100, 127, 169, 172, 192, 198, 203, 224, 240][rnd() % 11] as number) << 24) |
            (rnd() & 0xffffff)) >>>
          0;
    const ip = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    const want = reference(n);
    assert.equal(classifyAddress(ip), want, ip);
    assert.equal(classifyAddress(`::ffff:${ip}`), want, `::ffff:${ip}`);
  }
  assert.ok(performance.now() - start < 3000, 'classification is cheap');
});

test('fuzz: random strings never throw', () => {
  const alphabet = '0123456789abcdef:.%/ ffFF[]-x';
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const len = seed % 48;
    let s = '';
    for (let j = 0; j < len; j++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      s += alphabet[seed % alphabet.length];
    }
    const k = classifyAddress(s);
    assert.equal(typeof k, 'string');
  }
});
