import { LlmError, type LlmMessage, type LlmProvider } from '@semibot/llm';
import type { RuntimeAdapter, TurnContext, TurnResult } from '../../adapter.js';

/**
 * SemiGraph's respond step: system prompt + history + the new message, streamed from the model as
 * `text` events, with usage reported to the control plane. (Plan/act/observe with tools builds on it.)
 */
export class SemiGraphRuntime implements RuntimeAdapter {
  readonly type = 'semigraph' as const;

  constructor(
    private readonly provider: () => LlmProvider,
    private readonly defaultModel: () => string,
  ) {}

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    const messages: LlmMessage[] = [
      { role: 'system', content: ctx.agent.systemPrompt },
      ...ctx.history.filter((m) => m.role !== 'system'),
      { role: 'user', content: ctx.content },
    ];
    const model = ctx.agent.model ?? this.defaultModel();
    let answer = '';
    try {
      for await (const chunk of this.provider().stream({ model, messages, signal: ctx.signal })) {
        switch (chunk.type) {
          case 'text':
            answer += chunk.text;
            ctx.emit({ type: 'text', text: chunk.text });
            break;
          case 'usage': {
            const usage = { model: chunk.model, tokensIn: chunk.tokensIn, tokensOut: chunk.tokensOut, latencyMs: chunk.latencyMs };
            ctx.emit({ type: 'usage', ...usage });
            ctx.reportUsage(usage);
            break;
          }
          case 'tool_calls':
          case 'finish':
            break;
        }
      }
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'cancelled', answer };
      const message = err instanceof LlmError ? err.message : `model call failed: ${(err as Error).message}`;
      ctx.emit({ type: 'error', code: 'LLM_ERROR', message });
      return { status: 'failed', answer };
    }
    return { status: ctx.signal.aborted ? 'cancelled' : 'completed', answer };
  }
}
