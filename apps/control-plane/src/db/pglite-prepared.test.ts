import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements } from './pglite-prepared.js';

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`CREATE TABLE items (id uuid PRIMARY KEY, n int8, ok boolean, doc jsonb, at timestamptz, tags text[], note text UNIQUE)`);
});
afterAll(() => db.close());

const statementsPrepared = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0]!.n;

describe('PreparedStatements', () => {
  it('stores and reads every kind of value as PGlite’s own query does', async () => {
    const p = new PreparedStatements(db);
    const id = '7b0cbd4e-8a49-4b43-9f3e-2a57a2b9e0a1';
    const at = new Date('2026-12-07T10:00:00.123Z');
    const insert = 'INSERT INTO items (id, n, ok, doc, at, tags, note) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *';
    const ours = (await p.query(insert, [id, 42, true, JSON.stringify({ a: [1, 'two'] }), at, ['x', 'y'], null])).rows;
    const theirs = (await db.query('SELECT * FROM items WHERE id = $1', [id])).rows;
    expect(ours).toEqual(theirs);
    expect(ours).toEqual([{ id, n: 42, ok: true, doc: { a: [1, 'two'] }, at, tags: ['x', 'y'], note: null }]);
    // the same text again runs the statement already prepared, with other values
    expect((await p.query('SELECT n, note FROM items WHERE id = $1', [id])).rows).toEqual([{ n: 42, note: null }]);
    expect((await p.query('SELECT n, note FROM items WHERE id = $1', ['00000000-0000-0000-0000-000000000000'])).rows).toEqual([]);
    expect((await p.query('UPDATE items SET note = $2 WHERE id = $1', [id, 'first'])).rows).toEqual([]);
  });

  it('answers a failing statement with its error code and leaves the connection usable', async () => {
    const p = new PreparedStatements(db);
    const id = 'c6a5a6b4-3c52-4f7d-a3a9-3b3e8f1d2c10';
    await p.query('INSERT INTO items (id, note) VALUES ($1, $2)', [id, 'dup']);
    await expect(p.query('INSERT INTO items (id, note) VALUES ($1, $2)', ['d1b9a0a2-1111-4b43-9f3e-2a57a2b9e0a1', 'dup'])).rejects.toMatchObject({ code: '23505' });
    await expect(p.query('SELEC nonsense', [])).rejects.toMatchObject({ code: '42601' });
    await expect(p.query('SELECT $1::int AS v', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    expect((await p.query('SELECT note FROM items WHERE id = $1', [id])).rows).toEqual([{ note: 'dup' }]);
  });

  it('runs again a statement whose table was altered since it was prepared', async () => {
    const p = new PreparedStatements(db);
    await db.exec('CREATE TABLE altered (id int PRIMARY KEY)');
    await p.query('INSERT INTO altered VALUES ($1)', [1]);
    expect((await p.query('SELECT * FROM altered WHERE id = $1', [1])).rows).toEqual([{ id: 1 }]);
    await db.exec(`ALTER TABLE altered ADD COLUMN label text NOT NULL DEFAULT 'new'`);
    expect((await p.query('SELECT * FROM altered WHERE id = $1', [1])).rows).toEqual([{ id: 1, label: 'new' }]);
  });

  it('keeps at most its limit of statements, closing the least recently used', async () => {
    const before = await statementsPrepared();
    const p = new PreparedStatements(db, 2);
    for (const v of [1, 2, 3, 1, 4]) expect((await p.query(`SELECT $1::int + ${v} AS v`, [1])).rows).toEqual([{ v: v + 1 }]);
    expect((await statementsPrepared()) - before).toBe(2);
  });

  it('waits for an open transaction instead of running inside it; its own statements run in it', async () => {
    const p = new PreparedStatements(db);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let opened!: () => void;
    const isOpen = new Promise<void>((r) => (opened = r));
    const order: string[] = [];
    const tx = db.transaction(async () => {
      await p.queryInTransaction('INSERT INTO items (id, note) VALUES ($1, $2)', ['5f3c2b1a-0000-4b43-9f3e-2a57a2b9e0a1', 'in tx']);
      order.push('tx statement');
      opened();
      await held;
      throw new Error('roll back');
    });
    await isOpen;
    const outside = p.query('SELECT count(*)::int AS n FROM items WHERE note = $1', ['in tx']).then((r) => {
      order.push('outside');
      return r.rows;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['tx statement']); // not answered while the transaction is open
    release();
    await expect(tx).rejects.toThrow('roll back');
    expect(await outside).toEqual([{ n: 0 }]); // it saw no rolled-back row: it did not run inside that transaction
    expect(order).toEqual(['tx statement', 'outside']);
  });
});
