import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newSessions } from './api.js';
import { FULL, SMOKE } from './config.js';
import { tokenLatencyPasses, warmTurns, type LatencyFigure } from './latency.js';
import { prepareLatencyUser } from './latency-user.js';
import { LoadClient } from './load-client.js';
import { describeMachine, gitInfo } from './machine.js';
import { planeMemory, sseConnectionMemory } from './memory.js';
import { paths, startControlPlane, startMock } from './platform.js';
import { rssBytes, settledRss } from './procs.js';
import { formatTable, rows, writeResults, type Figures } from './report.js';
import { coldStart, coldStartFigure, npmStartToReady, restartToReady, startToReady, startToReadyWithoutSpare, waitForSpare, type ColdStart } from './startup.js';
import { relayThroughput } from './throughput.js';
import { Timeline } from './timeline.js';
import { batchSubmit, formatBatchSubmit } from './batch-submit.js';
import { measureGraphOverhead } from './graph-overhead.js';
import { planeKillRecovery, socketCutRecovery, toolTurns } from './recovery.js';
import { formatHa, haBench } from './ha.js';
import { vmModesBench } from './vm-modes.js';
import { openclawBench } from './openclaw.js';
import { hopFloor } from './hop-floor.js';
import { longSession, type LongSessionFigure } from './long-session.js';
import { formatTurnBurst, turnBurst } from './turn-burst.js';
import { formatGcOverlap, startGcLog } from './gc-pauses.js';
import { writeFileSync } from 'node:fs';

/**
 * `npm run bench`. Flags: `--smoke` (a tiny run that writes nothing), `--cpu-prof[=dir]` (profile
 * the control plane under test; default dir bench/profiles; figures of a profiled run are not
 * written to results). Starts the mock model, the load client and the control plane as separate
 * processes, measures, prints the table and writes bench/results/<date>-<sha>.json.
 */

const args = process.argv.slice(2);
const cfg = args.includes('--smoke') ? SMOKE : FULL;
const profArg = args.find((a) => a === '--cpu-prof' || a.startsWith('--cpu-prof='));
// --only=warm,burst,latency,relay,memory: just those phases, printed as measured (no table, no results
// file) — for iterating on one figure, e.g. with --cpu-prof
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
// --streams=200 (with --only=latency): just the latency levels of those stream counts, in the
// order given (--streams=200,1 measures one stream after the code ran hot under load)
const streamsArg = args.find((a) => a.startsWith('--streams='));
const levels = streamsArg ? streamsArg.slice('--streams='.length).split(',').map(Number) : null;
// --stored=20000 (with --only): that many more sessions of the latency user's org stored before the
// phases run, none of them used: does a turn's cost grow with what the database holds?
const storedArg = args.find((a) => a.startsWith('--stored='));
const stored = storedArg ? Number(storedArg.slice('--stored='.length)) : 0;
// --gc-pauses (with --only=latency): the control plane and its planes log their collections, and each
// latency pass says how many of its slowest tokens were in flight during one (gc-pauses.ts)
const gcLog = args.includes('--gc-pauses') ? startGcLog() : null;
const profDir = profArg ? path.resolve(profArg.split('=')[1] ?? path.join(paths.root, 'bench/profiles')) : null;

const disposers: (() => unknown)[] = [];
const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const fail = (why: string): never => {
  throw new Error(why);
};
const ms = (v: number) => v.toFixed(v < 10 ? 2 : 0);

async function shutdown(): Promise<void> {
  for (const d of disposers.reverse()) await Promise.resolve(d()).catch(() => {});
  disposers.length = 0;
}

async function run(): Promise<void> {
  const started = performance.now();
  const machine = describeMachine();
  const git = gitInfo(paths.root);
  say(`${cfg.smoke ? 'smoke run' : 'full run'} on ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}`);
  if (machine.loadAverage[0]! > 0.5 * machine.cores) {
    say(`warning: load average ${machine.loadAverage.join(' ')} — other work on this machine will skew the figures`);
  }
  const mock = await startMock();
  disposers.push(() => mock.stop());
  const client = LoadClient.start();
  disposers.push(() => client.stop());

  if (args.includes('--ha')) return runHa(machine, git);
  if (args.includes('--vm-modes')) return runVmModes(machine, git);
  if (args.includes('--openclaw')) return runOpenClaw(machine, git, mock);
  if (profDir) mkdirSync(profDir, { recursive: true });
  if (gcLog && !only) throw new Error('--gc-pauses goes with --only=latency: its observers would be in every figure of a full run');
  if (gcLog) disposers.push(() => rmSync(gcLog.dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ llmUrl: mock.url, execArgv: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [], ...(gcLog ? { env: gcLog.env } : {}) });
  disposers.push(() => cp.dispose());
  const t = new Timeline();
  t.anchor(cp.spawnedAt);
  if (only) return runOnly(only, t, cp, client, mock);
  const controlPlaneIdleRssBytes = await t.run('idle rss', () => settledRss(cp.pid));
  // more fresh-home starts (the control plane under test is one sample), while it idles
  const ready = await t.run('start → ready (others)', () => startToReady(mock.url, cfg.readyStarts));
  say(`control plane start → ready: ${ready.samplesMs.map(ms).join(', ')} ms`);
  const readyNoSpare = await t.run('start → ready, no spare', () => startToReadyWithoutSpare(mock.url, cfg.readyStarts));
  say(`control plane start → ready, template copied: ${readyNoSpare.samplesMs.map(ms).join(', ')} ms`);
  const npmStart = await t.run('npm start → ready', () => npmStartToReady(mock.url, cfg.readyStarts));
  say(`npm start → ready (nothing changed): ${npmStart.samplesMs.map(ms).join(', ')} ms`);

  const colds: ColdStart[] = [];
  await t.run('cold starts', async () => {
    for (let i = 0; i < cfg.coldStarts; i++) colds.push(await coldStart({ cp, client, cfg }));
  });
  say(`cold start → first token: ${colds.map((c) => ms(c.firstTokenMs)).join(', ')} ms`);

  const ctx = await t.run('latency user warm-up', () => prepareLatencyUser(cfg, client, mock, cp));
  say(`${ctx.sessions.length} sessions warmed on plane ${ctx.planePid}`);

  const sseConnections = await t.run('sse connections', () => sseConnectionMemory(ctx));
  say(`SSE connections: ${(sseConnections.perConnectionBytes / 1024).toFixed(1)} KB each`);

  const warmTurn = await t.run('warm turns', () => warmTurns(ctx));
  say(`warm turn overhead p50 ${ms(warmTurn.overheadMs.p50)} ms, max ${ms(warmTurn.overheadMs.max)} ms`);

  const burst = await t.run('turn burst', () => turnBurst(ctx, cfg.turnBurst.turns, cfg.turnBurst.rounds));
  say(formatTurnBurst(burst));

  const floor = await t.run('hop floor', () => hopFloor({ messages: cfg.hopFloorMessages, gapMs: cfg.latency[0]!.delayMs }));
  say(`hop floor: two bare relays add p50 ${ms(floor.twoHopsAddedUs.p50 / 1000)} ms, p99 ${ms(floor.twoHopsAddedUs.p99 / 1000)} ms`);

  const latency: LatencyFigure[] = [];
  for (const level of cfg.latency) {
    latency.push(await t.run(`latency ${level.streams} streams`, () => tokenLatencyPasses(ctx, level, cfg.latencyPasses)));
    const a = latency.at(-1)!.addedMs;
    say(`${level.streams} streams: added p50 ${ms(a.p50)} ms, p99 ${ms(a.p99)} ms (passes' p99 ${formatPasses(latency.at(-1)!)} ms)`);
    say(formatBareRelays(latency.at(-1)!));
    say(formatPhases(latency.at(-1)!));
  }

  const throughput = await t.run('relay throughput', () => relayThroughput(ctx));
  say(`relay: ${Math.round(throughput.eventsPerSec)} events/s, control plane ${ms(throughput.cpuUsPerEvent.controlPlane)} µs/event`);

  const long = await t.run('long session', () => longSession(ctx, cfg.longSessionTurns));
  say(formatLongSession(long));

  const plane = await t.run('plane memory', () => planeMemory(ctx, colds[0]!.user, colds[0]!.planePid));
  const controlPlaneRssAfterLoadBytes = rssBytes(cp.pid) ?? NaN;

  const graph = await t.run('graph overhead', () => measureGraphOverhead(cfg.smoke ? 5 : 100));
  say(formatGraph(graph));
  const submit = await t.run('batch submit', () => batchSubmit(cfg.batchSubmit));
  say(formatBatchSubmit(submit));
  const toolTurn = await t.run('tool turns', () => toolTurns(cp, cfg.smoke ? 2 : 20));
  say(`tool turn overhead p50 ${ms(toolTurn.overheadMs.p50)} ms`);
  const recovery = await t.run('plane kills', () => planeKillRecovery(cp, cfg.smoke ? 1 : 3));
  say(`plane kill → next event p50 ${ms(recovery.toNextEventMs.p50)} ms, → done ${ms(recovery.toDoneMs.p50)} ms`);
  const socketCut = await t.run('socket cuts', () => socketCutRecovery(cp, cfg.smoke ? 1 : 3));
  say(socketCut.toNextEventMs ? `socket cut → next event p50 ${ms(socketCut.toNextEventMs.p50)} ms` : 'socket cut: ss -K not permitted here, not measured');

  const restart = await t.run('restarts', () => restartToReady(cp, mock.url, cfg.restarts));
  disposers.push(() => restart.cp.dispose());
  say(`control plane restart → ready: ${restart.figure.samplesMs.map(ms).join(', ')} ms`);

  const figures: Figures = {
    latency,
    hopFloor: floor,
    warmTurn,
    turnBurst: burst,
    longSession: long,
    startToReady: ready,
    startToReadyNoSpare: readyNoSpare,
    npmStartToReady: npmStart,
    restartToReady: restart.figure,
    coldStart: coldStartFigure(colds),
    throughput,
    controlPlaneIdleRssBytes,
    controlPlaneRssAfterLoadBytes,
    sseConnections,
    plane,
    graph,
    batchSubmit: submit,
    toolTurn,
    recovery,
    socketCut,
  };
  const table = rows(figures);
  process.stdout.write(`\n${formatTable(table)}\n\n`);
  process.stdout.write(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, node ${machine.node}, ${machine.os}, load at start ${machine.loadAverage.join(' ')}\n`,
  );
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (profDir) {
    process.stdout.write(`phases, ms since the profiled control plane was spawned:\n${t.format()}\n`);
    process.stdout.write(`profile: ${profDir} (summarise: node bench/dist/profile-summary.js <file> --from <ms> --to <ms>)\n`);
  } else if (!cfg.smoke) {
    const file = writeResults(path.join(paths.root, 'bench/results'), {
      date: new Date().toISOString().slice(0, 10),
      command: 'npm run bench',
      git,
      machine,
      loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))),
      config: cfg,
      client:
        'separate Node process (child_process.fork), node:http with keep-alive, hand-rolled SSE parsing; the same code reads product and baseline',
      figures,
      table,
      timeline: t.phases,
    });
    process.stdout.write(`results: ${path.relative(paths.root, file)}\n`);
  }
}

/**
 * --ha: one replica vs three (PostgreSQL + Redis), side by side; needs a PostgreSQL server and a
 * Redis (SEMIBOT_BENCH_DATABASE_URL / SEMIBOT_BENCH_REDIS_URL, default: the local ones).
 */
async function runHa(machine: ReturnType<typeof describeMachine>, git: ReturnType<typeof gitInfo>): Promise<void> {
  const { mock, client } = await mockAndClient();
  const figures = await haBench({
    cfg,
    client,
    mock,
    databaseUrl: process.env.SEMIBOT_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.SEMIBOT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    say,
    disposers,
  });
  process.stdout.write(`\n${formatHa(figures)}\n\n`);
  process.stdout.write(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, node ${machine.node}, ${machine.os}\n`);
  if (!cfg.smoke) writeKindResults('ha', { command: 'npm run bench -- --ha', git, machine, figures }, git.sha);
}

async function mockAndClient() {
  const mock = await startMock();
  disposers.push(() => mock.stop());
  const client = LoadClient.start();
  disposers.push(() => client.stop());
  return { mock, client };
}

/** bench/results/<date>-<sha>-<kind>.json; repeated runs of one build side by side (-2, -3, ...). */
function writeKindResults(kind: string, results: unknown, sha: string): void {
  const dir = path.join(paths.root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = `${new Date().toISOString().slice(0, 10)}-${sha}-${kind}`;
  let file = path.join(dir, `${base}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(dir, `${base}-${n}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`results: ${path.relative(paths.root, file)}\n`);
}

/** --vm-modes: cold start per VM mode (process, docker, microvm), side by side; needs a Docker engine and QEMU. */
async function runVmModes(machine: ReturnType<typeof describeMachine>, git: ReturnType<typeof gitInfo>): Promise<void> {
  const { mock, client } = await mockAndClient();
  const figures = await vmModesBench({ cfg, client, mock, samples: cfg.smoke ? 1 : 7, say, disposers });
  const line = (m: keyof typeof figures.coldStartMs) => {
    const s = figures.coldStartMs[m].summary;
    return `| ${m.padEnd(7)} | ${s.p50.toFixed(0).padStart(5)} | ${s.max.toFixed(0).padStart(5)} |`;
  };
  process.stdout.write(`\n| mode    | cold start → first token p50 ms | max |\n|---|---|---|\n${line('process')}\n${line('docker')}\n${line('microvm')}\n\nplane image build: ${Math.round(figures.imageBuildMs)} ms; microVM image build: ${Math.round(figures.microvm.imageBuildMs)} ms; microVM accel: ${figures.microvm.accel}\n`);
  process.stdout.write(`machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.os}\n`);
  if (!cfg.smoke) writeKindResults('vm-modes', { command: 'npm run bench -- --vm-modes', git, machine, figures }, git.sha);
}

async function runOpenClaw(machine: ReturnType<typeof describeMachine>, git: ReturnType<typeof gitInfo>, mock: Awaited<ReturnType<typeof startMock>>): Promise<void> {
  const f = await openclawBench({ cfg, mock, turns: cfg.smoke ? 2 : 30, say, disposers });
  const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
  const row = (name: string, x: { p50: number; p99: number }, y: { p50: number; p99: number }, z: { p50: number; p99: number }) =>
    `| ${name} | ${ms(x.p50)} / ${ms(x.p99)} | ${ms(y.p50)} / ${ms(y.p99)} | ${ms(z.p50)} / ${ms(z.p99)} |`;
  process.stdout.write(
    [
      '',
      `OpenClaw ${f.version}, ${f.turns} warm turns each, alternating (ms, p50 / p99)`,
      '| figure | OpenClaw gateway direct | through Semibot | Semibot adds |',
      '|---|---|---|---|',
      row('turn (send → done)', f.direct.turnMs, f.semibot.turnMs, f.overheadMs.turn),
      row('first text', f.direct.firstTextMs, f.semibot.firstTextMs, f.overheadMs.firstText),
      `cold first turn (gateway start included): direct ${ms(f.coldFirstTurnMs.direct)} ms, through Semibot ${ms(f.coldFirstTurnMs.semibot)} ms`,
      `idle RSS: OpenClaw gateway (with its helpers) ${mb(f.idleRssBytes.gatewayAlone)}; Semibot plane + its gateway ${mb(f.idleRssBytes.semibotPlaneAndGateway)} (plane daemon ${mb(f.idleRssBytes.planeDaemon)})`,
      `machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.os}`,
      '',
    ].join('\n'),
  );
  if (!cfg.smoke) writeKindResults('openclaw', { command: 'npm run bench -- --openclaw', git, machine, figures: f }, git.sha);
}

function formatLongSession(l: LongSessionFigure): string {
  const w = (x: LongSessionFigure['first']) =>
    `turns ${x.from + 1}–${x.from + x.turns}: CPU µs/turn control plane ${ms(x.cpuUsPerTurn.controlPlane)}, plane ${ms(x.cpuUsPerTurn.plane)}; ` +
    `KB written/turn ${ms(x.bytesPerTurn.controlPlane / 1024)}, ${ms(x.bytesPerTurn.plane / 1024)}; POST → done p50 ${ms(x.doneMsP50)} ms`;
  return `long session (${l.turns} turns): ${w(l.first)} | ${w(l.last)}`;
}

const formatPasses = (f: LatencyFigure) => f.passes.map((p) => ms(p.p99)).join(', ');
const formatPhases = (f: LatencyFigure) => {
  const p = (x: LatencyFigure['byPhase']['starting']) =>
    x.share > 0 ? `${Math.round(x.share * 100)} % of tokens, added p50/p99 ${ms(x.addedMs.p50)}/${ms(x.addedMs.p99)} ms` : 'no tokens';
  return `  while turns start: ${p(f.byPhase.starting)}; all streaming: ${p(f.byPhase.streaming)}; turns ending: ${p(f.byPhase.ending)}`;
};

const formatBareRelays = (f: LatencyFigure) =>
  `  two bare relays (middle hop ${f.bareRelays.middle}), same load: add p50 ${ms(f.bareRelays.addedMs.p50)} ms, p99 ${ms(f.bareRelays.addedMs.p99)} ms (passes' p99 ${f.passes.map((p) => ms(p.bareRelaysP99)).join(', ')} ms), ${ms(f.bareRelays.cpuUsPerToken)} µs CPU/token`;

const formatGraph = (g: Awaited<ReturnType<typeof measureGraphOverhead>>) =>
  `graph: ${g.semigraphDiskUs.p50} µs/node (disk checkpoints), LangGraph.js ${g.langgraphMemorySaverUs.p50} µs/node; CPU per checkpoint ${g.checkpointCpuUs} µs, per turn end ${g.turnEndCpuUs} µs; snapshot with ${g.snapshotMs.files} files ${g.snapshotMs.afterToolTurn} ms after a tool turn, ${g.snapshotMs.afterModelOnlyTurn} ms after a model-only one`;

/** The phases named by --only, each printed when measured. */
async function runOnly(
  names: Set<string>,
  t: Timeline,
  cp: Awaited<ReturnType<typeof startControlPlane>>,
  client: LoadClient,
  mock: Awaited<ReturnType<typeof startMock>>,
): Promise<void> {
  const known = ['warm', 'burst', 'latency', 'relay', 'memory', 'floor', 'long', 'graph', 'submit'];
  const unknown = [...names].filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`--only: unknown phase ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const ctx = await t.run('latency user warm-up', () => prepareLatencyUser(cfg, client, mock, cp));
  if (gcLog) ctx.gcLog = gcLog;
  if (stored > 0) {
    await t.run('stored sessions', () => newSessions(cp.url, ctx.user, stored, 16));
    say(`${stored} more sessions stored in the latency user's org`);
  }
  // a fresh home's control plane copies the next spare database 3 s after ready (pglite-template.ts),
  // two files at a time: ~3 s on a loaded 2-core VM, past the warm-up when the machine is slower
  // still (it was, with a tracer attached). Measured here only once it is made (the full run has
  // measured other things by then).
  await new Promise((r) => setTimeout(r, Math.max(0, cp.spawnedAt + 4_000 - performance.now())));
  await waitForSpare(20_000);
  if (names.has('graph')) say(formatGraph(await t.run('graph overhead', () => measureGraphOverhead(100))));
  if (names.has('submit')) say(formatBatchSubmit(await t.run('batch submit', () => batchSubmit(cfg.batchSubmit))));
  if (names.has('warm')) {
    const w = await t.run('warm turns', () => warmTurns(ctx));
    say(`warm turn overhead p50 ${ms(w.overheadMs.p50)} ms, max ${ms(w.overheadMs.max)} ms; POST → run p50 ${ms(w.productRunFrameMs.p50)} ms, → done ${ms(w.productDoneMs.p50)} ms`);
    const c = w.cpuUsPerTurn;
    say(`  CPU µs/turn: control plane ${ms(c.controlPlane)} (main ${ms(c.controlPlaneMain)}), plane ${ms(c.plane)}, mock ${ms(c.mock)}, client ${ms(c.client)}`);
  }
  if (names.has('burst')) say(formatTurnBurst(await t.run('turn burst', () => turnBurst(ctx, cfg.turnBurst.turns, cfg.turnBurst.rounds))));
  if (names.has('floor')) {
    const f = await t.run('hop floor', () => hopFloor({ messages: cfg.hopFloorMessages, gapMs: cfg.latency[0]!.delayMs }));
    say(`hop floor, one way µs p50/p99 through 0, 1, 2 relays: ${f.oneWayUs.map((s) => `${Math.round(s.p50)}/${Math.round(s.p99)}`).join(', ')}`);
  }
  if (names.has('latency')) {
    const chosen = levels ? levels.map((n) => cfg.latency.find((l) => l.streams === n) ?? fail(`--streams: no latency level of ${n} streams`)) : cfg.latency;
    for (const level of chosen) {
      const f = await t.run(`latency ${level.streams} streams`, () => tokenLatencyPasses(ctx, level, cfg.latencyPasses));
      say(`${level.streams} streams: added p50 ${ms(f.addedMs.p50)} ms, p99 ${ms(f.addedMs.p99)} ms (passes' p99 ${formatPasses(f)} ms); steady ${ms(f.steady.addedMs.p50)} / ${ms(f.steady.addedMs.p99)} ms`);
      say(formatBareRelays(f));
      say(formatPhases(f));
      say(`  request → first token p50/p99: product ${ms(f.firstTokenMs.product.p50)}/${ms(f.firstTokenMs.product.p99)} ms (run frame ${ms(f.firstTokenMs.productRunFrame.p50)}/${ms(f.firstTokenMs.productRunFrame.p99)}), baseline ${ms(f.firstTokenMs.baseline.p50)}/${ms(f.firstTokenMs.baseline.p99)} ms`);
      const c = f.cpuUsPerToken;
      say(`  CPU µs/token: control plane ${ms(c.controlPlane)} (main ${ms(c.controlPlaneMain)}), plane ${ms(c.plane)}, mock ${ms(c.mock)}, client ${ms(c.client)}; baseline mock ${ms(c.baselineMock)}, client ${ms(c.baselineClient)}`);
      if (gcLog) for (const line of formatGcOverlap(f.passes.flatMap((p) => (p.gc ? [p.gc] : [])))) say(`  ${line}`);
    }
  }
  if (names.has('relay')) {
    const r = await t.run('relay throughput', () => relayThroughput(ctx));
    const c = r.cpuUsPerEvent;
    say(`relay: ${Math.round(r.eventsPerSec)} events/s; CPU µs/event: control plane ${ms(c.controlPlane)} (main thread ${ms(r.controlPlaneMainThreadUsPerEvent)}), plane ${ms(c.plane)}, mock ${ms(c.mock)}, client ${ms(c.client)}`);
  }
  if (names.has('long')) say(formatLongSession(await t.run('long session', () => longSession(ctx, cfg.longSessionTurns))));
  if (names.has('memory')) {
    const cold = await coldStart({ cp, client, cfg });
    const m = await t.run('plane memory', () => planeMemory(ctx, cold.user, cold.planePid));
    say(`plane idle RSS ${(m.idleRssBytes / 2 ** 20).toFixed(1)} MB, per extra session ${(m.perSessionBytes / 1024).toFixed(1)} KB`);
  }
  if (profDir) process.stdout.write(`phases, ms since the profiled control plane was spawned:\n${t.format()}\n`);
}

const deadline = setTimeout(() => {
  say(`deadline of ${cfg.deadlineMs} ms exceeded; stopping`);
  void shutdown().finally(() => process.exit(1));
}, cfg.deadlineMs);

run().then(
  async () => {
    clearTimeout(deadline);
    await shutdown();
    process.exit(0);
  },
  async (err: unknown) => {
    clearTimeout(deadline);
    say(`failed: ${(err as Error).stack ?? String(err)}`);
    await shutdown();
    process.exit(1);
  },
);
