import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockEntry } from '../../../src/sinks/block/block-list.js';
import {
  fail2banLine,
  remainingSeconds,
  renderIpset,
  renderNftables,
  renderNftablesIncremental,
  renderPlain,
} from '../../../src/sinks/block/formats.js';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');

function entry(key: string, over: Partial<BlockEntry> = {}): BlockEntry {
  const family = key.includes(':') ? 6 : 4;
  return {
    key,
    family,
    address: key.split('/')[0] as string,
    rule: 'auth.bruteforce',
    alertId: 'ab41f0c2e9d7a3b1',
    severity: 'high',
    since: NOW - 1000,
    expiresAt: NOW + 3600_000,
    strikes: 1,
    manual: false,
    ...over,
  };
}

const ENTRIES = [
  entry('203.0.113.7'),
  entry('2001:db8:1:2::/64', { address: '2001:db8:1:2::99', expiresAt: NOW + 86_400_000 }),
  entry('198.51.100.9', { expiresAt: NOW + 1500 }),
  entry('192.0.2.99', { expiresAt: NOW - 1 }), // expired: in no output
];

const NFT = `#!/usr/sbin/nft -f
# sipwarden block list, generated 2026-11-24T10:00:00.000Z: 3 entries.
# Load as root with: nft -f <this file> (one transaction; loading it again replaces the table).
table inet sipwarden
delete table inet sipwarden
table inet sipwarden {
\tset blocked4 { type ipv4_addr; flags timeout; }
\tset blocked6 { type ipv6_addr; flags interval, timeout; }
\tchain input {
\t\ttype filter hook input priority filter - 10; policy accept;
\t\tip saddr @blocked4 counter drop
\t\tip6 saddr @blocked6 counter drop
\t}
}
add element inet sipwarden blocked4 { 203.0.113.7 timeout 3600s }
add element inet sipwarden blocked6 { 2001:db8:1:2::/64 timeout 86400s }
add element inet sipwarden blocked4 { 198.51.100.9 timeout 2s }
`;

test('nftables script, exact', () => {
  assert.equal(renderNftables(ENTRIES, NOW), NFT);
  assert.equal(
    renderNftables([], NOW)
      .split('\n')
      .filter((l) => l.startsWith('add element')).length,
    0,
  );
});

test('nftables incremental commands', () => {
  const cmds = renderNftablesIncremental(
    [ENTRIES[0] as BlockEntry, ENTRIES[3] as BlockEntry],
    [ENTRIES[1] as BlockEntry],
    NOW,
  );
  assert.deepEqual(cmds, [
    "nft delete element inet sipwarden blocked6 '{ 2001:db8:1:2::/64 }'",
    "nft add element inet sipwarden blocked4 '{ 203.0.113.7 timeout 3600s }'",
  ]);
});

test('ipset restore file, exact (filled aside, swapped in)', () => {
  assert.equal(
    renderIpset(ENTRIES, NOW),
    `create sipwarden4 hash:ip family inet timeout 0 -exist
create sipwarden4-next hash:ip family inet timeout 0 -exist
flush sipwarden4-next
create sipwarden6 hash:net family inet6 timeout 0 -exist
create sipwarden6-next hash:net family inet6 timeout 0 -exist
flush sipwarden6-next
add sipwarden4-next 203.0.113.7 timeout 3600 -exist
add sipwarden6-next 2001:db8:1:2::/64 timeout 86400 -exist
add sipwarden4-next 198.51.100.9 timeout 2 -exist
swap sipwarden4-next sipwarden4
destroy sipwarden4-next
swap sipwarden6-next sipwarden6
destroy sipwarden6-next
`,
  );
  // ipset's timeout ceiling, and never 0 (which would mean permanent).
  const long = entry('203.0.113.8', { expiresAt: NOW + 30 * 86_400_000 });
  assert.match(renderIpset([long], NOW), /add sipwarden4-next 203\.0\.113\.8 timeout 2147483 -exist/);
  assert.equal(remainingSeconds(entry('203.0.113.8', { expiresAt: NOW + 1 }), NOW), 1);
});

test('plain list, exact', () => {
  assert.equal(
    renderPlain(ENTRIES, NOW),
    '# sipwarden block list, generated 2026-11-24T10:00:00.000Z: 3 entries, one address or CIDR per line\n' +
      '203.0.113.7\n2001:db8:1:2::/64\n198.51.100.9\n',
  );
});

test('fail2ban line, exact, and hostile rule/alert text is neutralised', () => {
  assert.equal(
    fail2banLine(ENTRIES[0] as BlockEntry, NOW),
    '2026-11-24T10:00:00.000Z sipwarden: BLOCK 203.0.113.7 rule=auth.bruteforce alert=ab41f0c2e9d7a3b1',
  );
  assert.equal(
    fail2banLine(ENTRIES[1] as BlockEntry, NOW),
    '2026-11-24T10:00:00.000Z sipwarden: BLOCK 2001:db8:1:2::99 rule=auth.bruteforce alert=ab41f0c2e9d7a3b1',
  );
  const evil = entry('203.0.113.7', { rule: 'x BLOCK 192.0.2.10\n2026', alertId: '' });
  assert.equal(
    fail2banLine(evil, NOW),
    '2026-11-24T10:00:00.000Z sipwarden: BLOCK 203.0.113.7 rule=x_BLOCK_192.0.2.10_2026 alert=-',
  );
});

/** The filter's datepattern and failregex, translated the way fail2ban applies them. */
function loadFilter(): { date: RegExp; fail: RegExp } {
  const conf = readFileSync('contrib/fail2ban/sipwarden.conf', 'utf8');
  const value = (name: string) => {
    const m = new RegExp(`^${name}\\s*=\\s*(.*)$`, 'm').exec(conf);
    assert.ok(m, `${name} in the filter`);
    return (m[1] as string).trim();
  };
  const date = value('datepattern')
    .replace('{^LN-BEG}', '^')
    .replace(/%%Y/g, '\\d{4}')
    .replace(/%%[mdHMS]/g, '\\d{2}')
    .replace(/%%f/g, '\\d{1,6}')
    .replace(/%%z/g, '(?:Z|[+-]\\d{2}:?\\d{2})');
  const ip = '(?<host>[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)';
  const fail = value('failregex').replace('<HOST>', ip);
  return { date: new RegExp(date), fail: new RegExp(fail) };
}

function match(line: string): string | undefined {
  const { date, fail } = loadFilter();
  const d = date.exec(line);
  if (d === null) return undefined;
  // fail2ban cuts the time stamp out before applying failregex.
  const rest = line.slice(d[0].length);
  return fail.exec(rest)?.groups?.host;
}

test('the shipped fail2ban filter matches the lines sipwarden writes, and only them', () => {
  for (const e of ENTRIES.slice(0, 3)) {
    const host = match(fail2banLine(e, NOW));
    assert.equal(host, e.address);
    assert.ok(isIP(host ?? '') !== 0);
  }
  assert.equal(
    match(fail2banLine(entry('203.0.113.7', { rule: 'manual', alertId: 'manual' }), NOW)),
    '203.0.113.7',
  );
  assert.equal(match(fail2banLine(entry('203.0.113.7', { rule: 'a b 192.0.2.10' }), NOW)), '203.0.113.7');
  for (const bad of [
    '2026-11-24T10:00:00.000Z sipwarden: BLOCKED 203.0.113.7 rule=x alert=y',
    '2026-11-24T10:00:00.000Z other: BLOCK 203.0.113.7 rule=x alert=y',
    'sipwarden: BLOCK 203.0.113.7 rule=x alert=y',
    '2026-11-24T10:00:00.000Z sipwarden: BLOCK 203.0.113.7 rule=x alert=y extra',
    '2026-11-24T10:00:00.000Z sipwarden: UNBLOCK 203.0.113.7 rule=x alert=y',
  ]) {
    assert.equal(match(bad), undefined, bad);
  }
});

test('nft -c accepts the generated script (check mode, changes nothing)', (t) => {
  let nft: string;
  try {
    nft = execFileSync('which', ['nft'], { encoding: 'utf8' }).trim();
  } catch {
    t.skip('nft is not installed: install nftables to check the generated script with `nft -c -f`');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-nft-'));
  try {
    const file = join(dir, 'blocklist.nft');
    writeFileSync(file, renderNftables(ENTRIES, NOW));
    try {
      execFileSync(nft, ['-c', '-f', file], { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      if (/Operation not permitted|Permission denied/.test(stderr)) {
        t.skip(`nft -c needs CAP_NET_ADMIN here: ${stderr.trim()}`);
        return;
      }
      assert.fail(`nft -c rejected the script: ${stderr}`);
    }
    // Negative control: the check does reject a broken script.
    writeFileSync(file, 'add element inet sipwarden blocked4 { 2001:db8::1 timeout 1s }\n');
    assert.throws(() => execFileSync(nft, ['-c', '-f', file], { stdio: 'pipe', timeout: 10_000 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
