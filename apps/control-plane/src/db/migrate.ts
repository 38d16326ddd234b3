import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));
/** Any fixed number: replicas starting together take turns on it. */
const MIGRATION_LOCK = 7_310_001;
const UNDEFINED_TABLE = '42P01';

/** Applies migrations/NNN_name.sql in order, each once, each in its own transaction. */
export async function migrate(db: Db): Promise<string[]> {
  const files = readdirSync(migrationsDir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  // the usual start: everything applied already — one statement, not a locked transaction per file
  const known = await db.query<{ version: string }>('SELECT version FROM schema_migrations').then(
    (rows) => new Set(rows.map((r) => r.version)),
    (err: { code?: string }) => {
      if (err.code === UNDEFINED_TABLE) return new Set<string>(); // a new database
      throw err;
    },
  );
  if (files.every((f) => known.has(f))) return [];
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  const applied: string[] = [];
  for (const file of files) {
    const done = await db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await q.query('SELECT 1 FROM schema_migrations WHERE version = $1', [file]);
      if (seen.length > 0) return false;
      await q.exec(readFileSync(migrationsDir + file, 'utf8'));
      await q.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
      return true;
    });
    if (done) applied.push(file);
  }
  return applied;
}
