import type { LlmMessage, LlmProvider } from '@semibot/llm';
import type { LlmConfig, PlaneEvent } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { historyForPlane } from '../store/messages.js';
import type { Delivery, Run } from '../store/runs.js';
import type { RunError } from './active-run.js';

/** what the direct path emits: a plane's events but `done` (the engine ends the run) */
type Emitted = Exclude<PlaneEvent, { type: 'done' }> extends infer E ? (E extends { runId: string } ? Omit<E, 'runId'> : never) : never;

/**
 * `direct` execution: the control plane streams the turn from the LLM itself — the agent's prompt,
 * the session's history and the message, no tools, no plane. Its events are the same `text`,
 * `usage`, `error`, `done` a plane sends, so a client cannot tell the path from the stream.
 */
export class DirectRunner {
  private provider: Promise<LlmProvider> | null = null;

  constructor(
    private readonly db: Db,
    private readonly llm: () => LlmConfig,
  ) {}

  async run(run: Run, d: Delivery, emit: (e: Emitted) => void, signal: AbortSignal): Promise<{ ok: true } | { ok: false; error: RunError }> {
    // a later attempt (its replica died) starts the answer over: what streamed before is void
    if (run.attempt > 1) emit({ type: 'step_restart', stepId: 'direct', textLength: 0, attempt: run.attempt });
    const history = await historyForPlane(this.db, run.sessionId, run.id);
    const messages: LlmMessage[] = [
      { role: 'system', content: d.agent.systemPrompt },
      ...history.filter((m) => m.content).map((m) => ({ role: m.role, content: m.content }) as LlmMessage),
      { role: 'user', content: d.content },
    ];
    // the SDK loads on the first direct run, not at every start
    const provider = await (this.provider ??= import('@semibot/llm').then((m) => m.createOpenAICompatibleProvider(this.llm())));
    try {
      const onText = (text: string) => emit({ type: 'text', text });
      for await (const chunk of provider.stream({ model: d.agent.model ?? this.llm().model, messages, signal, onText })) {
        if (chunk.type === 'text') onText(chunk.text);
        else if (chunk.type === 'usage') emit({ type: 'usage', model: chunk.model, tokensIn: chunk.tokensIn, tokensOut: chunk.tokensOut, latencyMs: chunk.latencyMs });
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, error: { code: 'LLM_ERROR', message: (err as Error).message } };
    }
  }
}
