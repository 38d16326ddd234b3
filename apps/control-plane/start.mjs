// `npm start`: rebuild only what changed since the last build, then run the control plane in this
// very process. Rebuilding everything on every start cost ~11 s (the web console's vite build alone
// is ~5 s); with nothing changed this costs a scan of the sources' modification times (~10 ms).
// Like make: a source newer than what was built from it means that part is built again.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const at = (...p) => path.join(root, ...p);
const SKIP = new Set(['node_modules', 'dist', '.git', 'results', 'test-results']);

/** newest modification time (ms) under these paths; 0 when none exists */
function newest(paths) {
  let max = 0;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (!SKIP.has(e)) visit(path.join(p, e));
    } else if (st.mtimeMs > max && !p.endsWith('.tsbuildinfo')) max = st.mtimeMs;
  };
  for (const p of paths) visit(p);
  return max;
}
const builtAt = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

function run(what, cmd, args) {
  process.stderr.write(`npm start: ${what}…\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const stampDir = at('node_modules', '.cache', 'semibot');
const stamp = path.join(stampDir, 'tsc-build');
const common = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json'].map((f) => at(f));
const tsSources = [...common, at('packages'), at('apps', 'runtime'), at('apps', 'control-plane', 'src'), at('apps', 'control-plane', 'migrations'), at('apps', 'control-plane', 'package.json'), at('bench', 'src')];
if (!existsSync(at('apps', 'control-plane', 'dist', 'main.js')) || newest(tsSources) > builtAt(stamp)) {
  run('compiling TypeScript', at('node_modules', '.bin', 'tsc'), ['-b']);
  mkdirSync(stampDir, { recursive: true });
  writeFileSync(stamp, new Date().toISOString());
}
// the console imports the protocol package's sources too
const webSources = [...common, at('apps', 'web'), at('packages', 'protocol', 'src')];
if (newest(webSources) > builtAt(at('apps', 'web', 'dist', 'index.html'))) {
  run('building the web console', 'npm', ['run', 'build', '-w', 'apps/web']);
}
await import('./dist/main.js');
