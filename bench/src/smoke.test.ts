import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm test` runs the benchmark in miniature so it cannot rot: every measurement runs against the
// real processes and the table comes out. The figures themselves are not judged here.
const root = fileURLToPath(new URL('../../', import.meta.url));

/** pids of this machine's processes whose command line contains `what` (Linux /proc) */
function processesRunning(what: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(what);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe('npm run bench --smoke', () => {
  it('measures everything against the real product and prints the table', async () => {
    const child = spawn(process.execPath, [path.join(root, 'bench/dist/main.js'), '--smoke'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `stderr:\n${err}`).toBe(0);
    for (const row of [
      'added token latency, 1 stream, p50 / p99',
      'added token latency, 2 streams, p50 / p99',
      'floor, same load: two bare relays (TCP, TCP, TCP) add p50 / p99',
      'added p99 by phase: turns starting | all streaming | turns ending',
      'warm turn overhead, p50 / max',
      'control plane start → ready',
      'restart on a populated home',
      'cold start → first token',
      'execution plane idle RSS',
      'per extra idle session',
      'control plane idle RSS',
      'per open SSE connection',
      'SSE bytes on the wire per text token',
      'relay, events/s delivered end to end',
      'control plane CPU per event',
    ]) {
      expect(out).toContain(row);
    }
    expect(out).toMatch(/machine: .+cores/);
    // a figure per level, and the floor's bare proxies gone with the run (nothing else starts them)
    expect(out.match(/floor, same load: two bare relays \(TCP, TCP, TCP\) add p50 \/ p99 +-?[\d.]+ \/ -?[\d.]+ ms/g)).toHaveLength(2);
    expect(processesRunning('bench/dist/hop-proxy.js')).toEqual([]);
    // each level's tokens split by phase, shares and p99s as numbers (a phase a tiny run's two streams
    // left empty, on a loaded machine, has no p99: '0 % / —')
    expect(out.match(/\(share of tokens \/ ms\) +\d+ % \/ (-?[\d.]+|—) \| \d+ % \/ (-?[\d.]+|—) \| \d+ % \/ (-?[\d.]+|—) /g)).toHaveLength(2);
    expect(out).not.toContain('results:'); // the smoke run writes nothing
  }, 90_000);
});
