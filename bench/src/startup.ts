import { newSessions, newUser, type BenchUser } from './api.js';
import { expectComplete, type BenchContext } from './context.js';
import { startControlPlane, type ControlPlaneProc } from './platform.js';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { childPids, sleep } from './procs.js';
import { productMessage } from './requests.js';
import { summarize, type Summary } from './stats.js';

/** Start-up costs: a control plane from spawn to ready, and a user's first turn with no plane yet. */

export interface ReadyFigure {
  samplesMs: number[];
  summary: Summary;
}

/**
 * Control plane spawn → ready (its "ready" log line, written when /readyz turns 200), each time on
 * a fresh SEMIBOT_HOME (migrations included), `reps` throw-away processes.
 * Each one is left running until it has made the next fresh home's spare copy of the database
 * template (a few seconds after ready), as any start that lives that long does — so every
 * sample is a fresh home as a user's next `npm start` would find it. `withoutSpare` measures the
 * other case too: the spare moved away, so the start copies the template itself.
 */
export async function startToReady(llmUrl: string, reps: number): Promise<ReadyFigure> {
  const samplesMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    await waitForSpare(10_000);
    const cp = await startControlPlane({ llmUrl, readyFromLog: true });
    samplesMs.push(cp.readyMs);
    await waitForSpare(10_000);
    await cp.dispose();
  }
  return { samplesMs, summary: summarize(samplesMs) };
}

/**
 * `npm start` → ready, as a user types it in this checkout with nothing changed since the last
 * build (the start's own check of what to rebuild is part of the figure), each on a fresh home.
 */
export async function npmStartToReady(llmUrl: string, reps: number): Promise<ReadyFigure> {
  const samplesMs: number[] = [];
  // the first start after `npm run build` compiles once (it checks TypeScript itself, with a stamp
  // the build does not leave): not measured
  if (reps > 0) await (await startControlPlane({ llmUrl, readyFromLog: true, viaNpmStart: true, timeoutMs: 120_000 })).dispose();
  for (let i = 0; i < reps; i++) {
    await waitForSpare(10_000);
    const cp = await startControlPlane({ llmUrl, readyFromLog: true, viaNpmStart: true });
    samplesMs.push(cp.readyMs);
    await waitForSpare(10_000);
    await cp.dispose();
  }
  return { samplesMs, summary: summarize(samplesMs) };
}

export async function startToReadyWithoutSpare(llmUrl: string, reps: number): Promise<ReadyFigure> {
  const samplesMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    await waitForSpare(10_000);
    const aside = spares().map((dir) => {
      renameSync(dir, `${dir}.bench-aside`);
      return dir;
    });
    try {
      const cp = await startControlPlane({ llmUrl, readyFromLog: true });
      samplesMs.push(cp.readyMs);
      await cp.dispose();
    } finally {
      for (const dir of aside) {
        if (existsSync(dir)) rmSync(`${dir}.bench-aside`, { recursive: true, force: true });
        else renameSync(`${dir}.bench-aside`, dir);
      }
    }
  }
  return { samplesMs, summary: summarize(samplesMs) };
}

/** The spare copies of embedded-database templates (see the control plane's pglite-template.ts). */
function spares(): string[] {
  const dir = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'semibot');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith('.spare')).map((n) => path.join(dir, n));
}

/** Until a spare copy of the template exists again (a start that took one makes the next), or `timeoutMs`. */
export async function waitForSpare(timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (spares().length === 0 && performance.now() < end) await sleep(50);
}

export interface RestartFigure {
  /** a restart on a populated home: the database exists, migrations have nothing to do */
  samplesMs: number[];
  summary: Summary;
}

/**
 * Stops the control plane under test and starts it again on the same home, `reps` times; returns
 * the figure and the control plane now running (which the caller disposes of).
 */
export async function restartToReady(
  cp: ControlPlaneProc,
  llmUrl: string,
  reps: number,
): Promise<{ figure: RestartFigure; cp: ControlPlaneProc }> {
  const samplesMs: number[] = [];
  let current = cp;
  for (let i = 0; i < reps; i++) {
    await current.stop();
    current = await startControlPlane({ llmUrl, home: cp.home, readyFromLog: true });
    samplesMs.push(current.readyMs);
  }
  return { figure: { samplesMs, summary: summarize(samplesMs) }, cp: current };
}

export interface ColdStart {
  user: BenchUser;
  sessionId: string;
  planePid: number;
  firstTokenMs: number;
}

export interface ColdStartFigure {
  samplesMs: number[];
  summary: Summary;
}

/**
 * A fresh user's first message: POST → first `text` frame, which includes starting the user's
 * execution plane (`process` mode), its connect, and the model call. Setup (register, agent,
 * session) is not timed. The new plane's pid is found as the control plane's new child.
 */
export async function coldStart(ctx: Pick<BenchContext, 'cp' | 'client' | 'cfg'>): Promise<ColdStart> {
  const user = await newUser(ctx.cp.url);
  const [sessionId] = await newSessions(ctx.cp.url, user, 1);
  const before = new Set(childPids(ctx.cp.pid));
  const report = await ctx.client.run(
    {
      type: 'streams',
      requests: [productMessage(ctx.cp.url, user.auth, sessionId!, '/ts 1 0')],
      dialect: 'semibot',
      stamped: false,
      timeoutMs: ctx.cfg.jobTimeoutMs,
      concurrency: 1,
    },
    ctx.cfg.jobTimeoutMs + 5_000,
  );
  expectComplete(report, 1, 'cold start');
  const planes = childPids(ctx.cp.pid).filter((pid) => !before.has(pid));
  if (planes.length !== 1) throw new Error(`cold start: expected one new execution plane, found ${planes.length}`);
  return { user, sessionId: sessionId!, planePid: planes[0]!, firstTokenMs: report.results[0]!.firstTextMs! };
}

export function coldStartFigure(runs: ColdStart[]): ColdStartFigure {
  const samplesMs = runs.map((r) => r.firstTokenMs);
  return { samplesMs, summary: summarize(samplesMs) };
}
