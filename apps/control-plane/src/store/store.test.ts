import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { testDatabases } from '../testing/databases.js';
import { createAgent, deleteAgent, getAgent, listAgents, patchAgent } from './agents.js';
import { insertEvents, prunedThrough, pruneEvents, readEvents } from './events.js';
import { historyForPlane, listMessages } from './messages.js';
import { claimSession, finalizeRun, getRun, getRunById, nextAttempt, renewLeases, submitMessage, unattendedSessions } from './runs.js';
import { createSession, getSession, reserveEventIds } from './sessions.js';
import { insertSnapshots, latestSnapshot } from './snapshots-audit.js';
import { createUserWithOrg, findUserForLogin } from './users.js';

for (const backend of testDatabases) {
  const title = backend.unavailable ? `store on ${backend.name} — skipped: ${backend.unavailable}` : `store on ${backend.name}`;
  describe.skipIf(backend.unavailable !== null)(title, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await backend.open());
    });
    afterAll(async () => drop?.());

    let n = 0;
    async function tenant() {
      const { user, org } = await db.tx((q) =>
        createUserWithOrg(q, { email: `T${n++}-${Date.now()}@Example.com`, passwordHash: 'x', name: null }),
      );
      const agent = await createAgent(db, org.id, user.id, {
        name: 'a', systemPrompt: 'p', model: null, runtimeType: 'semigraph', defaultVmMode: null,
        skillIds: [], mcpServerIds: [], openclawConfig: null,
      });
      const session = await createSession(db, { orgId: org.id, userId: user.id, agentId: agent.id, title: null, runtimeType: null });
      return { user, org, agent, session };
    }

    /**
     * Runs `statement` in a transaction of its own and answers how many rows of a table it read,
     * heap and index fetches alike (pg_stat_xact_user_tables): a lookup by key reads a handful, a
     * scan reads them all.
     */
    const counted = <T>(statement: (q: Queryable) => Promise<T>) =>
      db.tx(async (q) => {
        const tables = async () =>
          new Map((await q.query<{ relname: string; n: string }>(
            'SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_xact_user_tables',
          )).map((r) => [r.relname, Number(r.n)]));
        const before = await tables();
        const result = await statement(q);
        const after = await tables();
        return { result, read: (table: string) => (after.get(table) ?? 0) - (before.get(table) ?? 0) };
      });

    it('stores batches of snapshots and keeps the newest three of each session', async () => {
      const a = await tenant();
      const b = await tenant();
      const snap = (t: typeof a, turn: number) => ({
        sessionId: t.session.id, orgId: t.org.id, userId: t.user.id, checkpoint: null,
        shortTermMemory: { 'conversation.md': `turn ${turn}` }, conversationState: { turn }, fileManifest: [],
      });
      await insertSnapshots(db, [snap(a, 1), snap(b, 1), snap(a, 2)]);
      for (let turn = 3; turn <= 6; turn++) await insertSnapshots(db, [snap(a, turn), snap(b, turn)]);
      expect((await latestSnapshot(db, a.session.id))?.conversationState).toEqual({ turn: 6 });
      await insertSnapshots(db, [snap(a, 7), snap(a, 8)]); // one batch, one session: the newer wins
      expect((await latestSnapshot(db, a.session.id))?.conversationState).toEqual({ turn: 8 });
      expect((await latestSnapshot(db, b.session.id))?.shortTermMemory).toEqual({ 'conversation.md': 'turn 6' });
      const kept = await db.query<{ session_id: string; n: string }>(
        'SELECT session_id, count(*) AS n FROM session_snapshots WHERE session_id = ANY($1) GROUP BY session_id',
        [[a.session.id, b.session.id]],
      );
      expect(kept.map((r) => Number(r.n))).toEqual([3, 3]);
    });

    it('keeps the newest snapshots by key: the rows a batch reads do not grow with the snapshots stored', async () => {
      const t = await tenant();
      const others = (await db.query<{ id: string }>('INSERT INTO sessions (org_id, user_id, agent_id) SELECT $1, $2, $3 FROM generate_series(1, 2000) RETURNING id', [
        t.org.id, t.user.id, t.agent.id,
      ])).map((r) => r.id);
      await db.query(`INSERT INTO session_snapshots (session_id, user_id, org_id, short_term_memory, conversation_state, file_manifest)
                      SELECT id, $2, $3, '{}', '{}', '[]' FROM unnest($1::uuid[]) id, generate_series(1, 3)`, [others, t.user.id, t.org.id]);
      const ending = others.slice(0, 10);
      const { read } = await counted((q) => insertSnapshots(q, ending.map((sessionId) => ({
        sessionId, orgId: t.org.id, userId: t.user.id, checkpoint: null, shortTermMemory: {}, conversationState: { last: true }, fileManifest: [],
      }))));
      // each session's own four rows (three kept, one deleted) are read twice, not the 6,000 stored
      expect(read('session_snapshots')).toBeLessThanOrEqual(ending.length * 8);
      const kept = await db.query<{ n: string }>('SELECT count(*) AS n FROM session_snapshots WHERE session_id = ANY($1) GROUP BY session_id', [ending]);
      expect(kept.map((r) => Number(r.n))).toEqual(ending.map(() => 3));
      expect((await latestSnapshot(db, ending[0]!))?.conversationState).toEqual({ last: true });
    });

    it("reads a session's history for its plane by key, without the turn under way, however many runs are stored", async () => {
      const t = await tenant();
      const submit = (content: string) =>
        submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content, idempotencyKey: null, claim: { owner: 'r', ms: 60_000 } });
      const first = await submit('one');
      await finalizeRun(db, { runId: first.run.id, status: 'completed', error: null, usage: null, answer: 'two', attempt: 1 });
      const current = await submit('three');
      // 20,000 ended runs of other sessions, a message each
      await db.query(
        `WITH s AS (INSERT INTO sessions (org_id, user_id, agent_id) SELECT $1, $2, $3 FROM generate_series(1, 20000) RETURNING id),
              r AS (INSERT INTO runs (org_id, user_id, session_id, status, attempt) SELECT $1, $2, id, 'completed', 1 FROM s RETURNING id, session_id)
         INSERT INTO messages (org_id, session_id, run_id, role, content) SELECT $1, session_id, id, 'user', 'x' FROM r`,
        [t.org.id, t.user.id, t.agent.id],
      );
      const { result: history, read } = await counted((q) => historyForPlane(q, t.session.id, current.run.id));
      expect(history.map((m) => m.content)).toEqual(['one', 'two']);
      expect(read('runs')).toBeLessThanOrEqual(history.length + 2); // a run looked up per message, not 20,002 read
    });

    it('migrates idempotently', async () => {
      expect(await migrate(db)).toEqual([]);
    });

    it('keeps emails unique regardless of case and finds them case-insensitively', async () => {
      const { user } = await tenant();
      await expect(db.tx((q) => createUserWithOrg(q, { email: user.email.toUpperCase(), passwordHash: 'y', name: null })))
        .rejects.toMatchObject({ code: '23505' });
      expect((await findUserForLogin(db, user.email.toLowerCase()))?.user.id).toBe(user.id);
    });

    it('scopes agents and sessions to their org', async () => {
      const a = await tenant();
      const b = await tenant();
      expect(await getAgent(db, b.org.id, a.agent.id)).toBeNull();
      expect(await getSession(db, b.org.id, a.session.id)).toBeNull();
      expect(await patchAgent(db, b.org.id, a.agent.id, { name: 'stolen' })).toBeNull();
      expect(await deleteAgent(db, b.org.id, a.agent.id)).toBe(false);
      expect((await listAgents(db, b.org.id)).map((x) => x.id)).not.toContain(a.agent.id);
      const patched = await patchAgent(db, a.org.id, a.agent.id, { name: 'renamed', skillIds: ['s1'], openclawConfig: { k: 1 } });
      expect(patched).toMatchObject({ name: 'renamed', skillIds: ['s1'], openclawConfig: { k: 1 }, systemPrompt: 'p' });
    });

    it('collapses 20 concurrent submits with one idempotency key into one run and one message', async () => {
      const t = await tenant();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content: 'hi', idempotencyKey: 'k1' }),
        ),
      );
      expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
      expect(new Set(results.map((r) => r.messageId)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await listMessages(db, t.org.id, t.session.id)).toHaveLength(1);
    });

    it('runs at most one run per session, in submission order, even when claims race', async () => {
      const t = await tenant();
      const submitted = [];
      for (const content of ['one', 'two', 'three']) {
        submitted.push(await submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content, idempotencyKey: null }));
      }
      // eight replicas race for the session's work
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimSession(db, t.session.id, { owner: `r${i}`, ms: 60_000 })));
      const won = claims.filter((c) => c !== null).map((c) => c.run);
      expect(won).toHaveLength(1);
      expect(won[0]!.id).toBe(submitted[0]!.run.id);
      expect(won[0]!.attempt).toBe(1);
      expect(claims.find((c) => c !== null)!.takeover).toBe(false);
      // the winner's lease is live: nobody else gets the session's work
      expect(await claimSession(db, t.session.id, { owner: 'other', ms: 60_000 })).toBeNull();

      const done = await finalizeRun(db, { runId: won[0]!.id, status: 'completed', error: null, usage: { tokensIn: 1, tokensOut: 2, calls: 1 }, answer: 'ans', attempt: 1 });
      expect(done?.status).toBe('completed');
      // finalising twice changes nothing and stores no second answer
      expect(await finalizeRun(db, { runId: won[0]!.id, status: 'failed', error: null, usage: null, answer: 'again', attempt: null })).toBeNull();
      expect((await getRun(db, t.org.id, won[0]!.id))?.usage).toEqual({ tokensIn: 1, tokensOut: 2, calls: 1 });
      expect((await claimSession(db, t.session.id, { owner: 'r0', ms: 60_000 }))?.run.id).toBe(submitted[1]!.run.id);
      const history = await listMessages(db, t.org.id, t.session.id);
      expect(history.map((m) => m.content)).toEqual(['one', 'two', 'three', 'ans']);
    });

    it('claims a run as it is stored only when the session is idle, and refuses a deleted session', async () => {
      const t = await tenant();
      const submit = (content: string) =>
        submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content, idempotencyKey: null, claim: { owner: 'r', ms: 60_000 } });
      // 10 racing claiming submits: exactly one runs, the rest queue (runs_one_running decides)
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(`m${i}`)));
      const running = results.filter((r) => r.run.status === 'running');
      expect(running).toHaveLength(1);
      expect(running[0]!.run.attempt).toBe(1);
      expect(running[0]!.delivery).toMatchObject({ sessionId: t.session.id, agent: { id: t.agent.id }, content: expect.stringMatching(/^m\d$/) });
      expect(results.filter((r) => r.run.status === 'queued').every((r) => r.delivery === undefined)).toBe(true);
      // an empty answer stores no assistant message
      expect(running[0]!.run.leaseOwner).toBe('r');
      await finalizeRun(db, { runId: running[0]!.run.id, status: 'completed', error: null, usage: null, answer: '', attempt: 1 });
      expect((await listMessages(db, t.org.id, t.session.id)).filter((m) => m.role === 'assistant')).toHaveLength(0);
      // the session still has queued runs: a new one queues behind them instead of jumping ahead
      expect((await submit('later')).run.status).toBe('queued');

      const other = await tenant();
      await expect(
        submitMessage(db, { orgId: other.org.id, userId: other.user.id, sessionId: t.session.id, content: 'x', idempotencyKey: null, claim: { owner: 'r', ms: 1 } }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await db.query('UPDATE sessions SET deleted_at = now() WHERE id = $1', [t.session.id]);
      await expect(submit('after delete')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('stores and ends turns that arrive together in batches, each answered as it would be alone', async () => {
      // a Db of its own: the batchers are per database object, and this one counts the statements
      const statements: string[] = [];
      const counted: Db = { ...db, query: (sql, params) => (statements.push(sql), db.query(sql, params)) };
      const t = await tenant();
      const sessions = [t.session];
      for (let i = 0; i < 11; i++) sessions.push(await createSession(db, { orgId: t.org.id, userId: t.user.id, agentId: t.agent.id, title: null, runtimeType: null }));
      const gone = await createSession(db, { orgId: t.org.id, userId: t.user.id, agentId: t.agent.id, title: null, runtimeType: null });
      await db.query('UPDATE sessions SET deleted_at = now() WHERE id = $1', [gone.id]);
      const submit = (sessionId: string, content: string) =>
        submitMessage(counted, { orgId: t.org.id, userId: t.user.id, sessionId, content, idempotencyKey: null, claim: { owner: 'r', ms: 60_000 } });

      const all = await Promise.allSettled([
        ...sessions.map((s, i) => submit(s.id, `m${i}`)),
        submit(gone.id, 'to a deleted session'),
        submit(sessions[3]!.id, 'second of its session'), // never in one batch with its session's first
        submit(sessions[5]!.id, 'a NUL \u0000 no text column takes'), // fails its batch: the others are stored anyway
      ]);
      const ok = all.slice(0, 12).map((r) => (r.status === 'fulfilled' ? r.value : null));
      expect(ok.every((r, i) => r?.run.status === 'running' && r.delivery?.content === `m${i}` && r.delivery.agent.id === t.agent.id)).toBe(true);
      expect(all[12]).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
      expect(all[13]).toMatchObject({ status: 'fulfilled', value: { run: { status: 'queued' } } });
      expect(all[14]!.status).toBe('rejected');
      expect(statements.filter((s) => s.includes('semibot_submit_runs(')).length).toBeGreaterThan(0);
      expect(statements.filter((s) => s.includes('semibot_submit_run(')).length).toBeLessThan(all.length);
      expect((await listMessages(db, t.org.id, sessions[5]!.id)).map((m) => m.content)).toEqual(['m5']);

      const runs = ok.map((r) => r!.run);
      const ended = await Promise.all([
        ...runs.map((r, i) => finalizeRun(counted, { runId: r.id, status: 'completed', error: null, usage: { tokensIn: i, tokensOut: 1, calls: 1 }, answer: `a${i}`, attempt: 1 })),
        finalizeRun(counted, { runId: runs[0]!.id, status: 'failed', error: null, usage: null, answer: 'twice', attempt: 1 }),
        finalizeRun(counted, { runId: runs[1]!.id, status: 'failed', error: null, usage: null, answer: 'old attempt', attempt: 7 }),
      ]);
      expect(ended.slice(0, 12).map((r) => r?.status)).toEqual(runs.map(() => 'completed'));
      expect(ended[3]!.queuedBehind).toBe(true);
      expect(ended[4]!.queuedBehind).toBe(false);
      expect(ended.slice(12)).toEqual([null, null]);
      expect(statements.filter((s) => s.includes('semibot_finalize_runs(')).length).toBeGreaterThan(0);
      expect((await getRun(db, t.org.id, runs[6]!.id))?.usage).toEqual({ tokensIn: 6, tokensOut: 1, calls: 1 });
      for (const [i, s] of sessions.entries()) {
        expect((await listMessages(db, t.org.id, s.id)).filter((m) => m.role !== 'user' || !m.content.startsWith('second')).map((m) => m.content)).toEqual([`m${i}`, `a${i}`]);
      }
    });

    it('stores turns by key: the rows a submit reads do not grow with the sessions, runs and agents stored', async () => {
      const t = await tenant();
      const newSessions = async (n: number) =>
        (await db.query<{ id: string }>('INSERT INTO sessions (org_id, user_id, agent_id) SELECT $1, $2, $3 FROM generate_series(1, $4) RETURNING id', [
          t.org.id, t.user.id, t.agent.id, n,
        ])).map((r) => r.id);
      const turns = (ids: string[]) =>
        JSON.stringify(ids.map((session) => ({
          run_id: randomUUID(), org: t.org.id, usr: t.user.id, session, key: null, request: null, message: randomUUID(),
          content: 'x', claim: true, owner: 'r', lease_ms: 60_000,
        })));
      const [busy, idle] = [await newSessions(300), await newSessions(20)];
      await newSessions(2_000); // stored, never touched
      await db.query(`INSERT INTO agents (org_id, created_by, name, system_prompt) SELECT $1, $2, 'other', 'p' FROM generate_series(1, 1000)`, [t.org.id, t.user.id]);
      await db.query('SELECT semibot_submit_runs($1)', [turns(busy)]); // 300 runs running meanwhile
      const [lone, ...batched] = idle;
      const batch = await counted(async (q) => (await q.query<{ r: { run: { status: string }; delivery: unknown }[] }>('SELECT semibot_submit_runs($1) AS r', [turns(batched)]))[0]!.r);
      expect(batch.result.map((s) => s.run.status)).toEqual(batched.map(() => 'running'));
      expect(batch.result.every((s) => s.delivery !== null)).toBe(true);
      // a handful of lookups a turn (its session, its delivery, the foreign keys), not a scan of the
      // 2,320 sessions, the 300 running runs or the 1,001 agents
      for (const table of ['sessions', 'runs', 'agents']) expect(batch.read(table), table).toBeLessThanOrEqual(batched.length * 5);
      const one = await counted(async (q) => (await q.query<{ r: { run: { status: string }; delivery: unknown } }>(
        'SELECT semibot_submit_run($1, $2, $3, $4, NULL, NULL, $5, $6, true, $7, 60000) AS r',
        [randomUUID(), t.org.id, t.user.id, lone, randomUUID(), 'x', 'r'],
      ))[0]!.r);
      expect(one.result.run.status).toBe('running');
      expect(one.result.delivery).not.toBeNull();
      for (const table of ['sessions', 'runs', 'agents']) expect(one.read(table), table).toBeLessThanOrEqual(5);
      // and so does a request's look-up of its session and agent, not a walk of the org's index
      const found = await counted(async (q) => [await getSession(q, t.org.id, lone!), await getAgent(q, t.org.id, t.agent.id)]);
      expect(found.result.map((r) => r?.id)).toEqual([lone, t.agent.id]);
      for (const table of ['sessions', 'agents']) expect(found.read(table), table).toBeLessThanOrEqual(1);
    });

    it('takes a run over when its lease expires, fencing the old attempt out', async () => {
      const t = await tenant();
      const submitted = await submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content: 'x', idempotencyKey: null, claim: { owner: 'a', ms: 150 } });
      const runId = submitted.run.id;
      expect(submitted.run.status).toBe('running');
      // while a renews, b gets nothing; the lease does not move to someone who does not hold it
      expect(await renewLeases(db, [runId], { owner: 'b', ms: 60_000 })).toEqual(new Set());
      expect(await renewLeases(db, [runId], { owner: 'a', ms: 150 })).toEqual(new Set([runId]));
      expect(await claimSession(db, t.session.id, { owner: 'b', ms: 60_000 })).toBeNull();
      expect(await nextAttempt(db, runId, { owner: 'b', ms: 60_000 })).toBeNull();
      expect(await unattendedSessions(db, 60_000)).not.toContainEqual({ sessionId: t.session.id, userId: t.user.id, orgId: t.org.id });
      // a stops renewing (it died): the sweep finds the session, b takes the run over as attempt 2
      await new Promise((r) => setTimeout(r, 250));
      expect(await unattendedSessions(db, 60_000)).toContainEqual({ sessionId: t.session.id, userId: t.user.id, orgId: t.org.id });
      const taken = await claimSession(db, t.session.id, { owner: 'b', ms: 60_000 });
      expect(taken).toMatchObject({ takeover: true, run: { id: runId, attempt: 2, leaseOwner: 'b', status: 'running' } });
      // a wakes up: its renewal and its finalisation of attempt 1 change nothing
      expect(await renewLeases(db, [runId], { owner: 'a', ms: 150 })).toEqual(new Set());
      expect(await finalizeRun(db, { runId, status: 'completed', error: null, usage: null, answer: 'stale', attempt: 1 })).toBeNull();
      expect(await finalizeRun(db, { runId, status: 'completed', error: null, usage: null, answer: 'fresh', attempt: 2 })).toMatchObject({ status: 'completed' });
      expect((await getRunById(db, runId))?.leaseOwner).toBeNull();
      expect((await listMessages(db, t.org.id, t.session.id)).map((m) => m.content)).toEqual(['x', 'fresh']);
    });

    it('stores events without the run id their row holds, and reads them back whole', async () => {
      const t = await tenant();
      const runId = (await submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content: 'x', idempotencyKey: null })).run.id;
      // as the relay builds them: the run id last
      const events = [1, 2, 3].map((id) => ({ sessionId: t.session.id, id, event: { type: 'text' as const, text: `t${id}`, runId } }));
      await insertEvents(db, events);
      const [row] = await db.query<{ events: string }>('SELECT events FROM session_event_batches WHERE session_id = $1', [t.session.id]);
      expect(row!.events).not.toContain(runId);
      expect(await readEvents(db, t.session.id, 0)).toEqual(events.map(({ id, event }) => ({ id, event })));
    });

    it('hands out strictly increasing event id blocks and prunes with a recorded mark', async () => {
      const t = await tenant();
      const blocks = await Promise.all(Array.from({ length: 5 }, () => reserveEventIds(db, t.session.id, 100)));
      expect(new Set(blocks).size).toBe(5);
      for (const b of blocks) expect((b - 1) % 100).toBe(0);
      const runId = (await submitMessage(db, { orgId: t.org.id, userId: t.user.id, sessionId: t.session.id, content: 'x', idempotencyKey: null })).run.id;
      const events = Array.from({ length: 30 }, (_, i) => ({
        sessionId: t.session.id,
        id: i + 1,
        event: { type: 'text' as const, runId, text: `t${i + 1}` },
      }));
      // three flushes of ten: the log is kept in one row per flush and run
      for (let i = 0; i < 30; i += 10) await insertEvents(db, events.slice(i, i + 10));
      await insertEvents(db, events.slice(0, 10)); // a re-flush is harmless
      expect((await readEvents(db, t.session.id, 25)).map((e) => e.id)).toEqual([26, 27, 28, 29, 30]);
      expect((await readEvents(db, t.session.id, 0, { runId })).length).toBe(30);
      // exactly the newest 10 stay: whole flushes older than them go
      const marks: number[] = [];
      expect(await pruneEvents(db, t.session.id, 10, (m) => marks.push(m))).toBe(20);
      expect(await prunedThrough(db, t.session.id)).toBe(20);
      // a cut inside a flush rewrites that row: the newest 5 stay, in order
      expect(await pruneEvents(db, t.session.id, 5, (m) => marks.push(m))).toBe(25);
      expect(await prunedThrough(db, t.session.id)).toBe(25);
      expect(marks).toEqual([20, 25]);
      expect((await readEvents(db, t.session.id, 0)).map((e) => e.id)).toEqual([26, 27, 28, 29, 30]);
      expect((await readEvents(db, t.session.id, 27)).map((e) => e.id)).toEqual([28, 29, 30]);
      expect(await pruneEvents(db, t.session.id, 5)).toBeNull(); // nothing more to go
      expect(await pruneEvents(db, t.session.id, 50)).toBeNull();
    });
  });
}
