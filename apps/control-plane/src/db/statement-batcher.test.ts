import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher.js';

/** A fake database: every statement settles when the test releases it, and is recorded. */
function fakeDb(failMany: (items: string[]) => boolean = () => false) {
  const statements: string[][] = [];
  const pending: (() => void)[] = [];
  const later = <T>(fn: () => T) => new Promise<T>((resolve, reject) => pending.push(() => {
    try {
      resolve(fn());
    } catch (err) {
      reject(err);
    }
  }));
  const one = (item: string) => later(() => {
    statements.push([item]);
    if (item.startsWith('bad')) throw new Error(`refused ${item}`);
    return `one:${item}`;
  });
  const many = (items: string[]) => later(() => {
    statements.push(items);
    if (failMany(items)) throw new Error('batch refused');
    return items.map((i) => `many:${i}`);
  });
  /** settles what is under way, then lets the batcher send what waited */
  const release = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { one, many, statements, release };
}

const keyOf = (item: string) => item.split('/')[0]!;

describe('StatementBatcher', () => {
  it('sends a lone call at once on its own, and what queued behind it as one batch', async () => {
    const db = fakeDb();
    const b = new StatementBatcher({ one: db.one, many: db.many, key: keyOf, max: 50, concurrency: 1 });
    const answers = Promise.all(['a', 'b', 'c', 'd'].map((x) => b.call(x)));
    await db.release();
    expect(await answers).toEqual(['one:a', 'many:b', 'many:c', 'many:d']);
    expect(db.statements).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('keeps two calls of one key out of one batch, in their order, and caps a batch at max', async () => {
    const db = fakeDb();
    const b = new StatementBatcher({ one: db.one, many: db.many, key: keyOf, max: 3, concurrency: 1 });
    const answers = Promise.all(['s1/a', 's1/b', 's2/a', 's1/c', 's3/a', 's4/a', 's5/a'].map((x) => b.call(x)));
    await db.release();
    await answers;
    expect(db.statements).toEqual([['s1/a'], ['s1/b', 's2/a', 's3/a'], ['s1/c', 's4/a', 's5/a']]);
  });

  it('runs each item of a refused batch on its own, so only the bad one fails', async () => {
    const db = fakeDb((items) => items.some((i) => i.startsWith('bad')));
    const b = new StatementBatcher({ one: db.one, many: db.many, key: keyOf, max: 50, concurrency: 1 });
    const answers = Promise.allSettled(['a', 'b', 'bad', 'c'].map((x) => b.call(x)));
    await db.release();
    const settled = await answers;
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['one:a', 'one:b', 'refused bad', 'one:c']);
    expect(db.statements).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });

  it('has up to `concurrency` batches under way at once, never two calls of one key', async () => {
    const db = fakeDb();
    const b = new StatementBatcher({ one: db.one, many: db.many, key: keyOf, max: 50, concurrency: 2 });
    const answers = Promise.all(['a', 'b', 'c', 'd'].map((x) => b.call(x)));
    await db.release();
    await answers;
    expect(db.statements).toEqual([['a'], ['b'], ['c', 'd']]);

    db.statements.length = 0;
    const again = Promise.all(['k/1', 'k/2', 'x', 'k/3', 'y'].map((x) => b.call(x)));
    await db.release();
    await again;
    // k/2 waits for k/1 although a second batch could go; x and y do not wait for k
    expect(db.statements).toEqual([['k/1'], ['x'], ['k/2', 'y'], ['k/3']]);
  });
});
