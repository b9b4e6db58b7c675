/**
 * An open alert keeps its latest raise (evidence and sources are built only when a revision is
 * sent), so what a rule's closures capture stays in memory as long as the alert is open: up to
 * ALERT_MAX_OPEN of them. They must capture counters and strings, never the message, transaction,
 * attempt, dialog or call that triggered the raise (each holds the parsed packet). This test runs
 * every rule over the lab captures, then lets go of everything but the alert book and checks that
 * none of those objects is still reachable.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AlertBook } from '../../src/detect/alert-book.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { RuleModule } from '../../src/detect/rule.js';
import { ALL_RULES } from '../../src/detect/rules/index.js';
import { SiteModel } from '../../src/detect/site.js';
import { Pipeline } from '../../src/pipeline.js';
import { readCaptureFile } from '../../src/sources/capture-file.js';

const CAPTURES = 'test/fixtures/captures';

/** A rule that raises nothing and remembers, weakly, every object the engine hands to rules. */
function observer(refs: WeakRef<object>[]): RuleModule {
  const keep = (o: object | undefined): void => {
    if (o !== undefined) refs.push(new WeakRef(o));
  };
  return {
    meta: { ...ALL_RULES[0]!.meta, id: 'test.observer' },
    create: () => ({
      onMessage: (ev, tx) => {
        keep(ev);
        keep(tx);
      },
      onAttempt: (a) => keep(a),
      onDialogCreated: (d) => keep(d),
      onCallStarted: (c) => keep(c),
    }),
  };
}

async function run(files: string[], refs: WeakRef<object>[]): Promise<AlertBook> {
  const book = new AlertBook('default', 'test');
  const engine = new DetectionEngine([...ALL_RULES, observer(refs)], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  for (const file of files) {
    await readCaptureFile(file, (f) =>
      pipeline.frame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame }),
    );
  }
  // No flush: the alerts stay open, as in `watch`.
  return book;
}

test('open alerts hold no message, transaction, attempt, dialog or call', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const files = readdirSync(CAPTURES)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => join(CAPTURES, f));
  const refs: WeakRef<object>[] = [];
  const held: { book: AlertBook | undefined } = { book: await run(files, refs) };
  const open = held.book?.alertCount ?? 0;
  assert.ok(open >= 40, `the lab captures raise alerts of many rules (${open})`);
  assert.ok(refs.length > 10_000);
  const reachable = async (): Promise<string[]> => {
    // Weak references clear between turns of the event loop.
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    return refs.filter((r) => r.deref() !== undefined).map((r) => kindOf(r.deref() as object));
  };
  const withBook = await reachable();
  assert.equal(held.book?.alertCount, open);
  held.book = undefined;
  // What stays without the book too (a job still queued) is not the alerts' doing.
  const without = new Set(await reachable());
  const byKind: Record<string, number> = {};
  for (const k of withBook) if (!without.has(k)) byKind[k] = (byKind[k] ?? 0) + 1;
  assert.deepEqual(byKind, {}, 'objects reachable only through the open alerts');
  assert.ok(without.size <= 2, `objects reachable without the book: ${[...without].join('; ')}`);
});

/** What the engine handed over: names the object in the failure message. */
function kindOf(o: object): string {
  const name = o.constructor.name;
  if (name !== 'Object') return name;
  if ('outcome' in o) return `attempt (${String((o as { method?: unknown }).method)})`;
  const ev = o as { isRequest?: unknown; method?: unknown; status?: unknown; callId?: unknown };
  if ('isRequest' in o) return `SipEvent ${String(ev.method)} ${String(ev.status)} ${String(ev.callId)}`;
  return Object.keys(o).slice(0, 4).join(',');
}
