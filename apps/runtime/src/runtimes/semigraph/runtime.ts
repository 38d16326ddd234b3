import type { LlmMessage, LlmProvider } from '@semibot/llm';
import type { RuntimeAdapter, TurnContext, TurnResult } from '../../adapter.js';
import { CheckpointStore } from './checkpoints.js';
import { runGraph } from './graph.js';
import { initialState } from './state.js';
import type { Toolbox } from '../../tools/toolbox.js';

export interface SemiGraphOptions {
  /** the model client; may load its SDK on first use */
  provider: () => LlmProvider | Promise<LlmProvider>;
  defaultModel: () => string;
  /** the plane's tools (shared with the other runtimes) */
  toolbox: Toolbox;
  /** plan → act → observe rounds per turn @default 8 */
  maxSteps?: number;
}

/**
 * The SemiGraph runtime: plan → act → observe → (plan | respond), with skills, MCP servers,
 * long-term memory and commands as tools, a checkpoint after every node, and resume of an
 * interrupted turn from its latest checkpoint.
 */
export class SemiGraphRuntime implements RuntimeAdapter {
  readonly type = 'semigraph' as const;
  /** per session directory: a store lists its directory once, then keeps the list itself */
  private readonly checkpoints = new Map<string, CheckpointStore>();

  constructor(private readonly o: SemiGraphOptions) {}

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    // beside the work directory, not in it: the agent's commands must not read, delete or forge them
    let checkpoints = this.checkpoints.get(ctx.sessionDir);
    if (!checkpoints) this.checkpoints.set(ctx.sessionDir, (checkpoints = new CheckpointStore(ctx.sessionDir)));
    const tools = await this.o.toolbox.toolsFor(ctx, { commands: true });
    // a history's own system messages (an OpenAI-compatible client's, POST /v1/chat/completions) follow the agent's
    const prior: LlmMessage[] = [{ role: 'system', content: ctx.agent.systemPrompt }, ...ctx.history];
    const resumed = await checkpoints.latest(ctx.runId, prior);
    const state =
      resumed && resumed.node !== 'done'
        ? resumed
        : initialState({
            sessionId: ctx.sessionId,
            runId: ctx.runId,
            messages: [...prior, { role: 'user', content: ctx.content }],
            priorMessages: prior.length,
          });
    if (resumed || ctx.attempt > 1) {
      // Whatever streamed after this checkpoint on the previous attempt is void; say so first. A
      // re-delivered run with no checkpoint (its plane died before the first node ended) starts over.
      const from = resumed ?? state;
      const textLength = resumed && resumed.node !== 'done' ? resumed.answer.length : 0;
      ctx.emit({ type: 'step_restart', stepId: `${from.step}:${from.node}`, textLength, attempt: ctx.attempt });
      if (resumed?.node === 'done') {
        if (resumed.answer) ctx.emit({ type: 'text', text: resumed.answer });
        return { status: 'completed', answer: resumed.answer, resumedFromCheckpoint: true };
      }
    }
    const { status, state: end } = await runGraph(state, {
      provider: await this.o.provider(),
      model: ctx.agent.model ?? this.o.defaultModel(),
      tools,
      maxSteps: this.o.maxSteps ?? 8,
      checkpoints,
      toolCtx: { sessionId: ctx.sessionId, runId: ctx.runId, workDir: ctx.workDir, signal: ctx.signal },
      emit: ctx.emit,
      trace: ctx.trace,
      reportUsage: ctx.reportUsage,
      audit: (action, target, details) =>
        ctx.services.fire('audit_log', { sessionId: ctx.sessionId, runId: ctx.runId, action, target, details }),
    });
    return { status, answer: end.answer, resumedFromCheckpoint: resumed !== null };
  }

  async close(): Promise<void> {
    await this.o.toolbox.close();
  }
}
