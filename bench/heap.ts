/**
 * What holds analyze's memory: runs the pipeline on a capture in this process, writes a V8 heap
 * snapshot after `--at` seconds (or at the end), and prints the retained size of every bounded
 * table by name and of the largest objects under the pipeline, from the snapshot's dominator tree.
 * `node --max-old-space-size=8000 dist/bench/heap.js [attack|office|FILE|flood[:SOURCES]] [--at SECONDS] [--top N] [--class NAME]`
 * (`--class SipMessage`: how many objects of that constructor are alive and what holds them)
 * (`flood`: bench/flood.ts's spoofed flood, in process, 1,000,000 sources unless told)
 * (the analysis of a snapshot of a few hundred MB needs a few GB). The snapshot is kept in
 * bench/out/heap/ (open it in Chrome DevTools for the object graph).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { analyzeFiles } from '../src/cli/analyze.js';
import { ListingBudget } from '../src/detect/window.js';
import { runFlood } from './flood.js';
import { OUT_DIR } from './make-captures.js';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Retained sizes (Cooper–Harvey–Kennedy dominators over the strong edges) and a namer. */
function retained(s: Snapshot): {
  size: Float64Array;
  idom: Int32Array;
  reachable: Uint8Array;
  label: (v: number) => string;
  tableName: (v: number) => string | undefined;
} {
  const m = s.snapshot.meta;
  const NF = m.node_fields.length;
  const EF = m.edge_fields.length;
  const N = s.nodes;
  const E = s.edges;
  const S = s.strings;
  const nodeTypes = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const iType = m.node_fields.indexOf('type');
  const iName = m.node_fields.indexOf('name');
  const iSize = m.node_fields.indexOf('self_size');
  const iEdges = m.node_fields.indexOf('edge_count');
  const eType = m.edge_fields.indexOf('type');
  const eName = m.edge_fields.indexOf('name_or_index');
  const eTo = m.edge_fields.indexOf('to_node');
  const n = N.length / NF;
  const first = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    first[i] = e;
    e += N[i * NF + iEdges]! * EF;
  }
  first[n] = E.length;
  const weak = (e: number): boolean => edgeTypes[E[e + eType]!] === 'weak';
  // Depth-first post-order from the root.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const next = new Uint32Array(n);
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  next[0] = first[0]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    if (next[v]! < first[v + 1]!) {
      const e = next[v]!;
      next[v] = e + EF;
      if (weak(e)) continue;
      const w = E[e + eTo]! / NF;
      if (seen[w] === 0) {
        seen[w] = 1;
        next[w] = first[w]!;
        stack.push(w);
      }
    } else {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) {
    if (seen[v] === 0) continue;
    for (let e = first[v]!; e < first[v + 1]!; e += EF) if (!weak(e)) preds[E[e + eTo]! / NF]!.push(v);
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const meet = (a: number, b: number): number => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = post.length - 2; i >= 0; i--) {
      const v = post[i]!;
      let d = -1;
      for (const p of preds[v]!) if (idom[p] !== -1) d = d === -1 ? p : meet(p, d);
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const size = new Float64Array(n);
  for (const v of post) {
    size[v]! += N[v * NF + iSize]!;
    if (v !== 0) size[idom[v]!]! += size[v]!;
  }
  const label = (v: number): string => {
    const t = nodeTypes[N[v * NF + iType]!]!;
    return t === 'object' || t === 'closure' ? `${S[N[v * NF + iName]!]}` : t;
  };
  const tableName = (v: number): string | undefined => {
    if (S[N[v * NF + iName]!] !== 'BoundedTable') return undefined;
    for (let e = first[v]!; e < first[v + 1]!; e += EF) {
      if (S[E[e + eName]!] === 'name') return S[N[E[e + eTo]! + iName]!];
    }
    return undefined;
  };
  return { size, idom, reachable: seen, label, tableName };
}

async function main(args: string[]): Promise<void> {
  let target = 'attack';
  let at = Infinity;
  let top = 25;
  let cls: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--at') at = Number(args[++i]);
    else if (args[i] === '--class') cls = args[++i];
    else if (args[i] === '--top') top = Number(args[++i]);
    else target = args[i]!;
  }
  const flood = /^flood(?::(\d+))?$/.exec(target);
  const file = flood !== null || existsSync(target) ? target : join(OUT_DIR, `${target}.pcap`);
  if (flood === null && !existsSync(file)) throw new Error(`${file} not found: run \`npm run bench\` first`);
  const dir = join(OUT_DIR, 'heap');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'analyze.heapsnapshot');
  let written = false;
  // The snapshot is taken between read chunks (the analysis awaits the file), with the pipeline live.
  const timer = Number.isFinite(at)
    ? setTimeout(() => {
        writeHeapSnapshot(path);
        written = true;
      }, at * 1000)
    : undefined;
  if (flood !== null) {
    // The spoofed flood of bench/flood.ts, in process; the snapshot is taken at its end.
    const run = runFlood({ sources: Number(flood[1] ?? 1_000_000), rate: 6_000, every: Infinity });
    writeHeapSnapshot(path);
    process.stderr.write(`heap: flood of ${run.packets} packets\n`);
  } else {
    const r = await analyzeFiles([file], {});
    // The run ended first: the snapshot holds its result (the report), which `r` keeps alive.
    if (!written) writeHeapSnapshot(path);
    if (r.document.summary.sipMessages === 0) process.stderr.write(`heap: ${file}: no SIP messages\n`);
  }
  clearTimeout(timer);
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const { size, idom, reachable, label, tableName } = retained(s);
  const MiB = (b: number): string => (b / 1048576).toFixed(1).padStart(7);
  process.stdout.write(`${file}: ${MiB(size[0]!)} MiB reachable (snapshot ${path})\n`);
  // The most sources one rule listed at once (DETECT_LISTED_SOURCES_PER_RULE bounds it).
  process.stdout.write(`sources listed by one rule at once, at most: ${ListingBudget.highestPeak}\n\n`);
  const tables: [string, number][] = [];
  const objects: [string, number][] = [];
  for (let v = 0; v < size.length; v++) {
    if (reachable[v] === 0) continue;
    const t = tableName(v);
    if (t !== undefined) tables.push([t, size[v]!]);
    else if (size[v]! > 1048576) objects.push([label(v), size[v]!]);
  }
  tables.sort((a, b) => b[1] - a[1]);
  process.stdout.write('Retained MiB per bounded table:\n');
  for (const [t, b] of tables.slice(0, top)) process.stdout.write(`${MiB(b)}  ${t}\n`);
  objects.sort((a, b) => b[1] - a[1]);
  process.stdout.write('\nLargest holders (retained MiB, constructor; nested holders are listed too):\n');
  for (const [l, b] of objects.slice(0, top)) process.stdout.write(`${MiB(b)}  ${l}\n`);
  if (cls !== undefined) {
    // Who keeps the objects of one class: the nearest dominating table or named object.
    const generic = new Set([
      'Map',
      'Set',
      'array',
      'Object',
      'system / Context',
      'synthetic',
      'closure',
      'hidden',
    ]);
    const by = new Map<string, { n: number; bytes: number }>();
    let n = 0;
    for (let v = 0; v < size.length; v++) {
      if (reachable[v] === 0 || label(v) !== cls) continue;
      n++;
      let h = idom[v]!;
      let name = 'root';
      while (h > 0) {
        const t = tableName(h);
        if (t !== undefined) {
          name = `table ${t}`;
          break;
        }
        const l = label(h);
        if (!generic.has(l) && l !== cls) {
          name = l;
          break;
        }
        h = idom[h]!;
      }
      const e = by.get(name) ?? { n: 0, bytes: 0 };
      e.n++;
      e.bytes += size[v]!;
      by.set(name, e);
    }
    process.stdout.write(`\n${n} ${cls} objects, by nearest holder (count, retained MiB):\n`);
    for (const [h, e] of [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
      process.stdout.write(`${String(e.n).padStart(9)} ${MiB(e.bytes)}  ${h}\n`);
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`heap: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
