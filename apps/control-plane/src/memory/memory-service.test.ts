import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startMockLlm, type MockLlm } from '@semibot/mock-llm';
import { createOpenAICompatibleEmbedder } from '@semibot/llm';
import type { Db } from '../db/db.js';
import { testDatabases } from '../testing/databases.js';
import { createUserWithOrg } from '../store/users.js';
import { MemoryService } from './memory-service.js';

const logger = pino({ level: 'silent' });

for (const backend of testDatabases) {
  describe.skipIf(backend.unavailable !== null)(`memory on ${backend.name}${backend.unavailable ? ` — skipped: ${backend.unavailable}` : ''}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let mock: MockLlm;
    beforeAll(async () => {
      ({ db, drop } = await backend.open());
      mock = await startMockLlm();
    });
    afterAll(async () => {
      await drop?.();
      await mock?.close();
    });

    async function owner() {
      const { user, org } = await db.tx((q) => createUserWithOrg(q, { email: `${Math.random()}@m.io`, passwordHash: 'x', name: null }));
      return { orgId: org.id, userId: user.id };
    }

    it('finds memories by meaning-bearing words with vectors, by text without, and never across users', async () => {
      const withVectors = new MemoryService(db, createOpenAICompatibleEmbedder({ baseUrl: mock.url, apiKey: 'k', model: 'mock-embed' }), logger);
      const textOnly = new MemoryService(db, null, logger);
      const me = await owner();
      const other = await owner();
      for (const content of ['my favourite colour is teal', 'the deploy runs on fridays', 'lunch is at noon']) {
        await withVectors.save({ ...me, agentId: null, sessionId: null, content, tags: [] });
      }
      await withVectors.save({ ...other, agentId: null, sessionId: null, content: 'my favourite colour is red', tags: [] });

      const hits = await withVectors.search({ ...me, query: 'favourite colour', limit: 3 });
      expect(hits[0]!.content).toBe('my favourite colour is teal');
      expect(hits.map((h) => h.content)).not.toContain('my favourite colour is red');
      // "colours" only matches through stemming (full text); "teal" alone through both
      expect((await textOnly.search({ ...me, query: 'colours', limit: 3 }))[0]?.content).toBe('my favourite colour is teal');
      expect(await textOnly.search({ ...me, query: 'nothing-like-this', limit: 3 })).toEqual([]);
    });

    it('saves without a vector when the embedding model fails, and still finds the memory by text', async () => {
      const broken = new MemoryService(db, createOpenAICompatibleEmbedder({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'x', timeoutMs: 500 }), logger);
      const me = await owner();
      await broken.save({ ...me, agentId: null, sessionId: null, content: 'the wifi password is on the fridge', tags: [] });
      expect((await broken.search({ ...me, query: 'wifi', limit: 3 }))[0]?.content).toBe('the wifi password is on the fridge');
    });
  });
}
