import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const home = mkdtempSync(path.join(tmpdir(), 'semibot-start-'));

/** `npm start`'s script (what `npm start` runs) until the ready line; its output, then SIGTERM. */
async function start(env: Record<string, string> = {}): Promise<{ out: string; ms: number }> {
  const t = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'apps/control-plane/start.mjs')], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SEMIBOT_HOME: home, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    const on = (c: Buffer) => {
      out += c.toString();
      if (/control plane ready on/.test(out)) (clearTimeout(timer), resolve(true));
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
  const ms = performance.now() - t;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  if (!ready) throw new Error(`not ready:\n${out}`);
  return { out, ms };
}

describe('npm start', () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('builds nothing when nothing changed, and logs JSON lines when stdout is not a terminal', async () => {
    await start(); // may compile once: the test run's build does not leave start's stamp
    const { out } = await start();
    expect(out).not.toMatch(/npm start: (compiling|building)/);
    const lines = out.trim().split('\n');
    expect(lines.every((l) => l.startsWith('{'))).toBe(true);
    expect(JSON.parse(lines.find((l) => l.includes('ready on'))!)).toMatchObject({ level: 30, service: 'control-plane' });
  }, 120_000);

  it('logs human-readable lines for a terminal (SEMIBOT_LOG_FORMAT=pretty stands in for one here)', async () => {
    const { out } = await start({ SEMIBOT_LOG_FORMAT: 'pretty' });
    const ready = out.split('\n').find((l) => l.includes('control plane ready on'))!;
    expect(ready.startsWith('{')).toBe(false);
    expect(ready).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*Semibot control plane ready on http:\/\/127\.0\.0\.1:\d+/);
  }, 60_000);

  // per-thread priorities are a Linux notion (setpriority on a thread id); elsewhere the database
  // thread runs at the process's priority throughout
  it.skipIf(process.platform !== 'linux')('runs the embedded database at full priority until ready, then below the relay', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, 'apps/control-plane/dist/main.js')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SEMIBOT_HOME: home, PORT: String(port), HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
    const readyz = () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    try {
      let loweredBeforeReady = false;
      let lowered = 0;
      const deadline = Date.now() + 30_000;
      // a thread at nice 5 (the database's) may only be seen once /readyz answers 200: it is lowered after
      while (Date.now() < deadline) {
        lowered = threadNices(child.pid!).filter((n) => n === 5).length;
        if (lowered > 0) {
          if (!(await readyz())) loweredBeforeReady = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(loweredBeforeReady).toBe(false);
      expect(lowered).toBe(1);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});

/** The nice value of each thread of a process (field 19 of /proc/<pid>/task/<tid>/stat); [] once it is gone. */
function threadNices(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
  } catch {
    return [];
  }
}

