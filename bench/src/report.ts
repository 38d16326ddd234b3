import type { BatchSubmitFigure } from './batch-submit.js';
import type { GraphOverhead } from './graph-overhead.js';
import type { RecoveryFigure, SocketCutFigure, ToolTurnFigure } from './recovery.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import type { LatencyFigure, WarmTurnFigure } from './latency.js';
import type { GitInfo, Machine } from './machine.js';
import type { ConnectionMemory, PlaneMemory } from './memory.js';
import type { ColdStartFigure, ReadyFigure, RestartFigure } from './startup.js';
import { round } from './stats.js';
import type { ThroughputFigure } from './throughput.js';
import type { HopFloor } from './hop-floor.js';
import type { LongSessionFigure } from './long-session.js';
import type { TurnBurstFigure } from './turn-burst.js';
import type { Phase } from './timeline.js';

/** The figures of one run, the table printed from them (targets: issue 6), and the results file. */

export interface Figures {
  latency: LatencyFigure[];
  /** what two bare Node relays add on this machine: the floor under the 1-stream figure */
  hopFloor: HopFloor;
  warmTurn: WarmTurnFigure;
  /** many one-token turns at once: what the 200-stream level's start and end bursts cost */
  turnBurst: TurnBurstFigure;
  /** the same kind of turn early and late in one long session: does a turn's cost grow with its history? */
  longSession: LongSessionFigure;
  startToReady: ReadyFigure;
  /** the same when the fresh home has to copy the database template (no spare ready) */
  startToReadyNoSpare: ReadyFigure;
  /** `npm start` in the checkout, nothing changed since the last build */
  npmStartToReady: ReadyFigure;
  restartToReady: RestartFigure;
  coldStart: ColdStartFigure;
  throughput: ThroughputFigure;
  controlPlaneIdleRssBytes: number;
  controlPlaneRssAfterLoadBytes: number;
  sseConnections: ConnectionMemory;
  plane: PlaneMemory;
  graph: GraphOverhead;
  /** storing a batch of turns with few and with many sessions stored: does it grow with them? */
  batchSubmit: BatchSubmitFigure;
  toolTurn: ToolTurnFigure;
  recovery: RecoveryFigure;
  socketCut: SocketCutFigure;
}

export interface Row {
  metric: string;
  value: string;
  target: string;
  /** null: no target for this row */
  ok: boolean | null;
}

const ms = (v: number) => round(v, v < 10 ? 2 : 1).toString();
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const kb = (b: number) => (b / 1024).toFixed(1);
const int = (v: number) => Math.round(v).toLocaleString('en-US');

/** Targets per concurrency level, from issue 6. */
const LATENCY_TARGETS: Record<number, { p50?: number; p99: number }> = { 1: { p50: 0.3, p99: 2 }, 20: { p50: 0.5, p99: 5 }, 200: { p99: 20 } };

export function rows(f: Figures): Row[] {
  const out: Row[] = [];
  for (const l of f.latency) {
    const s = l.level.streams;
    const t = LATENCY_TARGETS[s];
    const label = `added token latency, ${s} stream${s === 1 ? '' : 's'}`;
    // the pass with the median p99, and every pass's p99 beside it
    const passes = l.passes.length > 1 ? ` (${l.passes.length} passes: ${l.passes.map((p) => ms(p.p99)).join(', ')})` : '';
    if (t?.p50 === undefined && t) {
      out.push({ metric: `${label}, p99`, value: `${ms(l.addedMs.p99)} ms${passes}`, target: `≤ ${t.p99} ms`, ok: l.addedMs.p99 <= t.p99 });
    } else {
      out.push({
        metric: `${label}, p50 / p99`,
        value: `${ms(l.addedMs.p50)} / ${ms(l.addedMs.p99)} ms${passes}`,
        target: t ? `≤ ${t.p50} / ≤ ${t.p99} ms` : '—',
        ok: t ? l.addedMs.p50 <= t.p50! && l.addedMs.p99 <= t.p99 : null,
      });
    }
    out.push({
      metric: `  product | baseline p50/p99/max (${l.level.tokens} tok, ${l.level.delayMs} ms)`,
      value: `${ms(l.productMs.p50)}/${ms(l.productMs.p99)}/${ms(l.productMs.max)} | ${ms(l.baselineMs.p50)}/${ms(l.baselineMs.p99)}/${ms(l.baselineMs.max)} ms`,
      target: '—',
      ok: null,
    });
    const ft = l.firstTokenMs;
    out.push({
      metric: '  request → first token p50/p99: product (its run frame) | baseline',
      value: `${ms(ft.product.p50)}/${ms(ft.product.p99)} (${ms(ft.productRunFrame.p50)}/${ms(ft.productRunFrame.p99)}) | ${ms(ft.baseline.p50)}/${ms(ft.baseline.p99)} ms`,
      target: '—',
      ok: null,
    });
    // a phase with no tokens has no percentile (a tiny run whose streams did not overlap: nothing "all streaming")
    const ph = (x: LatencyFigure['byPhase']['starting']) => `${Math.round(x.share * 100)} % / ${x.share > 0 ? ms(x.addedMs.p99) : '—'}`;
    out.push({
      metric: '  added p99 by phase: turns starting | all streaming | turns ending (share of tokens / ms)',
      value: `${ph(l.byPhase.starting)} | ${ph(l.byPhase.streaming)} | ${ph(l.byPhase.ending)}`,
      target: '—',
      ok: null,
    });
    const st = l.steady.addedMs;
    out.push({ metric: '  added, steady state (first/last 10 % cut) p50/p99', value: `${ms(st.p50)} / ${ms(st.p99)} ms`, target: '—', ok: null });
    const c = l.cpuUsPerToken;
    out.push({
      metric: '  CPU µs/token: control plane (main) | plane | mock | client',
      value: `${int(c.controlPlane)} (${int(c.controlPlaneMain)}) | ${int(c.plane)} | ${int(c.mock)} | ${int(c.client)}`,
      target: '—',
      ok: null,
    });
    const b = l.bareRelays;
    out.push({
      metric: `  floor, same load: two bare relays (TCP, ${b.middle === 'unix' ? 'Unix socket' : 'TCP'}, TCP) add p50 / p99`,
      value: `${ms(b.addedMs.p50)} / ${ms(b.addedMs.p99)} ms${l.passes.length > 1 ? ` (passes: ${l.passes.map((p) => ms(p.bareRelaysP99)).join(', ')})` : ''}`,
      target: '—',
      ok: null,
    });
    if (s === 1) {
      const h = f.hopFloor.twoHopsAddedUs;
      out.push({ metric: '  floor: two bare Node relays add, p50 / p99', value: `${ms(h.p50 / 1000)} / ${ms(h.p99 / 1000)} ms`, target: '—', ok: null });
    }
  }
  const w = f.warmTurn;
  out.push({
    metric: `warm turn overhead, p50 / max (${w.turns} turns)`,
    value: `${ms(w.overheadMs.p50)} / ${ms(w.overheadMs.max)} ms`,
    target: '≤ 5 / ≤ 20 ms',
    ok: w.overheadMs.p50 <= 5 && w.overheadMs.max <= 20,
  });
  out.push({
    metric: '  POST → run frame | → first token | → done | model alone, p50',
    value: `${ms(w.productRunFrameMs.p50)} | ${ms(w.productFirstTokenMs.p50)} | ${ms(w.productDoneMs.p50)} | ${ms(w.baselineFirstTokenMs.p50)} ms`,
    target: '—',
    ok: null,
  });
  const b = f.turnBurst;
  out.push({
    metric: `turn burst: ${b.turns} turns at once, POST → done p50 / p99; CPU µs/turn control plane (main) | plane (main)`,
    value: `${ms(b.doneMs.p50)} / ${ms(b.doneMs.p99)} ms; ${int(b.cpuUsPerTurn.controlPlane)} (${int(b.cpuUsPerTurn.controlPlaneMain)}) | ${int(b.cpuUsPerTurn.plane)} (${int(b.cpuUsPerTurn.planeMain)})`,
    target: '—',
    ok: null,
  });
  const ls = f.longSession;
  const lw = (x: LongSessionFigure['first']) => `${int(x.cpuUsPerTurn.controlPlane + x.cpuUsPerTurn.plane)} µs, ${ms(x.doneMsP50)} ms`;
  out.push({
    metric: `long session: CPU per turn (control plane + plane), → done p50; turns ${ls.first.from + 1}–${ls.first.from + ls.first.turns} | ${ls.last.from + 1}–${ls.last.from + ls.last.turns}`,
    value: `${lw(ls.first)} | ${lw(ls.last)}`,
    target: '—',
    ok: null,
  });
  const lb = (x: LongSessionFigure['first']) => `${kb(x.bytesPerTurn.controlPlane)} / ${kb(x.bytesPerTurn.plane)} KB`;
  out.push({ metric: '  KB written per turn, control plane / plane (files + sockets)', value: `${lb(ls.first)} | ${lb(ls.last)}`, target: '—', ok: null });
  const r = f.startToReady.summary;
  out.push({ metric: `control plane start → ready, p50 / max (${r.n}×)`, value: `${ms(r.p50)} / ${ms(r.max)} ms`, target: '≤ 1000 ms', ok: r.p50 <= 1000 });
  const rn = f.startToReadyNoSpare.summary;
  if (rn.n > 0) {
    out.push({ metric: `  fresh home without a spare template copy, p50 / max (${rn.n}×)`, value: `${ms(rn.p50)} / ${ms(rn.max)} ms`, target: '—', ok: null });
  }
  const ns = f.npmStartToReady.summary;
  if (ns.n > 0) {
    out.push({ metric: `  \`npm start\`, nothing changed, p50 / max (${ns.n}×)`, value: `${ms(ns.p50)} / ${ms(ns.max)} ms`, target: '≤ 1500 ms', ok: ns.p50 <= 1500 });
  }
  const rr = f.restartToReady.summary;
  out.push({ metric: `  restart on a populated home, p50 / max (${rr.n}×)`, value: `${ms(rr.p50)} / ${ms(rr.max)} ms`, target: '≤ 1000 ms', ok: rr.p50 <= 1000 });
  const c = f.coldStart.summary;
  out.push({ metric: `cold start → first token, p50 / max (${c.n}×)`, value: `${ms(c.p50)} / ${ms(c.max)} ms`, target: '≤ 500 ms', ok: c.p50 <= 500 });
  out.push({ metric: 'execution plane idle RSS', value: `${mb(f.plane.idleRssBytes)} MB`, target: '≤ 60 MB', ok: f.plane.idleRssBytes <= 60 * 1024 * 1024 });
  out.push({
    metric: `  per extra idle session (${f.plane.sessions})`,
    value: `${kb(f.plane.perSessionBytes)} KB`,
    target: '≤ 512 KB',
    ok: f.plane.perSessionBytes <= 512 * 1024,
  });
  out.push({ metric: 'control plane idle RSS', value: `${mb(f.controlPlaneIdleRssBytes)} MB`, target: '—', ok: null });
  out.push({ metric: `  per open SSE connection (${f.sseConnections.connections})`, value: `${kb(f.sseConnections.perConnectionBytes)} KB`, target: '—', ok: null });
  const one = f.latency[0]!;
  out.push({
    metric: 'SSE bytes on the wire per text token',
    value: `${int(one.bytesPerTextToken)} B (frame alone ${int(one.textFrameBytes)} B)`,
    target: '≤ 200 B',
    ok: one.bytesPerTextToken <= 200,
  });
  const t = f.throughput;
  out.push({
    metric: `relay, events/s delivered end to end (${t.streams}×${t.tokensPerStream})`,
    value: int(t.eventsPerSec),
    target: '≥ 50,000',
    ok: t.eventsPerSec >= 50_000,
  });
  out.push({
    metric: '  control plane CPU per event → one-core ceiling',
    value: `${ms(t.cpuUsPerEvent.controlPlane)} µs → ${int(t.controlPlaneCapacityPerSec)}/s`,
    target: '≥ 50,000/s',
    ok: t.controlPlaneCapacityPerSec >= 50_000,
  });
  out.push({
    metric: '  control plane main thread (the relay) per event → its ceiling',
    value: `${ms(t.controlPlaneMainThreadUsPerEvent)} µs → ${int(t.controlPlaneMainThreadCapacityPerSec)}/s`,
    target: '—',
    ok: null,
  });
  out.push({
    metric: '  CPU per event: plane / mock / client',
    value: `${ms(t.cpuUsPerEvent.plane)} / ${ms(t.cpuUsPerEvent.mock)} / ${ms(t.cpuUsPerEvent.client)} µs`,
    target: '—',
    ok: null,
  });
  const g = f.graph;
  out.push({
    metric: `graph overhead per node, SemiGraph (disk checkpoints) p50 / p99`,
    value: `${g.semigraphDiskUs.p50} / ${g.semigraphDiskUs.p99} µs`,
    target: '—',
    ok: null,
  });
  out.push({ metric: '  SemiGraph without checkpoints | LangGraph.js + MemorySaver, p50', value: `${g.semigraphNoCheckpointUs.p50} | ${g.langgraphMemorySaverUs.p50} µs`, target: '—', ok: null });
  out.push({ metric: '  CPU per checkpoint, 50 sessions saving at once (all threads)', value: `${g.checkpointCpuUs} µs`, target: '—', ok: null });
  out.push({ metric: '  CPU per turn end on disk (checkpoint, transcripts, snapshot), 50 sessions at once', value: `${g.turnEndCpuUs} µs`, target: '—', ok: null });
  out.push({ metric: `  end-of-turn snapshot, ${g.snapshotMs.files} files in the work dir: after a tool turn | a model-only turn`, value: `${g.snapshotMs.afterToolTurn} | ${g.snapshotMs.afterModelOnlyTurn} ms`, target: '—', ok: null });
  const submit = f.batchSubmit;
  out.push({
    metric: `batch submit, ${submit.turnsPerBatch} turns a batch, ${submit.running} running, µs a turn p50 / p99 (session rows read a turn): ${submit.levels.map((l) => `${l.sessionsStored}`).join(' | ')} sessions stored`,
    value: submit.levels.map((l) => `${l.usPerTurn.p50} / ${l.usPerTurn.p99} (${l.sessionRowsReadPerTurn})`).join(' | '),
    target: '—',
    ok: null,
  });
  out.push({
    metric: `tool turn overhead over the tool's own time, p50 / max (${f.toolTurn.turns})`,
    value: `${ms(f.toolTurn.overheadMs.p50)} / ${ms(f.toolTurn.overheadMs.max)} ms`,
    target: '—',
    ok: null,
  });
  out.push({ metric: '  the tool itself (sleep 0.05 via run_command), p50', value: `${ms(f.toolTurn.toolMs.p50)} ms`, target: '—', ok: null });
  out.push({
    metric: `plane killed mid-answer → next event | → done, p50 (${f.recovery.kills}×)`,
    value: `${ms(f.recovery.toNextEventMs.p50)} | ${ms(f.recovery.toDoneMs.p50)} ms`,
    target: '—',
    ok: null,
  });
  const cut = f.socketCut;
  out.push({
    metric: `plane socket cut (ss -K) → reconnected, next event, p50 / max (${cut.cuts}×)`,
    value: cut.toNextEventMs ? `${ms(cut.toNextEventMs.p50)} / ${ms(cut.toNextEventMs.max)} ms${cut.sameAttempt ? ', same attempt' : ', RE-DELIVERED'}` : 'not measured (ss -K not permitted)',
    target: '—',
    ok: null,
  });
  return out;
}

export function formatTable(rs: Row[]): string {
  const head: Row = { metric: 'metric', value: 'value', target: 'target', ok: null };
  const wm = Math.max(...[head, ...rs].map((r) => r.metric.length));
  const wv = Math.max(...[head, ...rs].map((r) => r.value.length));
  const wt = Math.max(...[head, ...rs].map((r) => r.target.length));
  const line = (r: Row, mark: string) => `${r.metric.padEnd(wm)}  ${r.value.padEnd(wv)}  ${r.target.padEnd(wt)}  ${mark}`.trimEnd();
  const sep = '-'.repeat(wm + wv + wt + 9);
  return [line(head, ''), sep, ...rs.map((r) => line(r, r.ok === null ? '' : r.ok ? 'ok' : 'MISS'))].join('\n');
}

export interface ResultsFile {
  date: string;
  /** the command that produced the file */
  command: string;
  git: GitInfo;
  machine: Machine;
  /** 1/5/15-min load averages when the run ended (the start's are in `machine`) */
  loadAverageAtEnd: number[];
  config: BenchConfig;
  /** how the load was generated */
  client: string;
  figures: Figures;
  table: Row[];
  /** phases in ms since the control plane under test was spawned */
  timeline: Phase[];
}

/** bench/results/<YYYY-MM-DD>-<sha>.json */
export function writeResults(dir: string, results: ResultsFile): string {
  mkdirSync(dir, { recursive: true });
  // repeated runs of one build are kept side by side (-2, -3, ...): the spread between them is a figure too
  let file = path.join(dir, `${results.date}-${results.git.sha}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(dir, `${results.date}-${results.git.sha}-${n}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}
