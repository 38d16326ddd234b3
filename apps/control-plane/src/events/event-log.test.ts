import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { SseEvent } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { openPglite } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createAgent } from '../store/agents.js';
import { createSession, reserveEventIds } from '../store/sessions.js';
import { createUserWithOrg } from '../store/users.js';
import type { StoredEvent } from '../store/events.js';
import { EventLog } from './event-log.js';
import { frameOf } from './sse.js';

const logger = pino({ level: 'silent' });
const RUN = '11111111-1111-4111-8111-111111111111';
const text = (t: string): SseEvent => ({ type: 'text', runId: RUN, text: t });

describe('EventLog', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPglite(null);
    await migrate(db);
  });
  afterAll(async () => db.close());

  async function newSession(): Promise<string> {
    const { user, org } = await db.tx((q) => createUserWithOrg(q, { email: `${Math.random()}@x.io`, passwordHash: 'x', name: null }));
    const agent = await createAgent(db, org.id, user.id, {
      name: 'a', systemPrompt: '', model: null, runtimeType: 'semigraph', defaultVmMode: null, skillIds: [], mcpServerIds: [], openclawConfig: null,
    });
    return (await createSession(db, { orgId: org.id, userId: user.id, agentId: agent.id, title: null, runtimeType: null })).id;
  }

  async function collect(log: EventLog, sessionId: string, afterId: number) {
    const got: StoredEvent[] = [];
    const sub = await log.subscribe(sessionId, afterId, (e) => got.push(e));
    return { got, ...sub };
  }

  it('numbers events strictly increasing across block boundaries and replays them from memory', async () => {
    const log = new EventLog({ db, logger, retention: 1000, blockSize: 4 });
    const s = await newSession();
    for (let i = 0; i < 11; i++) log.append(s, text(`t${i}`));
    await new Promise((r) => setTimeout(r, 50));
    const { got } = await collect(log, s, 0);
    expect(got.map((e) => (e.event as { text: string }).text)).toEqual(Array.from({ length: 11 }, (_, i) => `t${i}`));
    for (let i = 1; i < got.length; i++) expect(got[i]!.id).toBeGreaterThan(got[i - 1]!.id);
    await log.close();
  });

  it('keeps a stored event in its ring without its JSON, and frames it again for a replay', async () => {
    const log = new EventLog({ db, logger, retention: 1000 });
    const s = await newSession();
    for (let i = 0; i < 3; i++) log.append(s, text(`t${i}`));
    await log.flush();
    const { got } = await collect(log, s, 0);
    expect(got).toHaveLength(3);
    for (const e of got) expect(e.json).toBeUndefined(); // stored: the ring does not hold it twice
    expect(got.map((e) => frameOf(e))).toEqual(
      got.map((e, i) => `id: ${e.id}\nevent: text\ndata: {"type":"text","runId":"${RUN}","text":"t${i}"}\n\n`),
    );
    await log.close();
  });

  it('replays from the database what the ring no longer holds, and never reuses ids after a restart', async () => {
    const s = await newSession();
    const first = new EventLog({ db, logger, retention: 1000, ringSize: 3, blockSize: 10 });
    for (let i = 0; i < 8; i++) first.append(s, text(`a${i}`));
    const { got: seen } = await collect(first, s, 0);
    await first.close();
    // a new process (same database): ids continue above everything handed out before
    const second = new EventLog({ db, logger, retention: 1000, ringSize: 3, blockSize: 10 });
    second.append(s, text('b0'));
    const { got } = await collect(second, s, seen[2]!.id);
    expect(got.map((e) => (e.event as { text: string }).text)).toEqual(['a3', 'a4', 'a5', 'a6', 'a7', 'b0']);
    expect(got.at(-1)!.id).toBeGreaterThan(seen.at(-1)!.id);
    await second.close();
  });

  it('hands over from replay to live with no gap and no duplicate while events keep coming', async () => {
    const log = new EventLog({ db, logger, retention: 10_000, ringSize: 5, blockSize: 7 });
    const s = await newSession();
    for (let i = 0; i < 20; i++) log.append(s, text(`x${i}`));
    const writer = (async () => {
      for (let i = 20; i < 200; i++) {
        log.append(s, text(`x${i}`));
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const { got, unsubscribe } = await collect(log, s, 0);
    await writer;
    await new Promise((r) => setTimeout(r, 20));
    unsubscribe();
    expect(got.map((e) => (e.event as { text: string }).text)).toEqual(Array.from({ length: 200 }, (_, i) => `x${i}`));
    await log.close();
  });

  it('asks for a resync when the requested id was pruned', async () => {
    const log = new EventLog({ db, logger, retention: 5 });
    const s = await newSession();
    for (let i = 0; i < 6; i++) log.append(s, text(`p${i}`));
    await log.flush();
    for (let i = 6; i < 12; i++) log.append(s, text(`p${i}`));
    await log.prune(s); // the first flush (6 events) is entirely older than the newest 5
    const stale = await collect(log, s, 1);
    expect(stale.resync).toBe(true);
    expect(stale.got).toEqual([]);
    const { got: all } = await collect(log, s, 0);
    const fresh = await collect(log, s, all.at(-3)!.id);
    expect(fresh.resync).toBe(false);
    expect(fresh.got).toHaveLength(2);
    await log.close();
  });

  it('filters a replay to one run', async () => {
    const log = new EventLog({ db, logger, retention: 100 });
    const s = await newSession();
    const other = '22222222-2222-4222-8222-222222222222';
    log.append(s, text('mine'));
    log.append(s, { type: 'text', runId: other, text: 'theirs' });
    log.append(s, { type: 'done', runId: RUN, status: 'completed' });
    const got: StoredEvent[] = [];
    await log.subscribe(s, 0, (e) => got.push(e), { runId: RUN });
    expect(got.map((e) => e.event.type)).toEqual(['text', 'done']);
    expect(await reserveEventIds(db, s, 1)).toBeGreaterThan(got.at(-1)!.id);
    await log.close();
  });
});
