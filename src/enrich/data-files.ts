/**
 * Where the bundled data lives and how enrichment files are read: size-bounded, with errors that
 * name the file (a user may point any setting at an updated copy).
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENRICH_MAX_DATA_FILE_BYTES } from '../config/limits.js';

/** A data file that cannot be used: the message names the file and, where known, the entry. */
export class EnrichDataError extends Error {
  override readonly name = 'EnrichDataError';
}

/** Absolute path of a file under the project's `data/` folder (works from src/ and dist/src/). */
export function bundledDataPath(relative: string): string {
  // Compiled files sit at dist/src/enrich/, sources at src/enrich/: find `data/` by walking up.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/src/')
    ? new URL('../../../', import.meta.url)
    : new URL('../../', import.meta.url);
  return fileURLToPath(new URL(`data/${relative}`, root));
}

/** Reads a whole data file, refusing one larger than `ENRICH_MAX_DATA_FILE_BYTES`. */
export function readDataFile(path: string): Buffer {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new EnrichDataError(`${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (size > ENRICH_MAX_DATA_FILE_BYTES) {
    throw new EnrichDataError(
      `${path}: ${size} bytes is larger than the ${ENRICH_MAX_DATA_FILE_BYTES} allowed`,
    );
  }
  return readFileSync(path);
}

/** Reads and parses a JSON data file; a syntax error names the file. */
export function readJsonFile(path: string): unknown {
  const text = readDataFile(path).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EnrichDataError(
      `${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}
