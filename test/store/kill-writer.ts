// Child process of the kill -9 test: commits alert revisions as fast as it can and reports each
// committed seq on stdout only after `put`/`putMany` returned, until it is killed.
import { writeSync } from 'node:fs';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from './store-fixtures.js';

// `node --test dist/test/` also runs this file (it lies under test/): without a database it does nothing.
const path = process.argv[2];
if (path !== undefined) write(path);

function write(db: string): void {
  const store = new AlertStore({ path: db });
  writeSync(1, 'ready\n');
  // Bounded in count; the parent kills it long before.
  for (let i = 0; i < 1_000_000; i++) {
    if (i % 5 === 0) {
      const revs = [0, 1, 2].map((k) => makeAlert({ id: `batch-${i}`, revision: k + 1, count: k }));
      const seqs = store.putMany(revs);
      writeSync(1, seqs.map((seq, k) => `${seq} batch-${i} ${k + 1}\n`).join(''));
    } else {
      const seq = store.put(makeAlert({ id: `single-${i % 50}`, revision: i, count: i }));
      writeSync(1, `${seq} single-${i % 50} ${i}\n`);
    }
    store.journalAppend('event', `event ${i}`);
  }
}
