import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres, type Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';

/**
 * The storage back ends every store test runs on: embedded PGlite always, and a real PostgreSQL
 * server when SEMIBOT_TEST_DATABASE_URL is set (CI sets it). Each test file gets a fresh,
 * migrated database, dropped afterwards.
 */
export interface TestDb {
  name: 'pglite' | 'postgres';
  /** why this back end cannot run here, or null */
  unavailable: string | null;
  open(): Promise<{ db: Db; drop(): Promise<void> }>;
}

const serverUrl = process.env.SEMIBOT_TEST_DATABASE_URL;

export const testDatabases: TestDb[] = [
  {
    name: 'pglite',
    unavailable: null,
    async open() {
      const db = await openPglite(null);
      await migrate(db);
      return { db, drop: () => db.close() };
    },
  },
  {
    name: 'postgres',
    unavailable: serverUrl ? null : 'SEMIBOT_TEST_DATABASE_URL is not set (CI sets it to the local PostgreSQL server)',
    async open() {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      const name = `semibot_test_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(serverUrl!);
      url.pathname = `/${name}`;
      const db = await openPostgres(url.toString());
      await migrate(db);
      return {
        db,
        async drop() {
          await db.close();
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await admin.end();
        },
      };
    },
  },
];
