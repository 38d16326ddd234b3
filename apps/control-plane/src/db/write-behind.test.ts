import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { WriteBehind } from './write-behind.js';

const logger = pino({ level: 'silent' });

describe('WriteBehind', () => {
  it('writes what was added in batches, in order, and flush() waits for all of it', async () => {
    const written: number[][] = [];
    const w = new WriteBehind(async (rows: number[]) => void written.push(rows), { what: 't', logger, delayMs: 5, maxBatch: 3 });
    for (let i = 1; i <= 7; i++) w.add(i);
    expect(written).toEqual([]); // nothing yet: the batch window is open
    await w.flush();
    expect(written).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    w.add(8);
    await new Promise((r) => setTimeout(r, 30)); // the timer writes it without a flush
    expect(written.at(-1)).toEqual([8]);
  });

  it('keeps rows whose write failed and writes them on the next try, before newer ones', async () => {
    const written: string[][] = [];
    let failures = 1;
    const w = new WriteBehind(
      async (rows: string[]) => {
        if (failures-- > 0) throw new Error('database unavailable');
        written.push(rows);
      },
      { what: 't', logger, delayMs: 1_000 },
    );
    w.add('a');
    w.add('b');
    await expect(w.flush()).rejects.toThrow('database unavailable');
    w.add('c');
    await w.close();
    expect(written).toEqual([['a', 'b', 'c']]);
  });

  it('keeps one timed flush at a time: rows arriving while a slow one runs wait for the next window', async () => {
    const written: number[][] = [];
    const w = new WriteBehind(
      async (rows: number[]) => {
        written.push(rows);
        await new Promise((r) => setTimeout(r, 30)); // a slow database: the window grows to 300 ms
      },
      { what: 't', logger, delayMs: 5, maxDelayMs: 1_000 },
    );
    for (let i = 1; i <= 30; i++) {
      w.add(i);
      await new Promise((r) => setTimeout(r, 10));
    }
    // the first row alone, then (a window of 10 × 30 ms later) everything since in one batch; not
    // a flush per 5 ms queued behind the slow one, each writing what arrived meanwhile
    expect(written.length).toBeLessThanOrEqual(3);
    await w.close();
    expect(written.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});
