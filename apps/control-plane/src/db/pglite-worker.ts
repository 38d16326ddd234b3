import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import type { PGlite, PGliteOptions, Transaction } from '@electric-sql/pglite';
import { copyTree } from './copy-tree.js';
import { refillSpare, takeSpare } from './pglite-template.js';
import { PGLITE_CONF } from './pglite-settings.js';
import { GroupCommit } from './group-commit.js';
import { PreparedStatements } from './pglite-prepared.js';

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
 *   {id, op: 'background'}                         → {id}   (the server is up: see THREAD_NICE)
 *   {id, op: 'close'}                              → {id}
 */
export type WorkerRequest =
  | { id: number; op: 'query' | 'exec'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'background' }
  | { id: number; op: 'close' };
export type WorkerReply = { id: number; rows?: unknown[]; tx?: number; error?: { message: string; code?: string } };

// this project's TypeScript setup has no DOM/WebAssembly lib: the one call needed, typed by hand
type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

const SPARE_REFILL_DELAY_MS = 3_000;
/**
 * This thread's nice value once the server is up (`background`; Linux: setpriority on the calling
 * thread alone; elsewhere it would apply to the whole process, so it is left alone). Each statement
 * the main thread posts wakes this thread, and at equal priority the scheduler let the woken thread
 * take the core the event loop was on: the main thread stalled for the statement's ~1 ms
 * (postMessage p90 0.9 ms against p50 35 µs, warm turns) with every stream it relays. At a lower
 * priority the relay keeps its core more often and admission waits a little instead (npm run
 * bench, 200 streams, alternating runs: p99 15–29 ms at nice 5 or 10 against 18–48 ms at 0;
 * bench/README, 2026-12-06 night). Not before: while the control plane starts, opening the database
 * here is the longest step, and at nice 5 it lost the cores to the main thread loading its modules
 * (14 alternating starts on a populated home, 2-core VM: ready after 1.13–1.87 s, median 1.27, at
 * nice 0 until ready, against 1.27–2.07 s, median 1.52, at nice 5 from the thread's start).
 */
const THREAD_NICE = 5;
function runInBackground(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(THREAD_NICE);
  } catch {
    // not permitted here: the database runs at the process's priority
  }
}
const port = parentPort!;
const dataDir = workerData.dataDir as string | null;
const seedFrom = workerData.seedFrom as string | null;
// Seeding a fresh home, compiling PGlite's WebAssembly and loading its JavaScript all start at
// once (each is on the way to ready); PGlite itself is imported only after they are under way.
const wasm = readFile(new URL('./pglite.wasm', import.meta.resolve('@electric-sql/pglite'))).then((bytes) => wasmApi.compile(bytes));
// a fresh home starts as a copy of the migrated template (pglite-template.ts); copied here, off
// the main thread, which keeps loading the server meanwhile
// (or, faster, the template's spare copy is renamed into place: see takeSpare)
const seeding = dataDir !== null && seedFrom !== null && !existsSync(dataDir);
const tookSpare = seeding && takeSpare(seedFrom, dataDir);
const seeded =
  seeding && !tookSpare
    ? (async () => {
        const partial = `${dataDir}.seeding-${process.pid}`;
        await copyTree(seedFrom, partial);
        renameSync(partial, dataDir); // a crash mid-copy leaves no half-seeded data directory behind
      })()
    : Promise.resolve();
const [{ PGlite: Engine }, pgliteWasmModule] = await Promise.all([import('@electric-sql/pglite'), wasm, seeded]);
if (dataDir) mkdirSync(dataDir, { recursive: true });
const db: PGlite = dataDir ? await Engine.create(dataDir, { pgliteWasmModule, postgresqlconf: PGLITE_CONF }) : await Engine.create({ pgliteWasmModule, postgresqlconf: PGLITE_CONF });

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

// every statement runs as a prepared one (pglite-prepared.ts); those outside a transaction are
// grouped into one commit while PGlite is busy (group-commit.ts)
const prepared = new PreparedStatements(db);
const inTransaction = { query: (sql: string, params?: unknown[]) => prepared.queryInTransaction(sql, params) };
const grouped = new GroupCommit(
  { query: (sql, params) => prepared.query(sql, params), transaction: (fn) => db.transaction(() => fn(inTransaction)) },
  (id, a) => ('error' in a ? fail(id, a.error) : reply({ id, rows: a.rows })),
);

port.on('message', (m: WorkerRequest) => {
  switch (m.op) {
    case 'query':
    case 'exec': {
      if (m.op === 'query' && !m.tx) return grouped.add(m);
      const target = m.tx ? open.get(m.tx)?.tx : db;
      if (!target) return fail(m.id, new Error(`no open transaction ${m.tx}`));
      const run =
        m.op === 'query' ? prepared.queryInTransaction(m.sql, m.params).then((r) => r.rows) : target.exec(m.sql).then(() => []);
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
    case 'background':
      runInBackground();
      reply({ id: m.id });
      return;
    case 'close':
      void db.close().then(() => reply({ id: m.id }));
      return;
  }
});
port.postMessage({ id: 0 }); // ready
// the next fresh home's spare, made once this start is well past its own critical path
if (seeding) setTimeout(() => void refillSpare(seedFrom), SPARE_REFILL_DELAY_MS).unref();
