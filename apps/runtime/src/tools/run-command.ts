import { spawn } from 'node:child_process';
import { capOutput, type Tool } from './tool.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 300_000;
const MAX_CAPTURE_BYTES = 64 * 1024;

/**
 * `run_command`: a shell command in the session's work directory on the plane. The plane is the
 * sandbox — in `process` mode that means no isolation from the host user at all.
 * The command runs in its own process group so a timeout or a cancel kills everything it started.
 */
export function runCommandTool(): Tool {
  return {
    kind: 'tool',
    spec: {
      name: 'run_command',
      description:
        'Run a shell command (sh -c) in the session work directory and return exit code, stdout and stderr. ' +
        'Use `node -e` or `python3 -c` for scripts. Output is capped; long commands are killed at the timeout.',
      parameters: {
        type: 'object',
        properties: {
          command: { type: 'string', description: 'the command line' },
          timeoutMs: { type: 'integer', description: `kill after this many ms (default ${DEFAULT_TIMEOUT_MS}, max ${MAX_TIMEOUT_MS})` },
        },
        required: ['command'],
      },
    },
    async execute(args, ctx) {
      if (typeof args.command !== 'string' || !args.command.trim()) return { content: 'command must be a non-empty string', isError: true };
      const timeoutMs = Math.min(MAX_TIMEOUT_MS, Math.max(1, Number(args.timeoutMs ?? DEFAULT_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS));
      const r = await runProcess('/bin/sh', ['-c', args.command], { cwd: ctx.workDir, timeoutMs, signal: ctx.signal });
      const display = { exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr };
      const status = r.timedOut ? `timed out after ${timeoutMs} ms` : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
      return {
        content: capOutput(`${status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`),
        isError: r.timedOut || r.exitCode !== 0,
        display,
      };
    },
  };
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export function runProcess(
  file: string,
  argv: string[],
  o: { cwd: string; timeoutMs: number; signal: AbortSignal; env?: Record<string, string> },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(file, argv, {
      cwd: o.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.cwd, LANG: 'C.UTF-8', ...o.env },
    });
    const out = { stdout: '', stderr: '' };
    const capture = (key: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (out[key].length < MAX_CAPTURE_BYTES) out[key] += chunk.toString('utf8').slice(0, MAX_CAPTURE_BYTES - out[key].length);
    };
    child.stdout.on('data', capture('stdout'));
    child.stderr.on('data', capture('stderr'));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, o.timeoutMs);
    const onAbort = () => killGroup();
    o.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      out.stderr += `\n${err.message}`;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      resolve({ exitCode, signal, timedOut, ...out });
    });
  });
}
