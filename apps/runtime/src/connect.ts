import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { VmConnectGrant } from '@semibot/protocol';
import { startDaemon, type Daemon } from './daemon.js';

/**
 * `semibot-runtime connect --server URL --api-key sbk_...`: this machine becomes the caller's
 * execution plane (VM mode `local`). The API key is exchanged for a plane credential scoped to its
 * user (POST /api/v1/vm/connect); the daemon dials in and reconnects by itself. When the control
 * plane refuses the credential for good (it expired while this machine was away), the key is
 * exchanged again; a key that is refused ends the command.
 */
const usage = 'usage: semibot-runtime connect --server URL --api-key KEY [--home DIR] [--log-level LEVEL]';
const options = {
  server: { type: 'string' },
  'api-key': { type: 'string' },
  home: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  help: { type: 'boolean' },
} as const;
function parse() {
  try {
    return parseArgs({ args: process.argv.slice(3), options, strict: true }).values;
  } catch (err) {
    process.stderr.write(`semibot-runtime connect: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}
const args = parse();
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const server = args.server?.replace(/\/+$/, '');
const apiKey = args['api-key'] ?? process.env.SEMIBOT_API_KEY;
if (!server || !/^https?:\/\//.test(server) || !apiKey) {
  process.stderr.write(`semibot-runtime connect: --server (http or https URL) and --api-key (or SEMIBOT_API_KEY) are required\n${usage}\n`);
  process.exit(2);
}
const home = path.resolve(args.home ?? path.join(homedir(), '.semibot-runtime'));

async function grant(): Promise<VmConnectGrant> {
  const res = await fetch(`${server}/api/v1/vm/connect`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
  const body = (await res.json().catch(() => null)) as (VmConnectGrant & { error?: { code: string; message: string } }) | null;
  if (res.status === 201 && body) return body;
  const why = body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
  // a refused key or a mode that is not `local` will not change by retrying
  if (res.status === 401 || res.status === 403 || res.status === 409) {
    process.stderr.write(`semibot-runtime connect: ${why}\n`);
    process.exit(3);
  }
  throw new Error(why);
}

let daemon: Daemon | null = null;
async function connect(attempt = 0): Promise<void> {
  let g: VmConnectGrant;
  try {
    g = await grant();
  } catch (err) {
    const delay = Math.min(30_000, 1_000 * 2 ** attempt);
    process.stderr.write(`semibot-runtime connect: ${(err as Error).message}; trying again in ${delay} ms\n`);
    setTimeout(() => void connect(attempt + 1), delay);
    return;
  }
  const url = g.wsUrl ?? `${server!.replace(/^http/, 'ws')}/ws/vm`;
  daemon = await startDaemon({
    url,
    token: g.token,
    ticket: g.ticket,
    home,
    logLevel: args['log-level']!,
    instanceId: g.instanceId,
    onFatal(reason) {
      daemon?.logger.warn({ reason }, 'credential refused; asking for a new one');
      const old = daemon;
      daemon = null;
      void old?.stop().finally(() => void connect());
    },
  });
  daemon.logger.info({ server, home, instanceId: g.instanceId }, 'this machine is connecting as your execution plane');
}
await connect();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void (daemon?.stop() ?? Promise.resolve()).finally(() => process.exit(0)));
}
