import type { LatencyLevel } from './config.js';
import { expectComplete, type BenchContext } from './context.js';
import { baselineChat, productMessage } from './requests.js';
import type { Dialect, RequestSpec, StreamResult } from './sse-client.js';
import { difference, summarize, type Summary } from './stats.js';
import { cpuMs } from './procs.js';
import { gcOverlap, readGcPauses, type GcOverlap } from './gc-pauses.js';

/**
 * Token-to-client latency. The mock stamps every `/ts` token with its emit time (µs, wall clock);
 * the client subtracts it from the time the frame arrived. The baseline reads the same mock
 * directly with the same client and concurrency, so clock offsets and the client's own cost cancel
 * out of the difference ("added latency"). The same requests are also streamed through two bare
 * TCP proxies (hop-floor.ts, relayChain): what two hops that do nothing but pass bytes on add at
 * the same load, beside what the product's two add.
 */

export interface LatencyFigure {
  level: LatencyLevel;
  baselineMs: Summary;
  productMs: Summary;
  addedMs: { p50: number; p99: number; max: number };
  /**
   * The floor at this load: the baseline's requests through two bare proxies, less the baseline
   * (same pass, same client and concurrency); `cpuUsPerToken` is both proxies' CPU together;
   * `middle`, the hop between them (as between plane and control plane).
   */
  bareRelays: { relayedMs: Summary; addedMs: { p50: number; p99: number; max: number }; cpuUsPerToken: number; middle: 'unix' | 'tcp' };
  /**
   * The same without each stream's first and last 10 % of tokens: the relay alone, without the
   * run's start-up and finish work landing on the control plane at the same time. Not the headline.
   */
  steady: { baselineMs: Summary; productMs: Summary; addedMs: { p50: number; p99: number; max: number } };
  /**
   * The product's tokens by when in the pass they arrived: while turns were still starting (before
   * the last stream's first token), while every stream was streaming, and while turns were ending
   * (after the first stream's last token) — each with its share of the tokens and its added
   * latency (against the whole baseline). Says whether a tail comes from the relay or from the
   * work of starting and ending turns around it.
   */
  byPhase: Record<PassPhase, { share: number; addedMs: { p50: number; p99: number; max: number } }>;
  /**
   * Request → first text frame of each stream, product and baseline: what a stream waits before
   * it streams at all (200 runs admitted together queue somewhere; this says how long).
   */
  firstTokenMs: {
    product: Summary;
    baseline: Summary;
    /** POST → the run's `run` frame: admission (message and run stored, the run started) */
    productRunFrame: Summary;
  };
  /**
   * Added p50 / p99 of every pass at this level, in run order. The figure itself is the pass with
   * the median p99: on 2 shared cores identical passes ranged 25–124 ms at 200 streams, so one pass
   * says little on its own.
   */
  passes: { p50: number; p99: number; bareRelaysP99: number; gc?: GcOverlap }[];
  /** `--gc-pauses` only: the collections during the product part of the pass, and the tokens they held up */
  gc?: GcOverlap;
  /** product response body bytes / text frames, and the text frames' own average size */
  bytesPerTextToken: number;
  textFrameBytes: number;
  /**
   * CPU µs per token of each process during the product run (/proc utime + stime, all threads;
   * `controlPlaneMain`: its main thread alone) and of the mock and client during the baseline:
   * where the cores went. With 2 cores, a sum near 2,000,000 / tokens per second is saturation,
   * and queueing, not any one hop, is then what the latency figure measures.
   */
  cpuUsPerToken: { controlPlane: number; controlPlaneMain: number; plane: number; mock: number; client: number; baselineMock: number; baselineClient: number };
}

/** CPU ms so far of each process under test (see LatencyFigure.cpuUsPerToken). */
function cpuNow(ctx: BenchContext) {
  return {
    controlPlane: cpuMs(ctx.cp.pid),
    controlPlaneMain: cpuMs(ctx.cp.pid, ctx.cp.pid),
    plane: cpuMs(ctx.planePid),
    mock: cpuMs(ctx.mock.pid),
    client: cpuMs(ctx.client.pid),
  };
}

const streamsJob = (ctx: BenchContext, requests: RequestSpec[], dialect: Dialect, concurrency: number, stamped: boolean, gapMs = 0) =>
  ctx.client.run(
    { type: 'streams', requests, dialect, stamped, timeoutMs: ctx.cfg.jobTimeoutMs, concurrency, gapMs },
    ctx.cfg.jobTimeoutMs + 5_000,
  );

/** `passes` runs of a level, one after another; returns the pass with the median added p99. */
export async function tokenLatencyPasses(ctx: BenchContext, level: LatencyLevel, passes: number): Promise<LatencyFigure> {
  // The mock closes a connection idle for 30 s, and in a full run the larger levels' connections
  // idle about that long after the warm-up: one stream of the 200-stream level's relayed pass was
  // lost with "socket hang up" (most likely a request sent as that close came back through the
  // proxies). An unmeasured round at this level's concurrency, straight and through the proxies,
  // hands the passes fresh connections. That round is the one that meets those closes (a full run
  // failed there once, 2026-12-07): a request that got no response at all goes once more, as an
  // HTTP client retries an idempotent request on a reused connection; anything else still fails.
  for (const url of [ctx.mock.url, ctx.relays.url]) {
    const warm = (n: number) => Array.from({ length: n }, () => baselineChat(url, '/echo warm'));
    const what = `connection warm-up, ${level.streams} streams`;
    const first = await streamsJob(ctx, warm(level.streams), 'openai', level.streams, false);
    const lost = first.results.filter(metIdleClose).length;
    expectComplete({ ...first, results: first.results.filter((r) => !metIdleClose(r)) }, 1, what);
    if (lost > 0) expectComplete(await streamsJob(ctx, warm(lost), 'openai', lost, false), 1, `${what}, ${lost} sent again`);
  }
  const figures: LatencyFigure[] = [];
  for (let i = 0; i < passes; i++) figures.push(await tokenLatency(ctx, level));
  const median = [...figures].sort((a, b) => a.addedMs.p99 - b.addedMs.p99)[Math.floor((figures.length - 1) / 2)]!;
  return { ...median, passes: figures.map((f) => ({ p50: f.addedMs.p50, p99: f.addedMs.p99, bareRelaysP99: f.bareRelays.addedMs.p99, ...(f.gc ? { gc: f.gc } : {}) })) };
}

/** A request written to a connection the server was closing: no status, no byte of a response. */
const metIdleClose = (r: StreamResult) => r.status === 0 && r.bytes === 0 && r.error !== null;

async function tokenLatency(ctx: BenchContext, level: LatencyLevel): Promise<LatencyFigure> {
  const content = `/ts ${level.tokens} ${level.delayMs}`;
  const tokens = level.streams * level.tokens;
  const cpu0 = cpuNow(ctx);
  const direct = (url: string) => Array.from({ length: level.streams }, () => baselineChat(url, content));
  const baseline = await streamsJob(ctx, direct(ctx.mock.url), 'openai', level.streams, true);
  expectComplete(baseline, level.tokens, `baseline ${level.streams} streams`);
  const cpuBaseline = cpuNow(ctx);
  const relaysCpu0 = ctx.relays.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const relayed = await streamsJob(ctx, direct(ctx.relays.url), 'openai', level.streams, true);
  expectComplete(relayed, level.tokens, `two bare relays ${level.streams} streams`);
  const relaysCpu = ctx.relays.pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - relaysCpu0;
  const cpu1 = cpuNow(ctx);
  const product = await streamsJob(
    ctx,
    ctx.sessions.slice(0, level.streams).map((id) => productMessage(ctx.cp.url, ctx.user.auth, id, content)),
    'semibot',
    level.streams,
    true,
  );
  expectComplete(product, level.tokens, `product ${level.streams} streams`);
  const cpu2 = cpuNow(ctx);
  const us = (a: number, b: number) => ((b - a) * 1000) / tokens;
  const cpuUsPerToken = {
    controlPlane: us(cpu1.controlPlane, cpu2.controlPlane),
    controlPlaneMain: us(cpu1.controlPlaneMain, cpu2.controlPlaneMain),
    plane: us(cpu1.plane, cpu2.plane),
    mock: us(cpu1.mock, cpu2.mock),
    client: us(cpu1.client, cpu2.client),
    baselineMock: us(cpu0.mock, cpuBaseline.mock),
    baselineClient: us(cpu0.client, cpuBaseline.client),
  };
  const ms = (rs: typeof product.results) => rs.flatMap((r) => r.latenciesUs).map((us) => us / 1000);
  const middle = (rs: typeof product.results) =>
    rs.flatMap((r) => r.latenciesUs.slice(Math.floor(r.latenciesUs.length * 0.1), Math.ceil(r.latenciesUs.length * 0.9))).map((us) => us / 1000);
  const baselineMs = summarize(ms(baseline.results));
  const relayedMs = summarize(ms(relayed.results));
  const productMs = summarize(ms(product.results));
  const steadyBaseline = summarize(middle(baseline.results));
  const steadyProduct = summarize(middle(product.results));
  let bytes = 0;
  let frames = 0;
  let frameBytes = 0;
  for (const r of product.results) {
    bytes += r.bytes;
    frames += r.textFrames;
    frameBytes += r.textFrameBytes;
  }
  return {
    level,
    baselineMs,
    productMs,
    addedMs: difference(productMs, baselineMs),
    bareRelays: { relayedMs, addedMs: difference(relayedMs, baselineMs), cpuUsPerToken: (relaysCpu * 1000) / tokens, middle: ctx.relays.middle },
    firstTokenMs: {
      product: summarize(product.results.map((r) => r.firstTextMs!)),
      baseline: summarize(baseline.results.map((r) => r.firstTextMs!)),
      productRunFrame: summarize(product.results.map((r) => r.runFrameMs!)),
    },
    steady: { baselineMs: steadyBaseline, productMs: steadyProduct, addedMs: difference(steadyProduct, steadyBaseline) },
    byPhase: byPhase(product.results, baselineMs),
    bytesPerTextToken: bytes / frames,
    textFrameBytes: frameBytes / frames,
    cpuUsPerToken,
    passes: [],
    ...(ctx.gcLog ? { gc: gcOverlap(product.results, readGcPauses(ctx.gcLog)) } : {}),
  };
}

export type PassPhase = 'starting' | 'streaming' | 'ending';

function byPhase(results: StreamResult[], baselineMs: Summary): LatencyFigure['byPhase'] {
  const startsEnd = Math.max(...results.map((r) => r.arrivalsUs[0]!));
  const endsStart = Math.min(...results.map((r) => r.arrivalsUs.at(-1)!));
  const ms: Record<PassPhase, number[]> = { starting: [], streaming: [], ending: [] };
  for (const r of results) {
    r.arrivalsUs.forEach((at, i) => {
      const phase: PassPhase = at <= startsEnd ? 'starting' : at >= endsStart ? 'ending' : 'streaming';
      ms[phase].push(r.latenciesUs[i]! / 1000);
    });
  }
  const total = ms.starting.length + ms.streaming.length + ms.ending.length;
  const figure = (v: number[]) => ({ share: v.length / total, addedMs: v.length ? difference(summarize(v), baselineMs) : { p50: NaN, p99: NaN, max: NaN } });
  return { starting: figure(ms.starting), streaming: figure(ms.streaming), ending: figure(ms.ending) };
}

export interface WarmTurnFigure {
  turns: number;
  /** the model's own request → first token, read directly */
  baselineFirstTokenMs: Summary;
  /** POST → first `text` frame in a warm session */
  productFirstTokenMs: Summary;
  /** POST → the run's `run` frame: the control plane's share (store message + run, claim, load) */
  productRunFrameMs: Summary;
  /** POST → the response's end after `done`: the turn as a client sees it finish */
  productDoneMs: Summary;
  /** product − the baseline's median: p50, and the worst turn */
  overheadMs: { p50: number; max: number };
  /** CPU µs per product turn of each process (as LatencyFigure.cpuUsPerToken): the cost of a run itself */
  cpuUsPerTurn: { controlPlane: number; controlPlaneMain: number; plane: number; mock: number; client: number };
}

/** Think time between turns: a script firing the next turn the instant `done` arrives is not a user. */
const TURN_GAP_MS = 20;
const WARMUP_TURNS = 2;

/** Sequential turns of a one-token reply in one warm session (the plane already hosts it). */
export async function warmTurns(ctx: BenchContext): Promise<WarmTurnFigure> {
  const content = '/ts 1 0';
  const n = ctx.cfg.warmTurns + WARMUP_TURNS;
  const baseline = await streamsJob(ctx, Array.from({ length: n }, () => baselineChat(ctx.mock.url, content)), 'openai', 1, false, TURN_GAP_MS);
  expectComplete(baseline, 1, 'baseline warm turns');
  const sessionId = ctx.sessions[0]!;
  const cpu0 = cpuNow(ctx);
  const product = await streamsJob(
    ctx,
    Array.from({ length: n }, () => productMessage(ctx.cp.url, ctx.user.auth, sessionId, content)),
    'semibot',
    1,
    false,
    TURN_GAP_MS,
  );
  expectComplete(product, 1, 'product warm turns');
  const cpu1 = cpuNow(ctx);
  const perTurn = (k: keyof typeof cpu0) => ((cpu1[k] - cpu0[k]) * 1000) / n;
  const first = (rs: typeof product.results) => rs.slice(WARMUP_TURNS).map((r) => r.firstTextMs!);
  const baselineFirstTokenMs = summarize(first(baseline.results));
  const productFirstTokenMs = summarize(first(product.results));
  return {
    turns: ctx.cfg.warmTurns,
    baselineFirstTokenMs,
    productFirstTokenMs,
    productRunFrameMs: summarize(product.results.slice(WARMUP_TURNS).map((r) => r.runFrameMs!)),
    productDoneMs: summarize(product.results.slice(WARMUP_TURNS).map((r) => r.totalMs)),
    overheadMs: {
      p50: productFirstTokenMs.p50 - baselineFirstTokenMs.p50,
      max: productFirstTokenMs.max - baselineFirstTokenMs.p50,
    },
    cpuUsPerTurn: {
      controlPlane: perTurn('controlPlane'),
      controlPlaneMain: perTurn('controlPlaneMain'),
      plane: perTurn('plane'),
      mock: perTurn('mock'),
      client: perTurn('client'),
    },
  };
}
