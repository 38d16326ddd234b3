import { LlmError, type LlmProvider, type LlmToolCall } from '@semibot/llm';
import type { FinalRunStatus } from '@semibot/protocol';
import { endSpan, startSpan, type Context } from '@semibot/telemetry';
import type { EmittedEvent } from '../../adapter.js';
import type { CheckpointStore } from './checkpoints.js';
import type { GraphNode, GraphState, ToolResult } from './state.js';
import { capOutput, type Tool, type ToolContext } from '../../tools/tool.js';

export interface GraphDeps {
  provider: LlmProvider;
  model: string;
  tools: Tool[];
  /** plan → act → observe rounds before the graph must answer */
  maxSteps: number;
  /** where the state goes after every node (a CheckpointStore on the plane's disk) */
  checkpoints: Pick<CheckpointStore, 'save'>;
  toolCtx: ToolContext;
  emit(event: EmittedEvent): void;
  /** parent of the graph's spans (one per model call, one per tool call) */
  trace?: Context;
  reportUsage(u: { model: string; tokensIn: number; tokensOut: number; latencyMs: number }): void;
  audit(action: string, target: string, details: Record<string, unknown>): void;
  /** per-call limit for one tool @default 120s */
  toolTimeoutMs?: number;
}

class Cancelled extends Error {}

/**
 * Runs the SemiGraph from `state.node` to `done`, checkpointing after every node. Each node is a
 * plain async function from state to the next node — a small explicit state machine, chosen over
 * LangGraph.js by measuring the same plan → act → observe loop with an instant model and tool
 * (bench/src/graph-overhead.ts, 2-core dev machine): ~6 µs per node without checkpoints and ~50 µs
 * with our atomic on-disk checkpoint, against ~900 µs per node for LangGraph.js with its in-memory
 * MemorySaver. The graph is four nodes; a framework would cost more than it saves.
 */
export async function runGraph(state: GraphState, d: GraphDeps): Promise<{ status: FinalRunStatus; state: GraphState }> {
  const byName = new Map(d.tools.map((t) => [t.spec.name, t]));
  const nodes: Record<Exclude<GraphNode, 'done'>, () => Promise<GraphNode>> = {
    plan: () => callModel(state, d, true),
    respond: () => callModel(state, d, false),
    act: () => act(state, d, byName),
    observe: async () => {
      for (const r of state.results) state.messages.push({ role: 'tool', toolCallId: r.callId, content: r.content });
      state.pending = [];
      state.results = [];
      state.step++;
      return state.step >= d.maxSteps ? 'respond' : 'plan';
    },
  };
  try {
    while (state.node !== 'done') {
      if (d.toolCtx.signal.aborted) throw new Cancelled();
      const node = state.node;
      const stepId = `${state.step}:${node}`;
      if (node !== 'observe') d.emit({ type: 'plan_step', stepId, title: titleOf(state), status: 'running' });
      let next: GraphNode;
      try {
        next = await nodes[node]();
      } catch (err) {
        if (node !== 'observe') d.emit({ type: 'plan_step', stepId, title: titleOf(state), status: 'failed' });
        throw err;
      }
      if (node !== 'observe') d.emit({ type: 'plan_step', stepId, title: titleOf(state), status: 'done' });
      state.node = next;
      await d.checkpoints.save(state);
    }
    return { status: 'completed', state };
  } catch (err) {
    await d.checkpoints.save(state);
    if (err instanceof Cancelled || d.toolCtx.signal.aborted) return { status: 'cancelled', state };
    const message = err instanceof LlmError ? err.message : `turn failed: ${(err as Error).message}`;
    d.emit({ type: 'error', code: err instanceof LlmError ? 'LLM_ERROR' : 'RUNTIME_ERROR', message });
    return { status: 'failed', state };
  }
}

function titleOf(state: GraphState): string {
  switch (state.node) {
    case 'plan':
      return state.step === 0 ? 'Thinking' : 'Thinking about the results';
    case 'act':
      return `Calling ${state.pending.map((c) => c.name).join(', ')}`;
    case 'respond':
      return 'Writing the answer (step limit reached)';
    default:
      return state.node;
  }
}

/** plan (with tools) or respond (without): streams text, records tool calls. */
async function callModel(state: GraphState, d: GraphDeps, withTools: boolean): Promise<GraphNode> {
  const span = startSpan('semibot-runtime', 'llm.call', d.trace, { 'gen_ai.request.model': d.model, 'semibot.step': state.step });
  try {
    const next = await streamModel(state, d, withTools);
    endSpan(span, undefined, { 'semibot.next': next });
    return next;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

async function streamModel(state: GraphState, d: GraphDeps, withTools: boolean): Promise<GraphNode> {
  let text = '';
  let textEvents = 0;
  let calls: LlmToolCall[] = [];
  const tools = withTools && d.tools.length > 0 ? d.tools.map((t) => t.spec) : undefined;
  // state changes only when the node completes, so a checkpoint is always a node boundary
  const onText = (t: string) => {
    text += t;
    textEvents++;
    d.emit({ type: 'text', text: t });
  };
  for await (const chunk of d.provider.stream({ model: d.model, messages: state.messages, tools, signal: d.toolCtx.signal, onText })) {
    switch (chunk.type) {
      case 'text': // a provider that yields its text anyway
        onText(chunk.text);
        break;
      case 'tool_calls':
        calls = chunk.calls;
        break;
      case 'usage': {
        const u = { model: chunk.model, tokensIn: chunk.tokensIn, tokensOut: chunk.tokensOut, latencyMs: chunk.latencyMs };
        d.emit({ type: 'usage', ...u });
        d.reportUsage(u);
        break;
      }
      case 'finish':
        break;
    }
  }
  if (d.toolCtx.signal.aborted) throw new Cancelled();
  state.answer += text;
  state.textEvents += textEvents;
  state.messages.push({ role: 'assistant', content: text, ...(calls.length ? { toolCalls: calls } : {}) });
  if (calls.length === 0) return 'done';
  state.pending = calls;
  return 'act';
}

/**
 * Runs the model's tool calls. Calls from one model response are independent by construction (the
 * model could not see any of their results), so they run in parallel; a call that depends on
 * another's result comes in a later plan step, after observe — that is how order is kept.
 */
async function act(state: GraphState, d: GraphDeps, byName: Map<string, Tool>): Promise<GraphNode> {
  state.results = await Promise.all(state.pending.map((call) => runOne(call, d, byName.get(call.name))));
  if (d.toolCtx.signal.aborted) throw new Cancelled();
  return 'observe';
}

async function runOne(call: LlmToolCall, d: GraphDeps, tool: Tool | undefined): Promise<ToolResult> {
  const kind = tool?.kind ?? 'tool';
  let args: Record<string, unknown> = {};
  let parseError: string | null = null;
  try {
    const parsed: unknown = call.arguments.trim() ? JSON.parse(call.arguments) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) args = parsed as Record<string, unknown>;
    else parseError = 'arguments must be a JSON object';
  } catch {
    parseError = 'arguments are not valid JSON';
  }
  const callEvent = { callId: call.id, name: call.name, args: parseError ? call.arguments : args };
  if (kind === 'mcp') d.emit({ type: 'mcp_call', ...callEvent, server: tool?.server ?? '' });
  else d.emit({ type: kind === 'skill' ? 'skill_call' : 'tool_call', ...callEvent });

  const started = performance.now();
  const span = startSpan('semibot-runtime', 'tool.call', d.trace, { 'semibot.tool': call.name, 'semibot.tool_kind': kind });
  let content: string;
  let isError = false;
  let display: unknown;
  if (!tool) [content, isError] = [`unknown tool: ${call.name}`, true];
  else if (parseError) [content, isError] = [`${call.name}: ${parseError}`, true];
  else {
    try {
      const out = await withTimeout(tool.execute(args, d.toolCtx), d.toolTimeoutMs ?? 120_000, call.name);
      content = capOutput(out.content);
      isError = out.isError ?? false;
      display = out.display;
    } catch (err) {
      content = `${call.name} failed: ${(err as Error).message}`;
      isError = true;
    }
  }
  const ms = Math.round(performance.now() - started);
  endSpan(span, isError ? content : undefined);
  const resultEvent = { callId: call.id, result: display ?? content, isError };
  d.emit({ type: kind === 'mcp' ? 'mcp_result' : kind === 'skill' ? 'skill_result' : 'tool_result', ...resultEvent });
  d.audit(`${kind}_call`, call.name, { args: callEvent.args, isError, ms, ...(tool?.server ? { server: tool.server } : {}) });
  return { callId: call.id, name: call.name, content, isError };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
