import { expectComplete, type BenchContext } from './context.js';
import { cpuMs } from './procs.js';
import { productMessage } from './requests.js';
import { summarize, type Summary } from './stats.js';

/**
 * Many one-token turns at once, in rounds: what starting and ending a turn costs when every
 * stream of a busy user starts (or ends) together, as at the 200-stream level's edges, with next
 * to no token relay mixed in. At that level the added p99 sits mostly in the tokens that arrive
 * while turns start or end (LatencyFigure.byPhase), and a turn's own CPU, times 200, is what those
 * tokens queue behind on two cores. CPU is split into each process's main thread and the rest
 * (the control plane's rest: its database thread — embedded PGlite — and V8's helper threads,
 * which in a fresh process are mostly the JIT compiling, some GC: bench/README, sixth session).
 */
export interface TurnBurstFigure {
  /** turns per round (one per session, all posted at once) */
  turns: number;
  rounds: number;
  /** first POST → last `done`, per round */
  roundMs: Summary;
  /** POST → `done`, each turn of every round */
  doneMs: Summary;
  cpuUsPerTurn: { controlPlane: number; controlPlaneMain: number; plane: number; planeMain: number };
}

export async function turnBurst(ctx: BenchContext, turns: number, rounds: number): Promise<TurnBurstFigure> {
  const sessions = ctx.sessions.slice(0, turns);
  const round = async () => {
    const started = performance.now();
    const report = await ctx.client.run(
      {
        type: 'streams',
        requests: sessions.map((id) => productMessage(ctx.cp.url, ctx.user.auth, id, '/ts 1 0')),
        dialect: 'semibot',
        stamped: false,
        timeoutMs: ctx.cfg.jobTimeoutMs,
        concurrency: sessions.length,
      },
      ctx.cfg.jobTimeoutMs + 5_000,
    );
    expectComplete(report, 1, 'turn burst');
    return { ms: performance.now() - started, done: report.results.map((r) => r.totalMs) };
  };
  await round(); // unmeasured: this kind of turn's code warms up
  const cpu = () => ({
    controlPlane: cpuMs(ctx.cp.pid),
    controlPlaneMain: cpuMs(ctx.cp.pid, ctx.cp.pid),
    plane: cpuMs(ctx.planePid),
    planeMain: cpuMs(ctx.planePid, ctx.planePid),
  });
  const before = cpu();
  const measured: { ms: number; done: number[] }[] = [];
  for (let i = 0; i < rounds; i++) measured.push(await round());
  const after = cpu();
  const n = sessions.length * rounds;
  const perTurn = (k: keyof typeof before) => ((after[k] - before[k]) * 1000) / n;
  return {
    turns: sessions.length,
    rounds,
    roundMs: summarize(measured.map((r) => r.ms)),
    doneMs: summarize(measured.flatMap((r) => r.done)),
    cpuUsPerTurn: { controlPlane: perTurn('controlPlane'), controlPlaneMain: perTurn('controlPlaneMain'), plane: perTurn('plane'), planeMain: perTurn('planeMain') },
  };
}

export function formatTurnBurst(f: TurnBurstFigure): string {
  const c = f.cpuUsPerTurn;
  const us = (v: number) => Math.round(v).toString();
  return (
    `turn burst (${f.turns} one-token turns at once, ${f.rounds} rounds): round p50 ${Math.round(f.roundMs.p50)} ms, POST → done p50/p99 ${Math.round(f.doneMs.p50)}/${Math.round(f.doneMs.p99)} ms; ` +
    `CPU µs/turn: control plane ${us(c.controlPlane)} (main ${us(c.controlPlaneMain)}, other threads ${us(c.controlPlane - c.controlPlaneMain)}), plane ${us(c.plane)} (main ${us(c.planeMain)})`
  );
}
