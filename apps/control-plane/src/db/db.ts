import path from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import type pg from 'pg';
import { migrate } from './migrate.js';
import { saveTemplate, usableTemplate } from './pglite-template.js';
import { openPgliteThread } from './pglite-thread.js';
import { PGLITE_CONF } from './pglite-settings.js';

/** The one thing every store function needs: run a parameterised statement, get rows. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn inside BEGIN/COMMIT; rolls back and rethrows on error. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Embedded PGlite: the server is up, so its database thread now gives way to the threads that
   * relay tokens (pglite-worker.ts, THREAD_NICE). A server database has nothing to do here.
   */
  background?(): Promise<void>;
  close(): Promise<void>;
}

/** Postgres error codes we turn into typed results. */
export const PgCodes = { uniqueViolation: '23505' } as const;

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === PgCodes.uniqueViolation;
}

/** Opens and migrates the database: PostgreSQL at `databaseUrl`, else PGlite under `home`. */
export async function openDb(opts: { databaseUrl?: string | undefined; home: string }): Promise<{ db: Db; applied: string[] }> {
  if (opts.databaseUrl) {
    const db = await openPostgres(opts.databaseUrl);
    return { db, applied: await migrate(db) };
  }
  const dataDir = path.join(opts.home, 'pgdata');
  const fresh = !existsSync(dataDir);
  const template = fresh ? usableTemplate(dataDir) : null;
  if (template) {
    const db = await openPgliteThread(dataDir, template);
    return { db, applied: await migrate(db) };
  }
  let db = await openPgliteThread(dataDir);
  const applied = await migrate(db);
  if (fresh) {
    // keep this empty, migrated directory for the next fresh home (see pglite-template.ts)
    await db.close();
    saveTemplate(dataDir);
    db = await openPgliteThread(dataDir);
  }
  return { db, applied };
}

/**
 * A Db to build the server with before the database is open: calls wait until it is. The server's
 * routes, schemas and API document take a few hundred ms to set up; this way that happens while
 * the database boots (embedded PGlite: the longest step of a start) instead of after it.
 */
export function deferredDb(opening: Promise<Db>, kind: Db['kind']): Db {
  let db: Db | null = null;
  opening.then((d) => (db = d), () => {});
  const open = async () => db ?? opening;
  return {
    kind,
    query: async <T>(sql: string, params?: unknown[]) => (await open()).query<T>(sql, params),
    exec: async (sql: string) => (await open()).exec(sql),
    tx: async <T>(fn: (q: Queryable) => Promise<T>) => (await open()).tx(fn),
    background: async () => (await open()).background?.(),
    close: async () => (await open()).close(),
  };
}

export async function openPostgres(url: string): Promise<Db> {
  // loaded only when a server is configured: embedded mode never needs the driver
  const { default: driver } = await import('pg');
  const pool: pg.Pool = new driver.Pool({ connectionString: url, max: 10 });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params as unknown[])).rows as T[];
    },
    exec: async (sql: string) => void (await pool.query(sql)),
    async tx<T>(fn: (q: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params as unknown[])).rows as R[],
          exec: async (sql: string) => void (await client.query(sql)),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** Embedded Postgres (WASM). `dataDir` null keeps it in memory (tests). */
export async function openPglite(dataDir: string | null): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // loaded here, not at the top: the main thread never needs it (the server runs PGlite on a worker
  // thread), and loading it there would delay starting that thread
  const { PGlite } = await import('@electric-sql/pglite');
  const db = dataDir ? await PGlite.create(dataDir, { postgresqlconf: PGLITE_CONF }) : await PGlite.create({ postgresqlconf: PGLITE_CONF });
  return {
    kind: 'pglite',
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    exec: async (sql: string) => void (await db.exec(sql)),
    // PGlite has one connection; its transaction() holds it exclusively, so other queries wait.
    tx<T>(fn: (q: Queryable) => Promise<T>) {
      return db.transaction((t) =>
        fn({
          query: async <R>(sql: string, params?: unknown[]) => (await t.query<R>(sql, params)).rows,
          exec: async (sql: string) => void (await t.exec(sql)),
        }),
      );
    },
    close: () => db.close(),
  };
}
