// Installs the pinned OpenClaw (and the Node 24 it runs under) from package-lock.json, unless it
// is already there or SEMIBOT_SKIP_OPENCLAW=1. Run by the root postinstall. Scripts are skipped:
// OpenClaw's own preinstall refuses the Node 20 that npm itself may be running on, and nothing it
// would do is needed to run the gateway.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
if (process.env.SEMIBOT_SKIP_OPENCLAW === '1') {
  console.log('openclaw-runtime: skipped (SEMIBOT_SKIP_OPENCLAW=1); the OpenClaw runtime will be unavailable');
  process.exit(0);
}
const want = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).packages['node_modules/openclaw']?.version;
const have = path.join(dir, 'node_modules/openclaw/package.json');
if (want && existsSync(have) && JSON.parse(readFileSync(have, 'utf8')).version === want) process.exit(0);
console.log(`openclaw-runtime: installing OpenClaw ${want} (~830 MB, from the npm registry)`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
if (r.status !== 0) {
  // the platform works without it; /readyz and the console then say OpenClaw is not installed
  console.error('openclaw-runtime: install failed; the OpenClaw runtime will be unavailable (retry: npm run openclaw:install)');
}
