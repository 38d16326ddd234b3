import pino, { type Logger } from 'pino';
import type { LlmProvider } from '@semibot/llm';
import type { LlmConfig } from '@semibot/protocol';
import { initTracing, logRedaction, redactChildBindings } from '@semibot/telemetry';
import { ControlConnection } from './connection.js';
import { viaHostLoopback } from './host-loopback.js';
import { SessionManager } from './session-manager.js';
import { SemiGraphRuntime } from './runtimes/semigraph/runtime.js';
import { findOpenClaw } from './runtimes/openclaw/install.js';
import { OpenClawRuntime } from './runtimes/openclaw/runtime.js';
import { Toolbox } from './tools/toolbox.js';

export interface DaemonOptions {
  /** the control plane's /ws/vm */
  url: string;
  token: string;
  /** one-time ticket of a new plane */
  ticket?: string | undefined;
  /** the plane's disk: checkpoints, short-term memory, skill cache */
  home: string;
  logLevel: string;
  instanceId?: string | undefined;
  /** in a VM: the address of the host's loopback (URLs naming loopback are pointed at it) */
  hostLoopback?: string | undefined;
  /** the control plane refused the credential for good (a retry cannot help) */
  onFatal(reason: string): void;
}

export interface Daemon {
  logger: Logger;
  /** stops cleanly: turns abort (they checkpoint), a final snapshot, then the socket closes */
  stop(): Promise<void>;
}

/**
 * The execution-plane daemon: dials /ws/vm, hosts sessions, runs turns. Started by the control
 * plane (process mode: credentials in the environment, main.ts), by an operator (a pool plane), or
 * by a user on their own machine (`semibot-runtime connect`, connect.ts).
 */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  // same redaction rule as the control plane: no secret reaches a log line, whatever is logged
  const logger = redactChildBindings(
    pino({
      level: o.logLevel,
      base: { service: 'runtime', instanceId: o.instanceId, pid: process.pid },
      formatters: logRedaction,
    }),
  );
  const tracing = await initTracing('semibot-runtime');
  let llm: LlmConfig | null = null;
  let provider: LlmProvider | null = null;
  // The LLM SDK loads while the socket connects (not before it): the first turn needs it, the
  // connection does not, and loading it up front would delay a cold start by its import time.
  const llmSdk = import('@semibot/llm');
  const toolbox = new Toolbox();
  let openclawMemoryMb: number | undefined;
  const semigraph = new SemiGraphRuntime({
    toolbox,
    provider: async () => (provider ??= (await llmSdk).createOpenAICompatibleProvider(llm!)),
    defaultModel: () => llm!.model,
    maxSteps: Number(process.env.SEMIBOT_MAX_STEPS ?? 8),
  });
  // OpenClaw where this plane has it installed; its gateway starts at the first OpenClaw turn
  const install = findOpenClaw();
  const openclaw =
    typeof install === 'string'
      ? null
      : new OpenClawRuntime({ install, planeHome: o.home, logger, llm: () => llm!, toolbox, memoryMb: () => openclawMemoryMb });
  if (typeof install === 'string') logger.debug({ reason: install }, 'OpenClaw runtime unavailable on this plane');
  const connection: ControlConnection = new ControlConnection({
    url: viaHostLoopback(o.url, o.hostLoopback),
    token: o.token,
    ticket: o.ticket,
    logger,
    onInit(init) {
      const given = { ...init.llm, baseUrl: viaHostLoopback(init.llm.baseUrl, o.hostLoopback) };
      if (!llm || llm.baseUrl !== given.baseUrl || llm.apiKey !== given.apiKey) provider = null;
      llm = given;
      openclawMemoryMb = init.openclawMemoryMb;
      sessions.connected();
      logger.info('connected to control plane');
    },
    onMessage: (msg) => sessions.handle(msg),
    load: () => sessions.load(),
    onFatal: (reason) => o.onFatal(reason),
  });
  const sessions = new SessionManager({
    home: o.home,
    logger,
    adapters: openclaw ? { semigraph, openclaw } : { semigraph },
    send: (msg) => connection.send(msg),
    services: {
      request: (method, params, sessionId) => connection.request(method, params, sessionId),
      fire: (method, params) => connection.send({ type: 'fire_and_forget', method, params }),
    },
  });
  connection.connect();
  return {
    logger,
    stop: () =>
      new Promise<void>((resolve) => {
        sessions.abortAll();
        const stop = () => {
          connection.close();
          void semigraph.close();
          void openclaw?.close();
          void tracing.shutdown().finally(resolve);
          setTimeout(resolve, 1_000).unref();
        };
        // the snapshots are read from disk first; the socket gets 100 ms more to send them
        void sessions.snapshotAll().finally(() => setTimeout(stop, 100).unref());
        setTimeout(stop, 2_000).unref(); // a disk that hangs must not keep the plane alive
      }),
  };
}
