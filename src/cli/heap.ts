/**
 * Memory policy of the long-running and large-input commands: keep the V8 heap close to the data
 * it holds (see HEAP_GROWING_PERCENT). Applied at run time through `v8.setFlagsFromString`, which
 * V8 reads at each full collection; the size limits (`--max-old-space-size`) cannot change after
 * start, so a user who wants a hard cap passes it to node and this policy then stays out.
 */
import { setFlagsFromString } from 'node:v8';
import { HEAP_GROWING_PERCENT } from '../config/limits.js';

const USER_HEAP_FLAGS =
  /--(?:heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size|max[-_]heap[-_]size|optimize[-_]for[-_]size)\b/;

/** Applies the heap policy unless node was started with heap flags (argv or NODE_OPTIONS). */
export function applyHeapPolicy(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (execArgv.some((a) => USER_HEAP_FLAGS.test(a)) || USER_HEAP_FLAGS.test(nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
