import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Annotation, END, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import type { LlmChunk, LlmProvider } from '@semibot/llm';
import { CheckpointStore, initialState, runGraph, ShortTermMemory } from '@semibot/runtime';

/**
 * Per-step overhead of the agent graph itself, with a model and a tool that take no time: what
 * the graph machinery (node dispatch, state, checkpoint) costs per node. SemiGraph is measured
 * with its real on-disk checkpoints and with none; LangGraph.js (the library the issue suggests)
 * runs the same plan → act → observe loop with its in-memory MemorySaver.
 */
const ROUNDS = 10; // tool rounds per turn: 3 nodes each, plus the final plan

/** A model that asks for one tool call per turn step until ROUNDS, then answers. Instant. */
function instantProvider(): LlmProvider {
  return {
    name: 'instant',
    async *stream(req): AsyncIterable<LlmChunk> {
      const toolMessages = req.messages.filter((m) => m.role === 'tool').length;
      if (toolMessages < ROUNDS) yield { type: 'tool_calls', calls: [{ id: `c${toolMessages}`, name: 'noop', arguments: '{}' }] };
      else yield { type: 'text', text: 'done' };
      yield { type: 'usage', model: 'instant', tokensIn: 1, tokensOut: 1, latencyMs: 0, firstTokenMs: 0 };
      yield { type: 'finish', reason: 'stop' };
    },
  };
}

async function semigraphTurn(dir: string | null): Promise<number> {
  const checkpoints = dir ? new CheckpointStore(dir) : { save: async () => {} };
  const state = initialState({ sessionId: 's', runId: `r${Math.random()}`, messages: [{ role: 'user', content: 'go' }] });
  const started = performance.now();
  const { status } = await runGraph(state, {
    provider: instantProvider(),
    model: 'instant',
    tools: [{ kind: 'tool', spec: { name: 'noop', description: 'noop', parameters: { type: 'object' } }, execute: async () => ({ content: 'ok' }) }],
    maxSteps: ROUNDS + 1,
    checkpoints,
    toolCtx: { sessionId: 's', runId: 'r', workDir: tmpdir(), signal: new AbortController().signal },
    emit: () => {},
    reportUsage: () => {},
    audit: () => {},
  });
  if (status !== 'completed') throw new Error(`semigraph turn ${status}`);
  return performance.now() - started;
}

function langgraphApp() {
  const State = Annotation.Root({
    messages: Annotation<{ role: string; content: string }[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    pending: Annotation<string[]>({ reducer: (_a, b) => b, default: () => [] }),
    step: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  });
  const provider = instantProvider();
  const graph = new StateGraph(State)
    .addNode('plan', async (s) => {
      let calls: string[] = [];
      let text = '';
      for await (const c of provider.stream({ messages: s.messages as never })) {
        if (c.type === 'tool_calls') calls = c.calls.map((x) => x.id);
        if (c.type === 'text') text += c.text;
      }
      return { messages: [{ role: 'assistant', content: text }], pending: calls };
    })
    .addNode('act', async (s) => ({ messages: s.pending.map(() => ({ role: 'tool', content: 'ok' })) }))
    .addNode('observe', async (s) => ({ pending: [], step: s.step + 1 }))
    .addEdge(START, 'plan')
    .addConditionalEdges('plan', (s) => (s.pending.length ? 'act' : END))
    .addEdge('act', 'observe')
    .addEdge('observe', 'plan');
  return graph.compile({ checkpointer: new MemorySaver() });
}

async function langgraphTurn(app: ReturnType<typeof langgraphApp>): Promise<number> {
  const started = performance.now();
  await app.invoke({ messages: [{ role: 'user', content: 'go' }] }, { configurable: { thread_id: `t${Math.random()}` }, recursionLimit: 100 });
  return performance.now() - started;
}

export interface GraphOverhead {
  nodesPerTurn: number;
  turns: number;
  /** microseconds per node: median and p99 over turns */
  semigraphDiskUs: { p50: number; p99: number };
  semigraphNoCheckpointUs: { p50: number; p99: number };
  langgraphMemorySaverUs: { p50: number; p99: number };
  /**
   * CPU µs (this process, all threads: the thread pool does the file work) per SemiGraph checkpoint
   * when 50 sessions each save one at once, 20 times — what 50 concurrent turns' node ends cost
   */
  checkpointCpuUs: number;
  /**
   * CPU µs (all threads) per turn end on the plane's disk when 50 sessions end a turn at once, 20
   * times: what the plane does between a model-only turn's last token and its `done` — the
   * checkpoint, both transcripts, the snapshot's check
   */
  turnEndCpuUs: number;
  /**
   * A session's snapshot at the end of a turn (before its `done`) with 2,000 files in its work
   * directory, ms (median of 5): after a turn that ran a tool (the directory is listed) and after
   * one that ran only the model (the last listing is reused)
   */
  snapshotMs: { files: number; afterToolTurn: number; afterModelOnlyTurn: number };
}

const SNAPSHOT_FILES = 2_000;

async function snapshotCost(dir: string): Promise<GraphOverhead['snapshotMs']> {
  const memory = new ShortTermMemory(path.join(dir, 'snapshot-session'));
  await memory.ready; // its work directory, which the files below go into
  for (let i = 0; i < SNAPSHOT_FILES; i++) {
    const sub = path.join(memory.workDir, `d${i % 20}`);
    if (i < 20) mkdirSync(sub);
    writeFileSync(path.join(sub, `f${i}.txt`), 'x');
  }
  const median = async (workUntouched: boolean) => {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await memory.snapshot('s', { workUntouched });
      ms.push(performance.now() - t0);
    }
    return Math.round(ms.sort((a, b) => a - b)[2]! * 100) / 100;
  };
  const afterToolTurn = await median(false);
  return { files: SNAPSHOT_FILES, afterToolTurn, afterModelOnlyTurn: await median(true) };
}

const CONCURRENT_SESSIONS = 50;
const SAVE_ROUNDS = 20;

// a finished no-tool turn: its question and a ~300-character answer
const ANSWER = 'word '.repeat(60);
const TURN = [
  { role: 'user' as const, content: 'a question' },
  { role: 'assistant' as const, content: ANSWER },
];
const finishedState = (sessionId: string, runId: string) => ({ ...initialState({ sessionId, runId, messages: [...TURN] }), node: 'done' as const, answer: ANSWER });

/** CPU µs (this process, all threads) per call of `step` when each session runs it at once, SAVE_ROUNDS times (after one warm-up round). */
async function cpuPerConcurrentStep<S>(sessions: S[], step: (s: S, runId: string) => Promise<unknown>): Promise<number> {
  await Promise.all(sessions.map((s) => step(s, 'warm-up')));
  const before = process.cpuUsage();
  for (let r = 0; r < SAVE_ROUNDS; r++) await Promise.all(sessions.map((s, i) => step(s, `r${r}-${i}`)));
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / (sessions.length * SAVE_ROUNDS));
}

const checkpointCpu = (dir: string) =>
  cpuPerConcurrentStep(
    Array.from({ length: CONCURRENT_SESSIONS }, (_, i) => new CheckpointStore(path.join(dir, `cpu-${i}`))),
    (store, runId) => store.save(finishedState('s', runId)),
  );

const turnEndCpu = (dir: string) =>
  cpuPerConcurrentStep(
    Array.from({ length: CONCURRENT_SESSIONS }, (_, i) => {
      const sessionDir = path.join(dir, `turn-end-${i}`);
      return { id: `s${i}`, checkpoints: new CheckpointStore(sessionDir), memory: new ShortTermMemory(sessionDir) };
    }),
    async (s, runId) => {
      await s.checkpoints.save(finishedState(s.id, runId));
      await s.memory.saveTurn(runId, TURN);
      await s.memory.snapshot(s.id, { workUntouched: true });
    },
  );

export async function measureGraphOverhead(turns: number): Promise<GraphOverhead> {
  const nodes = ROUNDS * 3 + 1;
  const dir = mkdtempSync(path.join(tmpdir(), 'semibot-graph-bench-'));
  const app = langgraphApp();
  const perNode = (ms: number[]) => {
    const us = ms.map((m) => (m * 1000) / nodes).sort((a, b) => a - b);
    return { p50: Math.round(us[Math.floor(us.length / 2)]!), p99: Math.round(us[Math.min(us.length - 1, Math.floor(us.length * 0.99))]!) };
  };
  try {
    // warm-up, then interleave the three so machine noise hits them alike
    for (let i = 0; i < 5; i++) await Promise.all([semigraphTurn(dir), semigraphTurn(null), langgraphTurn(app)]);
    const disk: number[] = [];
    const none: number[] = [];
    const lg: number[] = [];
    for (let i = 0; i < turns; i++) {
      disk.push(await semigraphTurn(dir));
      none.push(await semigraphTurn(null));
      lg.push(await langgraphTurn(app));
    }
    return {
      nodesPerTurn: nodes,
      turns,
      semigraphDiskUs: perNode(disk),
      semigraphNoCheckpointUs: perNode(none),
      langgraphMemorySaverUs: perNode(lg),
      checkpointCpuUs: await checkpointCpu(dir),
      turnEndCpuUs: await turnEndCpu(dir),
      snapshotMs: await snapshotCost(dir),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
