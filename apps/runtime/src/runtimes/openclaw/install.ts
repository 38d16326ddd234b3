import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OpenClawInstall {
  /** the Node ≥ 24 binary OpenClaw runs under (the plane itself may run on Node 20) */
  node: string;
  /** openclaw.mjs, the CLI entry */
  entry: string;
  version: string;
}

/** Where `npm install` in packages/openclaw-runtime puts it, seen from apps/runtime/dist/runtimes/openclaw. */
const DEFAULT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../packages/openclaw-runtime');

/**
 * The OpenClaw this machine can run, or why not. `SEMIBOT_OPENCLAW_DIR` names another install (a
 * directory with node_modules/openclaw); `SEMIBOT_OPENCLAW_NODE` another Node binary.
 */
export function findOpenClaw(env: NodeJS.ProcessEnv = process.env): OpenClawInstall | string {
  const dir = env.SEMIBOT_OPENCLAW_DIR || DEFAULT_DIR;
  const pkgFile = path.join(dir, 'node_modules/openclaw/package.json');
  if (!existsSync(pkgFile)) return `OpenClaw is not installed (no ${pkgFile}; run npm install in packages/openclaw-runtime)`;
  let version: string;
  try {
    version = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  } catch (err) {
    return `OpenClaw's package.json is unreadable: ${(err as Error).message}`;
  }
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const node = env.SEMIBOT_OPENCLAW_NODE || path.join(dir, `node_modules/node-linux-${arch}/bin/node`);
  if (!existsSync(node)) return `Node ≥ 24 for OpenClaw is missing (no ${node})`;
  return { node, entry: path.join(dir, 'node_modules/openclaw/openclaw.mjs'), version };
}
