import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_LOG, CheckpointStore } from './checkpoints.js';
import { initialState, type GraphNode } from './state.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'semibot-checkpoints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const stateOf = (runId: string, node: GraphNode, answer = '') => ({
  ...initialState({ sessionId: 's', runId, messages: [{ role: 'user', content: `q ${runId}` }] }),
  node,
  answer,
});
const logLines = (dir: string) => readFileSync(path.join(dir, CHECKPOINT_LOG), 'utf8').split('\n').filter(Boolean);

describe('CheckpointStore (one appended log per session)', () => {
  it("answers a run's newest checkpoint, also from a new store over the same directory", async () => {
    const dir = mkdtempSync(path.join(root, 's-'));
    const store = new CheckpointStore(dir);
    expect(await store.latest('r1')).toBeNull();
    await store.save(stateOf('r1', 'act'));
    await store.save(stateOf('r1', 'observe'));
    await store.save(stateOf('r2', 'done', 'two'));
    expect((await store.latest('r1'))?.node).toBe('observe');
    const again = new CheckpointStore(dir);
    expect((await again.latest('r1'))?.node).toBe('observe');
    expect((await again.latest('r2'))?.answer).toBe('two');
    expect(await again.latest('r3')).toBeNull();
  });

  it('keeps at most 20 lines: a compaction keeps the newest 10, in order', async () => {
    const dir = mkdtempSync(path.join(root, 'compact-'));
    const store = new CheckpointStore(dir);
    // saves issued without waiting still land in order (a compaction must not lose an append)
    await Promise.all(Array.from({ length: 45 }, (_, i) => store.save(stateOf(`r${i}`, 'done', `a${i}`))));
    const lines = logLines(dir);
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const runs = lines.map((l) => (JSON.parse(l) as { runId: string }).runId);
    expect(runs.at(-1)).toBe('r44');
    expect(runs).toEqual([...runs].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    expect((await store.latest('r44'))?.answer).toBe('a44');
    expect(await store.latest('r0')).toBeNull();
    expect((await new CheckpointStore(dir).latest('r40'))?.answer).toBe('a40');
  });

  it('drops a line torn by a death mid-write, and the next checkpoint is readable', async () => {
    const dir = mkdtempSync(path.join(root, 'torn-'));
    const store = new CheckpointStore(dir);
    await store.save(stateOf('r1', 'act'));
    appendFileSync(path.join(dir, CHECKPOINT_LOG), '{"version":1,"runId":"r1","node":"obs');
    const after = new CheckpointStore(dir);
    expect((await after.latest('r1'))?.node).toBe('act');
    await after.save(stateOf('r1', 'done', 'fine'));
    expect(logLines(dir).map((l) => (JSON.parse(l) as { node: string }).node)).toEqual(['act', 'done']);
    expect((await new CheckpointStore(dir).latest('r1'))?.answer).toBe('fine');
  });

  it("still reads an earlier plane's one-file-per-checkpoint directory", async () => {
    const dir = mkdtempSync(path.join(root, 'legacy-'));
    mkdirSync(path.join(dir, 'checkpoints'));
    writeFileSync(path.join(dir, 'checkpoints', '00000001-old-act.json'), JSON.stringify(stateOf('old', 'act')));
    writeFileSync(path.join(dir, 'checkpoints', '00000002-old-observe.json'), JSON.stringify(stateOf('old', 'observe')));
    const store = new CheckpointStore(dir);
    expect((await store.latest('old'))?.node).toBe('observe');
    await store.save(stateOf('old', 'done', 'resumed'));
    expect((await store.latest('old'))?.answer).toBe('resumed');
  });
});
