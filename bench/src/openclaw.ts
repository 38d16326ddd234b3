import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { findOpenClaw, OpenClawGateway } from '@semibot/runtime';
import { call, newUser } from './api.js';
import type { BenchConfig } from './config.js';
import { startControlPlane, type MockProc } from './platform.js';
import { childPids, rssBytes, settledRss, sleep } from './procs.js';
import { productMessage } from './requests.js';
import { stream } from './sse-client.js';
import { difference, summarize, type Summary } from './stats.js';

/**
 * `npm run bench -- --openclaw`: one OpenClaw turn, through Semibot (HTTP POST → SSE, control plane
 * → plane → bridge → gateway) and straight to OpenClaw's own gateway (its WebSocket protocol, as
 * OpenClaw's own clients speak it), side by side against the same mock model, alternating. Both
 * gateways are the same pinned OpenClaw with the same config, each warmed by a few turns first.
 * Also: the cold start of a plane's gateway (first OpenClaw turn of a new plane), and idle RSS.
 */
export interface OpenClawFigure {
  version: string;
  turns: number;
  direct: { turnMs: Summary; firstTextMs: Summary };
  semibot: { turnMs: Summary; firstTextMs: Summary };
  overheadMs: { turn: Pick<Summary, 'p50' | 'p99' | 'max'>; firstText: Pick<Summary, 'p50' | 'p99' | 'max'> };
  coldFirstTurnMs: { semibot: number; direct: number };
  idleRssBytes: { gatewayAlone: number; semibotPlaneAndGateway: number; planeDaemon: number };
}

export async function openclawBench(o: { cfg: BenchConfig; mock: MockProc; turns: number; say: (m: string) => void; disposers: (() => unknown)[] }): Promise<OpenClawFigure> {
  const install = findOpenClaw();
  if (typeof install === 'string') throw new Error(`--openclaw: ${install}`);
  const home = mkdtempSync(path.join(tmpdir(), 'semibot-bench-openclaw-'));
  o.disposers.push(() => rmSync(home, { recursive: true, force: true }));
  const direct = new OpenClawGateway({
    install,
    home,
    logger: pino({ level: 'silent' }),
    config: () => ({ llm: { baseUrl: o.mock.url, apiKey: 'bench', model: 'mock-1' } }),
  });
  o.disposers.push(() => direct.close());
  let n = 0;
  const directTurn = async (content: string) => {
    const runId = `bench-${process.pid}-${++n}`;
    const started = performance.now();
    let firstText: number | null = null;
    const stop = direct.onAgentEvents(runId, (p) => {
      if (firstText === null && p.stream === 'assistant' && (p.data as { delta?: string }).delta) firstText = performance.now() - started;
    });
    try {
      const res = await direct.request('agent', { message: content, sessionKey: 'agent:main:bench', idempotencyKey: runId, model: 'semibot/mock-1', timeout: 120 });
      if (res.status !== 'ok') throw new Error(`direct turn ended ${String(res.status)}`);
    } finally {
      stop();
    }
    return { turnMs: performance.now() - started, firstTextMs: firstText ?? Number.NaN };
  };

  const cp = await startControlPlane({ llmUrl: o.mock.url });
  o.disposers.push(() => cp.dispose());
  const user = await newUser(cp.url);
  const agent = await call<{ id: string }>(cp.url, 'POST', '/agents', { name: 'bench-openclaw', systemPrompt: 'You are a bench agent.', runtimeType: 'openclaw' }, user.auth);
  const session = await call<{ id: string }>(cp.url, 'POST', '/sessions', { agentId: agent.id }, user.auth);
  const semibotTurn = async (content: string) => {
    const r = await stream(productMessage(cp.url, user.auth, session.id, content), 'semibot', { timeoutMs: 180_000, stamped: false });
    if (!r.done || r.error) throw new Error(`semibot turn: ${r.error ?? 'no done'} (status ${r.status})`);
    return { turnMs: r.totalMs, firstTextMs: r.firstTextMs ?? Number.NaN };
  };

  o.say(`OpenClaw ${install.version}: cold first turns (gateway start included)`);
  const coldDirect = (await directTurn('/echo cold')).turnMs;
  const coldSemibot = (await semibotTurn('/echo cold')).turnMs;
  for (let i = 0; i < 3; i++) {
    await directTurn('/echo warm');
    await semibotTurn('/echo warm');
  }
  const d: { turnMs: number[]; firstTextMs: number[] } = { turnMs: [], firstTextMs: [] };
  const s: { turnMs: number[]; firstTextMs: number[] } = { turnMs: [], firstTextMs: [] };
  for (let i = 0; i < o.turns; i++) {
    const a = await directTurn(`/echo turn ${i}`);
    const b = await semibotTurn(`/echo turn ${i}`);
    d.turnMs.push(a.turnMs);
    d.firstTextMs.push(a.firstTextMs);
    s.turnMs.push(b.turnMs);
    s.firstTextMs.push(b.firstTextMs);
  }
  await sleep(3_000);
  const tree = (pid: number): number => (rssBytes(pid) ?? 0) + childPids(pid).reduce((sum, c) => sum + tree(c), 0);
  const gatewayAlone = tree(direct.pid!);
  const planes = childPids(cp.pid);
  const planeDaemon = planes.length ? await settledRss(planes[0]!) : 0;
  const semibotPlaneAndGateway = planes.reduce((sum, p) => sum + tree(p), 0);
  const sum = (x: { turnMs: number[]; firstTextMs: number[] }) => ({ turnMs: summarize(x.turnMs), firstTextMs: summarize(x.firstTextMs) });
  const direct_ = sum(d);
  const semibot = sum(s);
  return {
    version: install.version,
    turns: o.turns,
    direct: direct_,
    semibot,
    overheadMs: { turn: difference(semibot.turnMs, direct_.turnMs), firstText: difference(semibot.firstTextMs, direct_.firstTextMs) },
    coldFirstTurnMs: { semibot: coldSemibot, direct: coldDirect },
    idleRssBytes: { gatewayAlone, semibotPlaneAndGateway, planeDaemon },
  };
}
