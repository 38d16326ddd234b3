import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { SseEvent } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { openPglite } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createAgent } from '../store/agents.js';
import { createSession } from '../store/sessions.js';
import { createUserWithOrg } from '../store/users.js';
import type { StoredEvent } from '../store/events.js';
import { connectRedisCluster } from '../cluster/redis-cluster.js';
import type { Cluster } from '../cluster/cluster.js';
import { EventLog } from './event-log.js';

const logger = pino({ level: 'silent' });
const redisUrl = process.env.SEMIBOT_TEST_REDIS_URL;
const RUN_A = '11111111-1111-4111-8111-111111111111';
const RUN_B = '22222222-2222-4222-8222-222222222222';
const text = (runId: string, t: string): SseEvent => ({ type: 'text', runId, text: t });
const texts = (got: StoredEvent[]) => got.map((e) => (e.event as { text: string }).text);
const until = async (ok: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

// Two replicas' event logs over one database and one real Redis (CI sets SEMIBOT_TEST_REDIS_URL).
describe.skipIf(!redisUrl)('EventLog across replicas (shared Redis tail)', () => {
  let db: Db;
  const clusters: Cluster[] = [];
  beforeAll(async () => {
    db = await openPglite(null);
    await migrate(db);
  });
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
    await db.close();
  });

  async function replica(name: string, opts: { flushDelayMs?: number; onFenced?: (runId: string) => void } = {}) {
    const cluster = await connectRedisCluster({ url: redisUrl!, replicaId: `${name}-${process.pid}`, logger, hostTtlMs: 1_000 });
    clusters.push(cluster);
    return new EventLog({ db, logger, retention: 10_000, tail: cluster.tail, blockSize: 5, ...opts });
  }

  async function newSession(): Promise<string> {
    const { user, org } = await db.tx((q) => createUserWithOrg(q, { email: `${Math.random()}@x.io`, passwordHash: 'x', name: null }));
    const agent = await createAgent(db, org.id, user.id, {
      name: 'a', systemPrompt: '', model: null, runtimeType: 'semigraph', defaultVmMode: null, skillIds: [], mcpServerIds: [], openclawConfig: null,
    });
    return (await createSession(db, { orgId: org.id, userId: user.id, agentId: agent.id, title: null, runtimeType: null })).id;
  }

  async function collect(log: EventLog, sessionId: string, afterId: number, runId?: string) {
    const got: StoredEvent[] = [];
    const sub = await log.subscribe(sessionId, afterId, (e) => got.push(e), runId ? { runId } : {});
    return { got, ...sub };
  }

  it('streams what one replica appends to a reader on another, live and in order', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    const s = await newSession();
    const live = await collect(b, s, 0);
    for (let i = 0; i < 23; i++) a.append(s, text(RUN_A, `t${i}`), 1);
    await until(() => live.got.length === 23);
    expect(texts(live.got)).toEqual(Array.from({ length: 23 }, (_, i) => `t${i}`));
    for (let i = 1; i < 23; i++) expect(live.got[i]!.id).toBeGreaterThan(live.got[i - 1]!.id);
    await Promise.all([a.close(), b.close()]);
  });

  it('replays on another replica, gap-free, events its writer has not flushed to the database yet', async () => {
    const a = await replica('a', { flushDelayMs: 60_000 });
    const b = await replica('b');
    const s = await newSession();
    for (let i = 0; i < 12; i++) a.append(s, text(RUN_A, `t${i}`), 1);
    const all = await collect(a, s, 0);
    await until(() => all.got.length === 12);
    expect(await db.query('SELECT 1 FROM session_event_batches WHERE session_id = $1', [s])).toHaveLength(0);
    // resume on b from the fifth event: exactly the rest, none twice
    const resumed = await collect(b, s, all.got[4]!.id);
    expect(texts(resumed.got)).toEqual(texts(all.got.slice(5)));
    const lastBefore = all.got.at(-1)!.id;
    a.append(s, text(RUN_A, 'after'), 1);
    await until(() => resumed.got.length === 8);
    expect(texts(resumed.got).at(-1)).toBe('after');
    expect(resumed.got.at(-1)!.id).toBeGreaterThan(lastBefore);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses the events of a superseded attempt, and numbers above every replica that wrote before', async () => {
    const fenced: string[] = [];
    const a = await replica('a', { onFenced: (runId) => fenced.push(runId) });
    const b = await replica('b');
    const s = await newSession();
    const watch = await collect(b, s, 0);
    a.append(s, text(RUN_A, 'a1'), 1);
    await until(() => watch.got.length === 1);
    // b takes the run over as attempt 2: a's late events of attempt 1 go nowhere
    await clusters[clusters.length - 1]!.tail!.raiseFence(s, RUN_A, 2);
    b.append(s, text(RUN_A, 'b2'), 2);
    a.append(s, text(RUN_A, 'a1-late'), 1);
    await until(() => fenced.length === 1);
    expect(fenced).toEqual([RUN_A]);
    // a drives the next run: its ids still go above b's, although a's block was reserved first
    a.append(s, text(RUN_B, 'a-next'), 1);
    await until(() => watch.got.length === 3);
    expect(texts(watch.got)).toEqual(['a1', 'b2', 'a-next']);
    expect(watch.got[2]!.id).toBeGreaterThan(watch.got[1]!.id);
    await a.flush();
    await b.flush();
    expect((await collect(b, s, 0)).got.map((e) => e.id)).toEqual(watch.got.map((e) => e.id));
    await Promise.all([a.close(), b.close()]);
  });

  it('reads back what a reader missed while its subscription was down', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const s = await newSession();
    const watch = await collect(b, s, 0);
    a.append(s, text(RUN_A, 'before'), 1);
    await until(() => watch.got.length === 1);
    // drop every pub/sub connection: the batches published until they resubscribe are lost to them
    const admin = new Redis(redisUrl!);
    await admin.client('KILL', 'TYPE', 'pubsub');
    for (let i = 0; i < 5; i++) a.append(s, text(RUN_A, `gap${i}`), 1);
    await until(() => watch.got.length === 6, 10_000);
    expect(texts(watch.got)).toEqual(['before', 'gap0', 'gap1', 'gap2', 'gap3', 'gap4']);
    await admin.quit();
    await Promise.all([a.close(), b.close()]);
  });
});
