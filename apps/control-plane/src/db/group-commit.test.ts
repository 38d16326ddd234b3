import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { GroupCommit, type Answer, type GroupableDb } from './group-commit.js';

// A real in-memory PGlite; the wrapper only counts the transactions the groups open.
let pg: PGlite;
let transactions = 0;
const db: GroupableDb = {
  query: (sql, params) => pg.query(sql, params),
  transaction: (fn) => {
    transactions++;
    return pg.transaction((tx) => fn(tx));
  },
};

/** Runs the statements as concurrent callers would (all added in one event-loop turn). */
function runConcurrently(statements: { sql: string; params?: unknown[] }[]): Promise<Answer[]> {
  const answers = new Map<number, (a: Answer) => void>();
  const group = new GroupCommit(db, (id, a) => answers.get(id)!(a));
  return Promise.all(
    statements.map(
      (s, id) =>
        new Promise<Answer>((resolve) => {
          answers.set(id, resolve);
          group.add({ id, ...s });
        }),
    ),
  );
}

beforeAll(async () => {
  pg = await PGlite.create();
  await pg.exec('CREATE TABLE t (n serial PRIMARY KEY, k text UNIQUE NOT NULL)');
});
afterAll(async () => {
  await pg.close();
});

describe('GroupCommit', () => {
  it('answers each caller with its own rows, grouping what queued into transactions', async () => {
    transactions = 0;
    const answers = await runConcurrently(Array.from({ length: 40 }, (_, i) => ({ sql: 'SELECT $1::int AS v', params: [i] })));
    expect(answers.map((a) => ('rows' in a ? (a.rows[0] as { v: number }).v : a.error))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThan(40);
  });

  it('runs a lone statement on its own, outside a transaction', async () => {
    transactions = 0;
    const [a] = await runConcurrently([{ sql: "INSERT INTO t (k) VALUES ('alone') RETURNING k" }]);
    expect(a).toEqual({ rows: [{ k: 'alone' }] });
    expect(transactions).toBe(0);
  });

  it('keeps arrival order, and a failing statement fails alone: the rest of its group is stored', async () => {
    const keys = ['a', 'b', 'c', 'b', 'd', 'e'];
    const answers = await runConcurrently(keys.map((k) => ({ sql: 'INSERT INTO t (k) VALUES ($1) RETURNING n', params: [k] })));
    const failed = answers.map((a, i) => ('error' in a ? i : -1)).filter((i) => i >= 0);
    expect(failed).toEqual([3]); // the second 'b'
    expect((answers[3] as { error: { code?: string } }).error.code).toBe('23505');
    const { rows } = await pg.query<{ k: string }>("SELECT k FROM t WHERE k <> 'alone' ORDER BY n");
    expect(rows.map((r) => r.k)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('runs a statement that cannot be in a transaction block, and its group with it', async () => {
    const answers = await runConcurrently([
      { sql: "INSERT INTO t (k) VALUES ('f')" },
      { sql: 'VACUUM t' },
      { sql: "INSERT INTO t (k) VALUES ('g')" },
    ]);
    expect(answers.every((a) => 'rows' in a)).toBe(true);
    const { rows } = await pg.query("SELECT k FROM t WHERE k IN ('f', 'g')");
    expect(rows).toHaveLength(2);
  });
});

describe('GroupCommit and row times (migration 014)', () => {
  // PGlite's clock has millisecond resolution: each statement sleeps 2 ms so that times can differ
  it("gives each grouped statement its own statement_timestamp(), where now() is the group's", async () => {
    await pg.exec('CREATE TABLE stamps (k int, at timestamptz DEFAULT statement_timestamp(), tx_at timestamptz DEFAULT now())');
    await runConcurrently(Array.from({ length: 6 }, (_, i) => ({ sql: 'INSERT INTO stamps (k) SELECT $1 FROM pg_sleep(0.002)', params: [i] })));
    const { rows } = await pg.query<{ k: number; at: Date; tx_at: Date }>('SELECT k, at, tx_at FROM stamps ORDER BY k');
    const at = rows.map((r) => r.at.getTime());
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThan(at[i - 1]!); // arrival order, no ties
    // the statements did run grouped: some rows share their transaction's now()
    expect(new Set(rows.map((r) => r.tx_at.getTime())).size).toBeLessThan(rows.length);
  });
});
