import { randomUUID } from 'node:crypto';
import { migrate, openPglite, type Db, type Queryable } from '@semibot/control-plane';
import { round, summarize, type Summary } from './stats.js';

/**
 * What storing a turn costs the database when turns start together, with few and with many
 * sessions stored: batches of `semibot_submit_runs` (the statement 200 turns starting at once go
 * through, store/runs.ts) on embedded PGlite in this process, with `running` runs of other
 * sessions under way meanwhile, as while 200 streams run. Each level also counts the rows of
 * `sessions` a batch read (pg_stat_xact_user_tables): a lookup per turn stays a handful of rows;
 * a scan reads all of them (migration 016).
 */
export interface BatchSubmitFigure {
  turnsPerBatch: number;
  running: number;
  levels: { sessionsStored: number; usPerTurn: Summary; sessionRowsReadPerTurn: number }[];
}

const TURNS_PER_BATCH = 26;

export async function batchSubmit(o: { batches: number; sessionLevels: number[]; running: number }): Promise<BatchSubmitFigure> {
  const db = await openPglite(null);
  try {
    await migrate(db);
    const t = await tenant(db);
    const newSessions = async (n: number) =>
      (await db.query<{ id: string }>('INSERT INTO sessions (org_id, user_id, agent_id) SELECT $1, $2, $3 FROM generate_series(1, $4) RETURNING id', [
        t.org, t.user, t.agent, n,
      ])).map((r) => r.id);
    const turns = (ids: string[]) =>
      ids.map((session) => ({
        run_id: randomUUID(), org: t.org, usr: t.user, session, key: null, request: null, message: randomUUID(),
        content: 'hello', claim: true, owner: 'bench', lease_ms: 60_000,
      }));
    for (const chunk of chunks(await newSessions(o.running), 50)) await db.query('SELECT semibot_submit_runs($1)', [JSON.stringify(turns(chunk))]);

    const levels: BatchSubmitFigure['levels'] = [];
    let stored = o.running;
    for (const target of o.sessionLevels) {
      stored += (await newSessions(Math.max(0, target - stored - o.batches * TURNS_PER_BATCH))).length; // stored, never touched
      const idle = await newSessions(o.batches * TURNS_PER_BATCH);
      stored += idle.length;
      const us: number[] = [];
      let rowsRead = 0;
      for (const batch of chunks(idle, TURNS_PER_BATCH)) {
        const items = turns(batch);
        const { elapsedUs, read } = await db.tx(async (q) => {
          const before = await sessionRowsRead(q);
          const t0 = process.hrtime.bigint();
          const [row] = await q.query<{ r: unknown[] }>('SELECT semibot_submit_runs($1) AS r', [JSON.stringify(items)]);
          const elapsedUs = Number(process.hrtime.bigint() - t0) / 1000;
          if (row?.r.length !== items.length) throw new Error(`batch submit stored ${row?.r.length} of ${items.length} turns`);
          return { elapsedUs, read: (await sessionRowsRead(q)) - before };
        });
        us.push(elapsedUs / items.length);
        rowsRead += read;
        // ended again, so the running runs stay `running` and no more
        const ends = items.map((i) => ({ run_id: i.run_id, status: 'completed', code: null, message: null, usage: null, answer: 'ok', attempt: 1 }));
        await db.query('SELECT semibot_finalize_runs($1)', [JSON.stringify(ends)]);
      }
      // the first batches plan the function and warm PGlite's caches: not what a running server pays
      const summary = summarize(us.slice(Math.min(5, us.length - 1)));
      levels.push({
        sessionsStored: stored,
        usPerTurn: { ...summary, p50: round(summary.p50, 1), p99: round(summary.p99, 1) },
        sessionRowsReadPerTurn: round(rowsRead / idle.length, 1),
      });
    }
    return { turnsPerBatch: TURNS_PER_BATCH, running: o.running, levels };
  } finally {
    await db.close();
  }
}

async function tenant(db: Db): Promise<{ org: string; user: string; agent: string }> {
  const [org] = await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('bench') RETURNING id`);
  const [user] = await db.query<{ id: string }>(`INSERT INTO users (org_id, email, password_hash) VALUES ($1, $2, 'x') RETURNING id`, [org!.id, `${randomUUID()}@bench`]);
  const [agent] = await db.query<{ id: string }>(`INSERT INTO agents (org_id, created_by, name, system_prompt) VALUES ($1, $2, 'bench', 'p') RETURNING id`, [org!.id, user!.id]);
  return { org: org!.id, user: user!.id, agent: agent!.id };
}

/** Rows of `sessions` this transaction has read so far, by scans and by index lookups. */
async function sessionRowsRead(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: string }>(
    `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_xact_user_tables WHERE relname = 'sessions'`,
  );
  return Number(row?.n ?? 0);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const formatBatchSubmit = (f: BatchSubmitFigure): string =>
  `batch submit (${f.turnsPerBatch} turns a batch, ${f.running} running): ` +
  f.levels.map((l) => `${l.sessionsStored} sessions stored ${l.usPerTurn.p50}/${l.usPerTurn.p99} µs a turn p50/p99, ${l.sessionRowsReadPerTurn} session rows read a turn`).join('; ');
