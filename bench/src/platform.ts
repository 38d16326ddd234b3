import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_PLANE_NODE_FLAGS } from '@semibot/control-plane';
import { listeningPort, sleep } from './procs.js';

/** Starts the real product as separate processes, exactly as a user would: `node [flags] <dist>/main.js`. */

// SEMIBOT_BENCH_ROOT: measure another built checkout (e.g. a git worktree of an earlier commit)
// with this bench, for an A/B of the same figures run by run on the same machine
const root = process.env.SEMIBOT_BENCH_ROOT ? path.resolve(process.env.SEMIBOT_BENCH_ROOT) : fileURLToPath(new URL('../../', import.meta.url));
export const paths = {
  root,
  controlPlane: path.join(root, 'apps/control-plane/dist/main.js'),
  mockLlm: path.join(root, 'packages/mock-llm/dist/main.js'),
};

export interface Proc {
  pid: number;
  child: ChildProcess;
  /** the last few KB of the process's output, for error messages */
  tail(): string;
  stop(): Promise<void>;
}

/** `group`: the child leads a process group (npm and what it runs), stopped as one */
function track(child: ChildProcess, group = false): Proc {
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-8192);
  };
  // always drained: a full pipe would block the product's logger
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid!,
    child,
    tail: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = (signal: NodeJS.Signals) => (group ? process.kill(-child.pid!, signal) : child.kill(signal));
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface MockProc extends Proc {
  /** base URL ending in /v1 */
  url: string;
}

export async function startMock(): Promise<MockProc> {
  const child = spawn(process.execPath, [paths.mockLlm], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock-llm did not start:\n${proc.tail()}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(c.toString());
      if (m) (clearTimeout(timer), resolve(m[1]!));
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`mock-llm exited with ${code}:\n${proc.tail()}`))));
  });
  return { ...proc, url };
}

export interface ControlPlaneProc extends Proc {
  url: string;
  home: string;
  /** performance.now() at spawn: time zero of its --cpu-prof profile */
  spawnedAt: number;
  /** spawn → first 200 from /readyz, ms */
  readyMs: number;
  /** stops the process and deletes its home (`stop()` keeps it, for a restart) */
  dispose(): Promise<void>;
}

export interface ControlPlaneOptions {
  llmUrl: string;
  /** extra environment */
  env?: Record<string, string>;
  /** node flags before the script, e.g. --cpu-prof (Node 20 refuses it in NODE_OPTIONS) */
  execArgv?: string[];
  /** an existing SEMIBOT_HOME (a restart) @default a fresh temporary directory */
  home?: string;
  /**
   * Take readiness from the control plane's own "ready" log line (LOG_LEVEL=info) instead of
   * polling: for start-up figures, where a poll every 2 ms from this process would take CPU from
   * the start being measured (2 cores). The line is written once /readyz would answer 200.
   */
  readyFromLog?: boolean;
  /** start it as a user does, with `npm start` in the checkout (which builds what changed first) */
  viaNpmStart?: boolean;
  timeoutMs?: number;
}

/**
 * Spawns `node <CONTROL_PLANE_NODE_FLAGS> apps/control-plane/dist/main.js` (the flags `npm start`
 * runs it with) on a fresh SEMIBOT_HOME with PORT=0 and waits for /readyz. The port is read from
 * /proc (the log level is warn, so the address is never printed); both the port lookup and the
 * readiness probe poll every 2 ms, which bounds the error of `readyMs`.
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlaneProc> {
  const home = o.home ?? mkdtempSync(path.join(tmpdir(), 'semibot-bench-'));
  const started = performance.now();
  const [cmd, args] = o.viaNpmStart ? ['npm', ['start', '--silent']] : [process.execPath, [...CONTROL_PLANE_NODE_FLAGS, ...(o.execArgv ?? []), paths.controlPlane]];
  const child = spawn(cmd, args, {
    cwd: paths.root,
    detached: o.viaNpmStart === true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SEMIBOT_HOME: home,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: o.readyFromLog ? 'info' : 'warn',
      SEMIBOT_LLM_BASE_URL: o.llmUrl,
      SEMIBOT_LLM_API_KEY: 'bench',
      SEMIBOT_LLM_MODEL: 'mock-1',
      // experiments with the control plane's and the planes' Node flags (see process-driver.ts) pass through
      ...(process.env.SEMIBOT_CP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SEMIBOT_CP_NODE_OPTIONS } : {}),
      ...(process.env.SEMIBOT_PLANE_NODE_OPTIONS ? { SEMIBOT_PLANE_NODE_OPTIONS: process.env.SEMIBOT_PLANE_NODE_OPTIONS } : {}),
      // SEMIBOT_PLANE_SOCKET=on: planes dial the control plane's Unix socket (an A/B against TCP)
      ...(process.env.SEMIBOT_PLANE_SOCKET ? { SEMIBOT_PLANE_SOCKET: process.env.SEMIBOT_PLANE_SOCKET } : {}),
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child, o.viaNpmStart === true);
  const deadline = started + (o.timeoutMs ?? 30_000);
  const fail = async (why: string): Promise<never> => {
    await proc.stop();
    if (!o.home) rmSync(home, { recursive: true, force: true });
    throw new Error(`control plane ${why}:\n${proc.tail()}`);
  };
  if (o.readyFromLog) {
    const line = await readyLine(child, deadline);
    if (!line) return fail(child.exitCode !== null ? `exited with ${child.exitCode}` : 'was not ready in time');
    const readyMs = line.at - started;
    return { ...proc, url: line.address, home, spawnedAt: started, readyMs, dispose: async () => (await proc.stop(), rmSync(home, { recursive: true, force: true })) };
  }
  let port: number | null = null;
  while (port === null) {
    if (child.exitCode !== null) return fail(`exited with ${child.exitCode}`);
    if (performance.now() > deadline) return fail('did not listen in time');
    port = listeningPort(child.pid!);
    if (port === null) await sleep(2);
  }
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) return fail(`exited with ${child.exitCode}`);
    if (performance.now() > deadline) return fail('was not ready in time');
    const ok = (await statusOf(`${url}/readyz`)) === 200;
    if (ok) break;
    await sleep(2);
  }
  const readyMs = performance.now() - started;
  return {
    ...proc,
    url,
    home,
    spawnedAt: started,
    readyMs,
    async dispose() {
      await proc.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The time the "control plane ready" JSON log line arrived, and the address it names. */
function readyLine(child: ChildProcess, deadline: number): Promise<{ at: number; address: string } | null> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: { at: number; address: string } | null) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(v);
    };
    const onData = (c: Buffer) => {
      const at = performance.now();
      buf += c.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('control plane ready')) continue;
        const address = (JSON.parse(line) as { address?: string }).address;
        if (address) return done({ at, address: address.replace('0.0.0.0', '127.0.0.1') });
      }
    };
    const onExit = () => done(null);
    const timer = setTimeout(() => done(null), Math.max(0, deadline - performance.now()));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** GET → status code (0 on a connection error); plain node:http so the probe itself costs little. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(1000, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}
