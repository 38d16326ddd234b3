import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { openPglite, type Db } from './db.js';
import { startEmbeddedVacuum } from './embedded-vacuum.js';

const logger = pino({ level: 'silent' });
const ROWS = 2_000;

/** PGlite flushes its table counters when a statement ends a second or more after the last flush */
const letCountersFlush = async (db: Db) => {
  await new Promise((r) => setTimeout(r, 1_100));
  await db.query('SELECT 1');
};

const pages = async (db: Db, table: string) =>
  Number((await db.query<{ n: string }>(`SELECT pg_relation_size($1) / current_setting('block_size')::int AS n`, [table]))[0]!.n);

/** Every row rewritten `rounds` times, the way a run's status is; `between` runs after each round. */
async function churn(db: Db, table: string, rounds: number, between: () => Promise<unknown>) {
  await db.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, status text, body text);
                 INSERT INTO ${table} SELECT g, 'queued', repeat('x', 200) FROM generate_series(1, ${ROWS}) g`);
  const before = await pages(db, table);
  for (let i = 0; i < rounds; i++) {
    await db.exec(`UPDATE ${table} SET status = 'round ${i}'`);
    await between();
  }
  return { before, after: await pages(db, table) };
}

describe('embedded vacuum (real PGlite)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPglite(null);
  });
  afterAll(async () => {
    await db.close();
  });

  it('without it, a table rewritten four times is five times its size: nothing reclaims the old rows', async () => {
    const { before, after } = await churn(db, 'unvacuumed', 4, async () => {});
    expect(after).toBeGreaterThanOrEqual(before * 4.5);
  });

  it('vacuums the tables with dead rows, and their space is used again: four rewrites stay within twice the size', async () => {
    const vacuum = startEmbeddedVacuum(db, { logger, intervalMs: 3_600_000 });
    const passes: string[][] = [];
    try {
      await db.exec(`CREATE TABLE untouched (id int PRIMARY KEY); INSERT INTO untouched SELECT generate_series(1, 100)`);
      const { before, after } = await churn(db, 'churned', 4, async () => {
        await letCountersFlush(db);
        passes.push((await vacuum.runNow()).tables);
      });
      expect(after).toBeLessThanOrEqual(before * 2);
      for (const p of passes) {
        expect(p).toContain('public.churned');
        expect(p).not.toContain('public.untouched'); // nothing dead in it: not due
      }
      const [counts] = await db.query<{ churned: string; untouched: string }>(
        `SELECT sum(vacuum_count) FILTER (WHERE relname = 'churned') AS churned, sum(vacuum_count) FILTER (WHERE relname = 'untouched') AS untouched FROM pg_stat_user_tables`,
      );
      expect(Number(counts!.churned)).toBe(4);
      expect(Number(counts!.untouched)).toBe(0);
    } finally {
      await vacuum.stop();
    }
  }, 20_000);

  it('a pass with nothing due vacuums nothing, and a pass asked for while one runs is the same pass', async () => {
    const vacuum = startEmbeddedVacuum(db, { logger, intervalMs: 3_600_000 });
    try {
      await vacuum.runNow(); // what earlier tests left due
      await letCountersFlush(db);
      const [a, b] = [vacuum.runNow(), vacuum.runNow()];
      expect(a).toBe(b);
      expect((await a).tables).toEqual([]);
    } finally {
      await vacuum.stop();
    }
  }, 10_000);

  it('freezes every table past the freeze age, the system catalogs too: wraparound counts from the oldest', async () => {
    const vacuum = startEmbeddedVacuum(db, { logger, intervalMs: 3_600_000, freezeAge: 0 });
    try {
      const { tables } = await vacuum.runNow();
      expect(tables).toEqual(expect.arrayContaining(['public.untouched', 'pg_catalog.pg_class', 'pg_catalog.pg_attribute']));
      const [oldest] = await db.query<{ age: number }>(`SELECT max(age(relfrozenxid))::int AS age FROM pg_class WHERE relkind IN ('r', 'm')`);
      expect(oldest!.age).toBeLessThanOrEqual(tables.length + 5); // everything frozen up to about now
    } finally {
      await vacuum.stop();
    }
  }, 20_000);

  it('runs on its own at its interval', async () => {
    await db.exec(`CREATE TABLE timed (id int PRIMARY KEY, v int); INSERT INTO timed SELECT g, 0 FROM generate_series(1, 500) g; UPDATE timed SET v = 1`);
    await letCountersFlush(db);
    const seen = new Promise<string[]>((resolve) => {
      const vacuum = startEmbeddedVacuum(db, { logger, intervalMs: 200, onPass: (p) => void vacuum.stop().then(() => resolve(p.tables)) });
    });
    expect(await seen).toContain('public.timed');
  }, 10_000);
});
