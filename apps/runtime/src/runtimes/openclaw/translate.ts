import type { EmittedEvent } from '../../adapter.js';
import type { ToolKind } from '../../tools/tool.js';
import { TOOL_SERVER } from './gateway-config.js';

/** How a tool the gateway ran shows up in our stream. */
export interface ToolIdentity {
  kind: ToolKind;
  /** the name clients see (our tool's own name, without OpenClaw's `semibot__` prefix) */
  name: string;
  server?: string;
}

/** Our tools reach OpenClaw through the tool proxy, named `semibot__<tool>`; others are OpenClaw's own. */
export function toolIdentity(openclawName: string, ours: (name: string) => ToolIdentity | undefined): ToolIdentity {
  const prefix = `${TOOL_SERVER}__`;
  if (openclawName.startsWith(prefix)) {
    const own = ours(openclawName.slice(prefix.length));
    if (own) return own;
  }
  return { kind: 'tool', name: openclawName };
}

export interface TurnUsage {
  model: string;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
}

type Data = Record<string, unknown>;

export interface TurnEnd {
  status: 'completed' | 'failed' | 'cancelled';
  error: { code: 'LLM_ERROR' | 'RUNTIME_ERROR'; message: string } | null;
  usage: TurnUsage | null;
  /** the cached answer of a replayed run, which did not stream */
  replayed: EmittedEvent[];
}

/**
 * Gateway protocol v4 (GATEWAY_PROTOCOL) `agent` events → Semibot run events. One translator per turn. It is fed the
 * payloads of `event: "agent"` frames in order and returns what to emit; `finish` takes the final
 * `res` payload. Frames recorded from a real OpenClaw (fixtures/) pin this mapping in the tests.
 *
 * - `assistant` {delta, itemId}: `text`. {replace: true, text}: OpenClaw rewrote an item it had
 *   streamed (it does, e.g., when it withdraws an answer it judged not user-visible); we say
 *   `step_restart` with the length kept, then the item's new text — the same contract as a resumed run.
 * - `tool` {phase start|result}: `tool_call`/`tool_result`, or `skill_*`/`mcp_*` for our tools.
 * - `lifecycle` {phase error}: remembered; the turn's `res` decides how it ends.
 */
export class TranslatorV4 {
  /** what the client has been shown, after replacements: the turn's answer */
  answer = '';
  private readonly items = new Map<string, { start: number; text: string }>();
  private readonly calls = new Map<string, ToolKind>();
  private lastError: { message: string; fromModel: boolean } | null = null;

  constructor(
    private readonly o: { attempt: number; tool: (openclawName: string) => ToolIdentity },
  ) {}

  feed(payload: Data): EmittedEvent[] {
    const data = (payload.data ?? {}) as Data;
    switch (payload.stream) {
      case 'assistant':
        return this.assistant(data);
      case 'tool':
        return this.toolEvent(data);
      case 'lifecycle':
        if (data.phase === 'error') {
          const message = typeof data.error === 'string' ? data.error : JSON.stringify(data.error ?? 'error');
          // errorObservation names the provider when the model call is what failed
          const obs = data.errorObservation as Data | undefined;
          this.lastError = { message, fromModel: typeof obs?.provider === 'string' };
        }
        return [];
      default:
        return []; // item, usage, thinking, …: the final res carries what we keep of them
    }
  }

  private assistant(d: Data): EmittedEvent[] {
    const itemId = typeof d.itemId === 'string' ? d.itemId : '';
    let item = this.items.get(itemId);
    if (!item) this.items.set(itemId, (item = { start: this.answer.length, text: '' }));
    if (d.replace === true) {
      const text = typeof d.text === 'string' ? d.text : '';
      if (text === item.text) return [];
      const out: EmittedEvent[] = [];
      if (text.startsWith(item.text)) {
        // a replacement that only extends the item is a delta in all but name
        out.push({ type: 'text', text: text.slice(item.text.length) });
      } else {
        out.push({ type: 'step_restart', stepId: `openclaw:${itemId}`, textLength: item.start, attempt: this.o.attempt });
        // items after this one are void too: it is rewritten in place, the rest is re-sent
        for (const [id, other] of this.items) if (other.start > item.start) this.items.delete(id);
        if (text) out.push({ type: 'text', text });
      }
      this.answer = this.answer.slice(0, item.start) + text;
      item.text = text;
      return out;
    }
    const delta = typeof d.delta === 'string' ? d.delta : '';
    if (!delta) return [];
    item.text += delta;
    this.answer += delta;
    return [{ type: 'text', text: delta }];
  }

  private toolEvent(d: Data): EmittedEvent[] {
    const callId = typeof d.toolCallId === 'string' ? d.toolCallId : '';
    const rawName = typeof d.name === 'string' ? d.name : 'tool';
    if (d.phase === 'start') {
      const t = this.o.tool(rawName);
      this.calls.set(callId, t.kind);
      const args = d.args ?? {};
      if (t.kind === 'skill') return [{ type: 'skill_call', callId, name: t.name, args }];
      if (t.kind === 'mcp') return [{ type: 'mcp_call', callId, name: t.name, args, server: t.server ?? '' }];
      return [{ type: 'tool_call', callId, name: t.name, args }];
    }
    if (d.phase === 'result') {
      const kind = this.calls.get(callId) ?? this.o.tool(rawName).kind;
      const result = resultOf(d.result);
      const isError = d.isError === true;
      const type = kind === 'skill' ? 'skill_result' : kind === 'mcp' ? 'mcp_result' : 'tool_result';
      return [{ type, callId, result, isError }];
    }
    return [];
  }

  /** The turn's final `res` payload: how it ended, and its usage. */
  finish(payload: Data, fallbackModel: string): TurnEnd {
    const result = (payload.result ?? {}) as Data;
    const meta = (result.meta ?? {}) as Data;
    const agentMeta = (meta.agentMeta ?? {}) as Data;
    const u = (agentMeta.usage ?? {}) as Data;
    const usage: TurnUsage | null =
      typeof u.input === 'number' || typeof u.output === 'number'
        ? {
            model: typeof agentMeta.model === 'string' ? agentMeta.model : fallbackModel,
            tokensIn: Math.max(0, Math.round(Number(u.input ?? 0))),
            tokensOut: Math.max(0, Math.round(Number(u.output ?? 0))),
            latencyMs: Math.max(0, Number(meta.durationMs ?? 0)),
          }
        : null;
    // an idempotency key OpenClaw has seen replays its cached result without streaming it again
    const replayed: EmittedEvent[] = [];
    if (this.answer === '' && this.items.size === 0) {
      const visible = typeof meta.finalAssistantVisibleText === 'string' ? meta.finalAssistantVisibleText : payloadText(result.payloads);
      if (visible) {
        this.answer = visible;
        replayed.push({ type: 'text', text: visible });
      }
    }
    if (meta.aborted === true) return { status: 'cancelled', error: null, usage, replayed };
    if (payload.status === 'ok') return { status: 'completed', error: null, usage, replayed };
    const message = this.lastError?.message ?? (typeof payload.summary === 'string' ? payload.summary : `OpenClaw run ended with status ${String(payload.status)}`);
    return { status: 'failed', error: { code: this.lastError?.fromModel ? 'LLM_ERROR' : 'RUNTIME_ERROR', message }, usage, replayed };
  }
}

/** A tool result as clients see it: MCP-style content parts become their text. */
function resultOf(r: unknown): unknown {
  if (r && typeof r === 'object' && Array.isArray((r as Data).content)) {
    const parts = (r as { content: Array<Data> }).content;
    if (parts.every((p) => p.type === 'text' && typeof p.text === 'string')) return parts.map((p) => p.text as string).join('');
    return parts;
  }
  return r ?? null;
}

function payloadText(payloads: unknown): string {
  if (!Array.isArray(payloads)) return '';
  return payloads
    .map((p) => (p && typeof p === 'object' && typeof (p as Data).text === 'string' ? ((p as Data).text as string) : ''))
    .filter(Boolean)
    .join('\n\n');
}
