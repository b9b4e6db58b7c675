import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SourceHealth, defaultQuietMs } from '../../src/sources/source-health.js';
import { emptyStats, type SourceStats } from '../../src/sources/live-source.js';
import { LiveSourcesConfigSchema } from '../../src/sources/live-config.js';
import { rng } from './live-helpers.js';

const MIN = 60_000;

function fake(init: Partial<SourceStats> = {}): SourceStats {
  return { ...emptyStats(), up: true, ...init };
}

describe('SourceHealth', () => {
  it('reports down once and recovered once', () => {
    const s = fake();
    const h = new SourceHealth();
    h.add('capture eth0', 'capture', () => s, { quietMs: 0 });
    assert.deepEqual(h.check(0), []);
    s.up = false;
    s.error = 'tcpdump exited with code 1: eth0: No such device exists';
    assert.deepEqual(h.check(1000), [
      {
        time: 1000,
        source: 'capture eth0',
        kind: 'down',
        detail: 'tcpdump exited with code 1: eth0: No such device exists',
      },
    ]);
    assert.deepEqual(h.check(2000), []);
    s.up = true;
    assert.deepEqual(h.check(3000), [
      { time: 3000, source: 'capture eth0', kind: 'recovered', detail: 'up again' },
    ]);
  });

  it('reports silence after the quiet period (default per kind), then recovery', () => {
    assert.equal(defaultQuietMs('log'), 15 * MIN);
    assert.equal(defaultQuietMs('hep'), 5 * MIN);
    const log = fake();
    const hep = fake({ lastReceivedAt: 0 });
    const h = new SourceHealth();
    h.add('tail /var/log/3cx.log', 'log', () => log);
    h.add('hep', 'hep', () => hep);
    assert.deepEqual(h.check(0), []);
    const at5 = h.check(5 * MIN);
    assert.deepEqual(
      at5.map((e) => [e.source, e.kind]),
      [['hep', 'silent']],
    );
    assert.match(at5[0]?.detail ?? '', /nothing received for 300 s/);
    assert.deepEqual(h.check(10 * MIN), []);
    hep.lastReceivedAt = 10 * MIN;
    const at15 = h.check(15 * MIN - 1);
    assert.deepEqual(
      at15.map((e) => [e.source, e.kind, e.detail]),
      [['hep', 'recovered', 'receiving again']],
    );
    // The log's 15 minutes are up; the HEP source is quiet again for 5.
    assert.deepEqual(
      h.check(15 * MIN).map((e) => [e.source, e.kind]),
      [
        ['tail /var/log/3cx.log', 'silent'],
        ['hep', 'silent'],
      ],
    );
  });

  it('a down source is not also reported silent', () => {
    const s = fake({ up: false });
    const h = new SourceHealth();
    h.add('x', 'hep', () => s, { quietMs: 1000 });
    assert.deepEqual(
      h.check(0).map((e) => e.kind),
      ['down'],
    );
    assert.deepEqual(h.check(10_000), []);
  });

  it('reports a parse collapse after a healthy window, not for a log never recognised', () => {
    const s = fake({ recognised: 0 });
    const never = fake({ recognised: 0 });
    const h = new SourceHealth();
    h.add('asterisk', 'log', () => s, { quietMs: 0 });
    h.add('unknown', 'log', () => never, { quietMs: 0 });
    h.check(0);
    // Window 1: 100 lines, 80 recognised (healthy).
    s.accepted = 100;
    s.recognised = 80;
    never.accepted = 100;
    assert.deepEqual(h.check(1), []);
    // Fewer than 100 new lines: no judgement yet.
    s.accepted = 150;
    assert.deepEqual(h.check(2), []);
    // Window 2: 200 lines, 4 recognised (2 %): collapse.
    s.accepted = 300;
    s.recognised = 84;
    never.accepted = 300;
    const ev = h.check(3);
    assert.deepEqual(
      ev.map((e) => [e.source, e.kind]),
      [['asterisk', 'parse-collapse']],
    );
    assert.match(ev[0]?.detail ?? '', /2\.0 % of the last 200 lines/);
    // Still collapsed: reported once.
    s.accepted = 400;
    assert.deepEqual(h.check(4), []);
    // Back to normal.
    s.accepted = 500;
    s.recognised = 170;
    assert.deepEqual(
      h.check(5).map((e) => [e.kind, e.detail]),
      [['recovered', 'recognition back to 86.0 %']],
    );
  });

  it('is bounded in sources, and random stats never throw', () => {
    const h = new SourceHealth({ maxSources: 2 });
    h.add('a', 'log', () => fake());
    h.add('b', 'log', () => fake());
    h.add('a', 'log', () => fake());
    assert.throws(() => h.add('c', 'log', () => fake()), /more than 2 sources/);
    const rand = rng(3);
    const s = fake({ recognised: 0 });
    const g = new SourceHealth();
    g.add('r', 'syslog', () => s, { quietMs: 1000 });
    let t = 0;
    for (let i = 0; i < 2000; i++) {
      s.up = rand() > 0.1;
      s.accepted += Math.floor(rand() * 50);
      s.recognised = Math.min(s.accepted, (s.recognised ?? 0) + Math.floor(rand() * 50));
      if (rand() < 0.3) s.lastReceivedAt = t;
      t += Math.floor(rand() * 2000);
      for (const e of g.check(t))
        assert.ok(['down', 'silent', 'parse-collapse', 'recovered'].includes(e.kind));
    }
  });
});

describe('LiveSourcesConfigSchema', () => {
  it('accepts a full configuration and fills defaults', () => {
    const c = LiveSourcesConfigSchema.parse({
      hep: { listen: ['udp://0.0.0.0:9060', 'tcp://[::1]:9061'], authKey: 'k', allow: ['10.0.0.0/8'] },
      syslog: { listen: ['udp://127.0.0.1:514'] },
      logs: [{ kind: '3cx', path: '/var/lib/3cxpbx/Instance1/Data/Logs/3CXPhoneSystem.log' }],
      interfaces: [{ name: 'eth0' }],
    });
    assert.equal(c.logs[0]?.fromStart, false);
    assert.equal(c.interfaces[0]?.tool, 'auto');
    assert.deepEqual(c.syslog?.allow, []);
    assert.equal(c.health.checkIntervalMs, 30_000);
  });

  it('rejects bad addresses, CIDRs, interface names and unknown keys', () => {
    for (const bad of [
      { hep: { listen: ['udp://pbx.example:9060'] } },
      { hep: { listen: ['9060'] } },
      { hep: { listen: ['udp://0.0.0.0:9060'], allow: ['10.0.0.0/33'] } },
      { interfaces: [{ name: '-i' }] },
      { logs: [{ kind: 'cisco', path: '/x' }] },
      { hepp: {} },
    ]) {
      assert.equal(LiveSourcesConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
