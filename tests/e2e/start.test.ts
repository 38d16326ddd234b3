import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

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
});
