import path from 'node:path';
import type { Logger } from 'pino';
import type { LlmConfig } from '@semibot/protocol';
import type { EmittedEvent, RuntimeAdapter, TurnContext, TurnResult } from '../../adapter.js';
import type { Toolbox } from '../../tools/toolbox.js';
import { PROVIDER, TOOL_SERVER } from './gateway-config.js';
import { GatewayExited, OpenClawGateway } from './gateway.js';
import type { OpenClawInstall } from './install.js';
import { ToolProxy, type ProxiedTurn } from './tool-proxy.js';
import { toolIdentity, TranslatorV4 } from './translate.js';

export interface OpenClawRuntimeOptions {
  install: OpenClawInstall;
  /** the plane's disk; OpenClaw's state lives in <planeHome>/openclaw */
  planeHome: string;
  logger: Logger;
  llm: () => LlmConfig;
  toolbox: Toolbox;
  /** the gateway's heap budget, MiB */
  memoryMb?: () => number | undefined;
  /** longest a turn may run inside OpenClaw, seconds @default 600 */
  turnTimeoutS?: number;
}

/** The gateway went away mid-turn: an error of its own so clients can tell it from a model failure. */
export class OpenClawBridgeExited extends Error {
  readonly code = 'OPENCLAW_BRIDGE_EXITED';
}

/**
 * `runtimeType: "openclaw"`: a turn runs in a real OpenClaw (one gateway per plane, supervised by
 * OpenClawGateway), with our tools served to it by the ToolProxy and its events translated into
 * ours. OpenClaw keeps the conversation itself (per session, in its state on the plane's disk).
 * Its file and exec tools work in OpenClaw's workspace on the plane's disk (<planeHome>/openclaw/
 * workspace), shared by the plane's OpenClaw sessions: the gateway reserves a per-run `cwd` for its
 * own plugins, and one workspace per session would mean one OpenClaw agent per session.
 */
export class OpenClawRuntime implements RuntimeAdapter {
  readonly type = 'openclaw' as const;
  readonly gateway: OpenClawGateway;
  private readonly proxy = new ToolProxy();
  /** sessions whose transcript OpenClaw has (it started them, or was told their history) */
  private readonly known = new Set<string>();

  constructor(private readonly o: OpenClawRuntimeOptions) {
    this.gateway = new OpenClawGateway({
      install: o.install,
      home: path.join(o.planeHome, 'openclaw'),
      logger: o.logger,
      memoryMb: o.memoryMb,
      config: () => ({ llm: o.llm(), toolProxy: this.proxyConfig }),
    });
  }

  private proxyConfig: { url: string; token: string } | undefined;

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    this.proxyConfig ??= { url: await this.proxy.endpoint(), token: this.proxy.token };
    const turn: ProxiedTurn = {
      sessionId: ctx.sessionId,
      tools: await this.o.toolbox.toolsFor(ctx, { commands: false }),
      ctx: { sessionId: ctx.sessionId, runId: ctx.runId, workDir: ctx.workDir, signal: ctx.signal },
    };
    const endProxy = this.proxy.begin(turn);
    const translator = new TranslatorV4({
      attempt: ctx.attempt,
      tool: (name) =>
        toolIdentity(name, (ours) => {
          const t = turn.tools.find((x) => x.spec.name === ours);
          return t && { kind: t.kind, name: ours, ...(t.server ? { server: t.server } : {}) };
        }),
    });
    const emit = (events: EmittedEvent[]) => events.forEach((e) => ctx.emit(e));
    const sessionKey = `agent:main:${ctx.sessionId}`;
    const model = ctx.agent.model ?? this.o.llm().model;
    const stopListening = this.gateway.onAgentEvents(ctx.runId, (payload) => {
      const d = payload.data as Record<string, unknown> | undefined;
      if (payload.stream === 'tool' && d?.phase === 'start' && typeof d.name === 'string' && d.name.startsWith(`${TOOL_SERVER}__`)) {
        this.proxy.expect(turn, d.name.slice(TOOL_SERVER.length + 2), d.args ?? {});
      }
      emit(translator.feed(payload));
    });
    if (ctx.attempt > 1) ctx.emit({ type: 'step_restart', stepId: 'openclaw:turn', textLength: 0, attempt: ctx.attempt });
    let accepted = false;
    const onAbort = () => {
      if (accepted) void this.gateway.request('chat.abort', { sessionKey, runId: ctx.runId }).catch(() => undefined);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.gateway.request(
        'agent',
        {
          message: ctx.content,
          sessionKey,
          // our run id is the idempotency key: a re-delivered attempt to the same gateway gets the
          // cached outcome of the run instead of running it twice
          idempotencyKey: ctx.runId,
          extraSystemPrompt: this.systemPrompt(ctx),
          model: `${PROVIDER}/${model}`,
          timeout: this.o.turnTimeoutS ?? 600,
        },
        () => {
          accepted = true;
          if (ctx.signal.aborted) onAbort();
        },
      );
      this.known.add(ctx.sessionId);
      const end = translator.finish(res, model);
      emit(end.replayed);
      if (end.usage) {
        ctx.emit({ type: 'usage', ...end.usage });
        ctx.reportUsage({ model: end.usage.model, tokensIn: end.usage.tokensIn, tokensOut: end.usage.tokensOut, latencyMs: end.usage.latencyMs });
      }
      const status = ctx.signal.aborted ? 'cancelled' : end.status;
      if (status === 'failed') ctx.emit({ type: 'error', ...(end.error ?? { code: 'RUNTIME_ERROR', message: 'OpenClaw run failed' }) });
      return { status, answer: translator.answer };
    } catch (err) {
      if (err instanceof GatewayExited) throw new OpenClawBridgeExited(err.message);
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      stopListening();
      endProxy();
    }
  }

  /**
   * The agent's prompt, plus — for a session OpenClaw has not seen on this disk (it began on
   * SemiGraph, or on a plane that lost its disk) — the conversation so far, so it continues it.
   */
  private systemPrompt(ctx: TurnContext): string {
    if (this.known.has(ctx.sessionId) || ctx.history.length === 0) return ctx.agent.systemPrompt;
    const transcript = ctx.history.map((m) => `${m.role}: ${m.content}`).join('\n');
    return `${ctx.agent.systemPrompt}\n\nThe conversation so far (continue it):\n${transcript}`;
  }

  async close(): Promise<void> {
    await Promise.all([this.gateway.close(), this.proxy.close()]);
  }
}
