import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where a run happened: figures mean nothing without the machine and the code they came from. */

export interface Machine {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
  /** 1/5/15-min load averages when the run started: other work on the box skews every figure */
  loadAverage: number[];
}

export function describeMachine(): Machine {
  const cpuinfo = safe(() => readFileSync('/proc/cpuinfo', 'utf8'), '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(safe(() => readFileSync('/etc/os-release', 'utf8'), ''))?.[1];
  return {
    cpuModel: model.trim(),
    cores: os.cpus().length,
    ramBytes: os.totalmem(),
    node: process.version,
    os: `${pretty ?? os.type()} (${os.type()} ${os.release()} ${os.arch()})`,
    loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

export interface GitInfo {
  sha: string;
  /** uncommitted changes: dist was built from the work tree, so they are part of what ran */
  dirty: string[];
}

export function gitInfo(root: string): GitInfo {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  return {
    sha: safe(() => git('rev-parse', '--short', 'HEAD'), 'nogit'),
    dirty: safe(() => git('status', '--porcelain', '--untracked-files=no'), '').split('\n').filter(Boolean),
  };
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
