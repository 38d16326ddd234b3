import { parentPort, workerData } from 'node:worker_threads';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';

/**
 * Embedded PostgreSQL on its own thread. PGlite is WebAssembly running synchronously on whatever
 * thread calls it; on the control plane's main thread every statement blocked token relay (a run's
 * ~25 statements stalled every other stream by milliseconds — npm run bench). Here it has a core
 * of its own and the main thread only passes messages.
 *
 * Protocol (one message per call, answered with the same id):
 *   {id, op: 'query' | 'exec', sql, params?, tx?}  → {id, rows} | {id, error}
 *   {id, op: 'begin'}                              → {id, tx}   (the transaction holds the database)
 *   {id, op: 'commit' | 'rollback', tx}            → {id}
 *   {id, op: 'close'}                              → {id}
 */
export type WorkerRequest =
  | { id: number; op: 'query' | 'exec'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' };
export type WorkerReply = { id: number; rows?: unknown[]; tx?: number; error?: { message: string; code?: string } };

const port = parentPort!;
const dataDir = workerData.dataDir as string | null;
const seedFrom = workerData.seedFrom as string | null;
// a fresh home starts as a copy of the migrated template (pglite-template.ts); copied here, on
// this thread, so the main thread keeps loading the server meanwhile
if (dataDir && seedFrom && !existsSync(dataDir)) cpSync(seedFrom, dataDir, { recursive: true });
if (dataDir) mkdirSync(dataDir, { recursive: true });
const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();

interface OpenTx {
  tx: Transaction;
  finish: (commit: boolean) => void;
  /** settles when PGlite has committed (or rolled back) */
  done: Promise<void>;
}
const open = new Map<number, OpenTx>();
let nextTx = 1;

const reply = (r: WorkerReply) => port.postMessage(r);
const fail = (id: number, err: unknown) => {
  const e = err as { message?: string; code?: string };
  reply({ id, error: { message: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) } });
};

port.on('message', (m: WorkerRequest) => {
  switch (m.op) {
    case 'query':
    case 'exec': {
      const target = m.tx ? open.get(m.tx)?.tx : db;
      if (!target) return fail(m.id, new Error(`no open transaction ${m.tx}`));
      const run = m.op === 'query' ? target.query(m.sql, m.params).then((r) => r.rows) : target.exec(m.sql).then(() => []);
      run.then((rows) => reply({ id: m.id, rows }), (err) => fail(m.id, err));
      return;
    }
    case 'begin': {
      const txId = nextTx++;
      let ready: (t: Omit<OpenTx, 'done'>) => void;
      const opened = new Promise<Omit<OpenTx, 'done'>>((r) => (ready = r));
      // transaction() holds PGlite's single connection until the callback settles: other
      // statements queue behind it, as they would behind a transaction on one connection.
      const done = db.transaction(
        (tx) => new Promise<void>((resolve, reject) => ready({ tx, finish: (commit) => (commit ? resolve() : reject(new Error('rollback'))) })),
      );
      void opened.then((t) => {
        open.set(txId, { ...t, done });
        reply({ id: m.id, tx: txId });
      });
      return;
    }
    case 'commit':
    case 'rollback': {
      const t = open.get(m.tx);
      open.delete(m.tx);
      if (!t) return fail(m.id, new Error(`no open transaction ${m.tx}`));
      t.finish(m.op === 'commit');
      t.done.then(
        () => reply({ id: m.id }),
        (err) => (m.op === 'rollback' ? reply({ id: m.id }) : fail(m.id, err)),
      );
      return;
    }
    case 'close':
      void db.close().then(() => reply({ id: m.id }));
      return;
  }
});
port.postMessage({ id: 0 }); // ready
