#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { LlmProvider } from '@semibot/llm';
import type { LlmConfig } from '@semibot/protocol';
import { ControlConnection } from './connection.js';
import { initTracing } from '@semibot/telemetry';
import { SessionManager } from './session-manager.js';
import { SemiGraphRuntime } from './runtimes/semigraph/runtime.js';

/**
 * The execution-plane daemon. Started by the control plane (process mode) with its credentials in
 * the environment; dials /ws/vm, hosts sessions, runs turns.
 */
const env = process.env;
const required = (name: string) => {
  const v = env[name];
  if (!v) {
    process.stderr.write(`semibot-runtime: ${name} is required\n`);
    process.exit(2);
  }
  return v;
};
const url = required('SEMIBOT_CONTROL_URL');
// a pool plane's credential may come from a file (a Kubernetes or compose secret volume)
const token = env.SEMIBOT_VM_TOKEN_FILE ? readFileSync(env.SEMIBOT_VM_TOKEN_FILE, 'utf8').trim() : required('SEMIBOT_VM_TOKEN');
const home = env.SEMIBOT_HOME ?? process.cwd();
// same redaction rule as the control plane: no secret reaches a log line, whatever is logged
const logger = pino({
  level: env.LOG_LEVEL ?? 'info',
  base: { service: 'runtime', instanceId: env.SEMIBOT_INSTANCE_ID, pid: process.pid },
  redact: { paths: ['token', 'ticket', 'apiKey', '*.token', '*.ticket', '*.apiKey', '*.llm.apiKey', '*.headers', '*.env', '*.authorization'], censor: '[redacted]' },
});

const tracing = await initTracing('semibot-runtime');
let llm: LlmConfig | null = null;
let provider: LlmProvider | null = null;
// The LLM SDK loads while the socket connects (not before it): the first turn needs it, the
// connection does not, and loading it up front would delay a cold start by its import time.
const llmSdk = import('@semibot/llm');
const semigraph = new SemiGraphRuntime({
  provider: async () => (provider ??= (await llmSdk).createOpenAICompatibleProvider(llm!)),
  defaultModel: () => llm!.model,
  maxSteps: Number(env.SEMIBOT_MAX_STEPS ?? 8),
});

const connection: ControlConnection = new ControlConnection({
  url,
  token,
  ticket: env.SEMIBOT_CONNECT_TICKET,
  logger,
  onInit(init) {
    if (!llm || llm.baseUrl !== init.llm.baseUrl || llm.apiKey !== init.llm.apiKey) provider = null;
    llm = init.llm;
    logger.info('connected to control plane');
  },
  onMessage: (msg) => sessions.handle(msg),
  load: () => sessions.load(),
  onFatal(reason) {
    logger.error({ reason }, 'cannot connect; exiting');
    process.exit(3);
  },
});
const sessions = new SessionManager({
  home,
  logger,
  adapters: { semigraph },
  send: (msg) => connection.send(msg),
  services: {
    request: (method, params, sessionId) => connection.request(method, params, sessionId),
    fire: (method, params) => connection.send({ type: 'fire_and_forget', method, params }),
  },
});
connection.connect();

// In process mode the plane lives and dies with its control plane.
const parentPid = Number(env.SEMIBOT_PARENT_PID ?? 0);
if (parentPid > 0) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      logger.warn('control plane process is gone; exiting');
      process.exit(0);
    }
  }, 2_000).unref();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // stop cleanly: abort turns (they checkpoint), send a final snapshot, then close and exit
    sessions.abortAll();
    const stop = () => {
      connection.close();
      void semigraph.close();
      void tracing.shutdown().finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 1_000).unref();
    };
    // the snapshots are read from disk first; the socket gets 100 ms more to send them
    void sessions.snapshotAll().finally(() => setTimeout(stop, 100).unref());
    setTimeout(stop, 2_000).unref(); // a disk that hangs must not keep the plane alive
  });
}
