import { Worker } from 'node:worker_threads';
import type { Db, Queryable } from './db.js';
import type { WorkerReply, WorkerRequest } from './pglite-worker.js';

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
type Call = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A Postgres error's fields survive the thread hop, so `isUniqueViolation` keeps working. */
class WorkerDbError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** PGlite on a worker thread (see pglite-worker.ts), behind the same `Db` interface as the rest. */
export async function openPgliteThread(dataDir: string | null, seedFrom: string | null = null): Promise<Db> {
  const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir, seedFrom } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  worker.on('message', (r: WorkerReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (r.error) p.reject(new WorkerDbError(r.error.message, r.error.code));
    else p.resolve(r);
  });
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`database thread exited (${code})`)));
  // the worker says it is ready with id 0, once PGlite has opened the data directory
  await new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });

  const call = (req: Call): Promise<WorkerReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  const on = (tx?: number): Queryable => ({
    query: async <T>(sql: string, params?: unknown[]) => (await call({ op: 'query', sql, params: params ?? [], ...(tx ? { tx } : {}) })).rows as T[],
    exec: async (sql: string) => void (await call({ op: 'exec', sql, ...(tx ? { tx } : {}) })),
  });

  return {
    kind: 'pglite',
    ...on(),
    async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      const { tx } = await call({ op: 'begin' });
      let result: T;
      try {
        result = await fn(on(tx));
      } catch (err) {
        await call({ op: 'rollback', tx: tx! }).catch(() => {});
        throw err;
      }
      await call({ op: 'commit', tx: tx! });
      return result;
    },
    async background() {
      await call({ op: 'background' });
    },
    async close() {
      await call({ op: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
