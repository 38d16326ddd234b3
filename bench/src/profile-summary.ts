import { readFileSync } from 'node:fs';

/**
 * Reads a V8 .cpuprofile (from `npm run bench -- --cpu-prof`) and prints where the time went:
 * self time by package/file bucket, self time by function, and inclusive time by function.
 *
 *   node bench/dist/profile-summary.js <file.cpuprofile> [--from <ms>] [--to <ms>] [--top <n>]
 *
 * --from/--to cut a window (ms since the profile started), e.g. to separate start-up from load.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : Number(args[i + 1]);
};
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [--from ms] [--to ms] [--top n]');
  process.exit(2);
}
const fromMs = opt('--from') ?? 0;
const toMs = opt('--to') ?? Infinity;
const top = opt('--top') ?? 25;

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function bucket(url: string, fn: string): string {
  if (!url) return `(${fn || 'native'})`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = /\/((?:apps|packages)\/[^/]+)\/dist\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url.replace(/^file:\/\//, '');
}
const key = (n: ProfileNode) => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'}  ${bucket(f.url, f.functionName)}:${f.lineNumber + 1}`;
};

const selfByBucket = new Map<string, number>();
const selfByFn = new Map<string, number>();
const inclByFn = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
let t = 0;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]! / 1000;
  const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
  if (t < fromMs || t > toMs) continue;
  const node = byId.get(p.samples[i]!)!;
  if (node.callFrame.functionName === '(idle)') continue;
  total += dt;
  add(selfByBucket, bucket(node.callFrame.url, node.callFrame.functionName), dt);
  add(selfByFn, key(node), dt);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const k = key(byId.get(id)!);
    if (!seen.has(k)) (seen.add(k), add(inclByFn, k, dt));
  }
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${v.toFixed(1).padStart(9)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
const span = (p.endTime - p.startTime) / 1000;
console.log(`${file}: ${span.toFixed(0)} ms profiled; window ${fromMs}–${Math.min(toMs, span).toFixed(0)} ms; ${total.toFixed(0)} ms on CPU (idle excluded)`);
print('self time by package / file', selfByBucket);
print('self time by function', selfByFn);
print('inclusive time by function', inclByFn);
