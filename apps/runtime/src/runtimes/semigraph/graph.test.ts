import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '@semibot/llm';
import { startMockLlm, type MockLlm } from '@semibot/mock-llm';
import type { EmittedEvent } from '../../adapter.js';
import { CHECKPOINT_LOG, CheckpointStore } from './checkpoints.js';
import { runGraph, type GraphDeps } from './graph.js';
import { initialState, type GraphState } from './state.js';
import type { Tool } from '../../tools/tool.js';

describe('SemiGraph', () => {
  let mock: MockLlm;
  let dir: string;
  beforeAll(async () => {
    mock = await startMockLlm();
    dir = mkdtempSync(path.join(tmpdir(), 'semigraph-'));
  });
  afterAll(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const echoTool: Tool = {
    kind: 'tool',
    spec: { name: 'echo', description: 'echo', parameters: { type: 'object' } },
    execute: async (args) => ({ content: `echoed ${String(args.v)}` }),
  };

  function deps(over: Partial<GraphDeps> = {}) {
    const events: EmittedEvent[] = [];
    const d: GraphDeps = {
      provider: createOpenAICompatibleProvider({ baseUrl: mock.url, apiKey: 'k', model: 'mock-1', maxRetries: 0 }),
      model: 'mock-1',
      tools: [echoTool],
      maxSteps: 4,
      checkpoints: new CheckpointStore(mkdtempSync(path.join(dir, 's-'))),
      toolCtx: { sessionId: 's', runId: 'r', workDir: dir, signal: new AbortController().signal },
      emit: (e) => events.push(e),
      reportUsage: () => {},
      audit: () => {},
      ...over,
    };
    return { d, events };
  }
  const start = (content: string) => initialState({ sessionId: 's', runId: 'r', messages: [{ role: 'user', content }] });

  it('plans, acts, observes and answers, checkpointing after every node', async () => {
    const { d, events } = deps();
    const { status, state } = await runGraph(start('/tool echo {"v":42}'), d);
    expect(status).toBe('completed');
    expect(state.answer).toBe('Tool result: echoed 42');
    expect(events.filter((e) => e.type === 'plan_step' && e.status === 'done').map((e) => (e as { stepId: string }).stepId)).toEqual([
      '0:plan',
      '0:act',
      '1:plan',
    ]);
    expect(events.map((e) => e.type)).toContain('tool_result');
    expect((await (d.checkpoints as CheckpointStore).latest('r'))?.node).toBe('done');
  });

  it('reports an unknown tool and malformed arguments as error results, not as a crash', async () => {
    const { d, events } = deps();
    const { status } = await runGraph(start('/tools nope {} ; echo "not an object"'), d);
    expect(status).toBe('completed');
    const results = events.filter((e) => e.type === 'tool_result') as { isError: boolean; result: unknown }[];
    expect(results.map((r) => r.isError)).toEqual([true, true]);
  });

  it('answers without tools once the step limit is reached', async () => {
    const { d } = deps({ maxSteps: 1 });
    const { status, state } = await runGraph(start('/tool echo {"v":1}'), d);
    expect(status).toBe('completed');
    expect(state.step).toBe(1);
    expect(state.messages.at(-1)).toMatchObject({ role: 'assistant' });
  });

  it('resumes from the checkpoint written after act without re-running the tool', async () => {
    let calls = 0;
    const counting: Tool = { ...echoTool, execute: async (a) => (calls++, { content: `echoed ${String(a.v)}` }) };
    const sessionDir = mkdtempSync(path.join(dir, 'resume-'));
    const first = deps({ tools: [counting], checkpoints: new CheckpointStore(sessionDir) });
    await runGraph(start('/tool echo {"v":7}'), first.d);
    expect(calls).toBe(1);
    const lines = readFileSync(path.join(sessionDir, CHECKPOINT_LOG), 'utf8').split('\n').filter(Boolean);
    const state = lines.map((l) => JSON.parse(l) as GraphState).find((s) => s.node === 'observe')!;
    expect(state.node).toBe('observe');
    const { d: again, events } = deps({ tools: [counting] });
    const resumed = await runGraph(state, again);
    expect(resumed.status).toBe('completed');
    expect(resumed.state.answer).toBe('Tool result: echoed 7');
    expect(calls).toBe(1);
    expect(events.some((e) => e.type === 'tool_call')).toBe(false);
  });

  it("checkpoints the turn's own messages only, and a resume puts the session's prior messages back", async () => {
    const sessionDir = mkdtempSync(path.join(dir, 'prior-'));
    const prior = [
      { role: 'system' as const, content: 'be brief' },
      ...Array.from({ length: 200 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: `old message ${i}` })),
    ];
    const { d } = deps({ checkpoints: new CheckpointStore(sessionDir) });
    const state = initialState({ sessionId: 's', runId: 'r', messages: [...prior, { role: 'user', content: '/tool echo {"v":3}' }], priorMessages: prior.length });
    await runGraph(state, d);
    expect(readFileSync(path.join(sessionDir, CHECKPOINT_LOG), 'utf8')).not.toContain('old message');
    const store = new CheckpointStore(sessionDir);
    const resumed = await store.latest('r', prior);
    expect(resumed?.messages).toEqual(state.messages);
    expect(resumed?.messages.slice(0, prior.length)).toEqual(prior);
    // the turn ended ('done'): its answer stands whatever the history now holds
    expect((await store.latest('r', prior.slice(1)))?.answer).toBe('Tool result: echoed 3');
    // an unfinished one over a different history cannot be continued: it starts over
    const unfinished = initialState({ sessionId: 's', runId: 'r2', messages: [...prior, { role: 'user', content: 'hi' }], priorMessages: prior.length });
    unfinished.node = 'act';
    await store.save(unfinished);
    expect((await store.latest('r2', prior))?.node).toBe('act');
    expect(await store.latest('r2', prior.slice(1))).toBeNull();
  });

  it('stops at once when cancelled and leaves a checkpoint', async () => {
    const abort = new AbortController();
    const { d } = deps({ toolCtx: { sessionId: 's', runId: 'r', workDir: dir, signal: abort.signal } });
    setTimeout(() => abort.abort(), 100);
    const { status } = await runGraph(start('/slow 100 20'), d);
    expect(status).toBe('cancelled');
    expect(await (d.checkpoints as CheckpointStore).latest('r')).not.toBeNull();
  });
});
