import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { apiAt, freePort, startPlatform, waitFor, type Platform } from './harness.js';

/**
 * A real HA deployment on this machine: N control-plane replicas on one PostgreSQL database and
 * one Redis, behind haproxy (Debian's), sharing one SEMIBOT_HOME (the planes' disks: a plane
 * started on another replica after a death finds its user's checkpoints, as a shared volume would
 * give it). CI sets SEMIBOT_TEST_DATABASE_URL and SEMIBOT_TEST_REDIS_URL and installs haproxy.
 */
export const haUnavailable = !process.env.SEMIBOT_TEST_DATABASE_URL
  ? 'SEMIBOT_TEST_DATABASE_URL is not set (CI sets it to the local PostgreSQL server)'
  : !process.env.SEMIBOT_TEST_REDIS_URL
    ? 'SEMIBOT_TEST_REDIS_URL is not set (CI sets it to the local Redis server)'
    : null;

export interface HaCluster {
  /** the load balancer, used like a single control plane */
  lb: Platform;
  replicas: Platform[];
  /** the replica names, as recorded in runs.lease_owner */
  names: string[];
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** the replica currently driving a run (by its lease) */
  driverOf(runId: string): Promise<number>;
  /** stops (or kills) replica i; the balancer's health checks take it out */
  stop(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** haproxy's own log lines (responses it generated itself show as 5xx there) */
  lbLog: string[];
  close(): Promise<void>;
}


export async function startHaCluster(opts: { replicas?: number; env?: Record<string, string> } = {}): Promise<HaCluster> {
  const n = opts.replicas ?? 3;
  const serverUrl = process.env.SEMIBOT_TEST_DATABASE_URL!;
  const dbName = `semibot_ha_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // dropping the database at the end terminates whatever is still connected: expected, not a failure
  pool.on('error', () => {});
  admin.on('error', () => {});

  const home = mkdtempSync(path.join(tmpdir(), 'semibot-ha-'));
  const names = Array.from({ length: n }, (_, i) => `r${i}-${randomBytes(2).toString('hex')}`);
  const env = {
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.SEMIBOT_TEST_REDIS_URL!,
    JWT_SECRET: randomBytes(24).toString('hex'),
    RUN_LEASE_MS: '3000',
    VM_RECONNECT_GRACE_MS: '2000',
    SEMIBOT_DRAIN_TIMEOUT_MS: '3000',
    ...opts.env,
  };
  const ports = await Promise.all(names.map(() => freePort()));
  // the first replica migrates the database; the others start on a migrated one
  const replicas: Platform[] = [await startPlatform({ home, port: ports[0]!, env: { ...env, SEMIBOT_REPLICA_ID: names[0]! } })];
  replicas.push(...(await Promise.all(names.slice(1).map((name, i) => startPlatform({ home, port: ports[i + 1]!, env: { ...env, SEMIBOT_REPLICA_ID: name } })))));

  const lbPort = await freePort();
  const cfg = path.join(home, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 8192',
      'defaults',
      '  mode http',
      '  log stdout format raw local0',
      '  option httplog',
      '  timeout connect 1s',
      '  timeout client 120s',
      '  timeout server 120s',
      '  timeout tunnel 120s',
      // lenient health checks: two loaded cores can make /readyz slow; a dead replica refuses
      // connections at once anyway, and those requests are re-sent to another (redispatch)
      '  timeout check 3s',
      // a request that could not reach a dead replica is sent to another one
      '  retries 3',
      '  option redispatch 1',
      '  retry-on conn-failure empty-response response-timeout',
      'frontend semibot',
      `  bind 127.0.0.1:${lbPort}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      '  option httpchk GET /readyz',
      '  default-server inter 500ms fall 3 rise 1',
      ...replicas.map((r, i) => `  server ${names[i]} ${new URL(r.url).host} check`),
      '',
    ].join('\n'),
  );
  const lbLog: string[] = [];
  const haproxy: ChildProcess = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  haproxy.stdout!.on('data', (c: Buffer) => lbLog.push(...c.toString().split('\n').filter(Boolean)));
  haproxy.stderr!.on('data', (c: Buffer) => lbLog.push(...c.toString().split('\n').filter(Boolean)));
  const lbUrl = `http://127.0.0.1:${lbPort}`;
  await waitFor(async () => (await fetch(`${lbUrl}/readyz`).catch(() => null))?.ok, 15_000);
  // the balancer used like one control plane: the same api/user/chat helpers, over its address
  const lb: Platform = { ...replicas[0]!, url: lbUrl };
  lb.api = apiAt(lbUrl);
  lb.user = async () => {
    const r = await lb.api('POST', '/auth/register', { body: { email: `ha-${randomBytes(6).toString('hex')}@example.com`, password: 'correct horse battery' } });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    return { token: r.body.token, userId: r.body.user.id, orgId: r.body.org.id };
  };
  lb.chat = async (systemPrompt = 'You are a test agent.') => {
    const { token } = await lb.user();
    const agent = await lb.api('POST', '/agents', { token, body: { name: 'ha agent', systemPrompt } });
    const session = await lb.api('POST', '/sessions', { token, body: { agentId: agent.body.id } });
    return { token, agentId: agent.body.id, sessionId: session.body.id };
  };

  const sql = async <T,>(text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as T[];
  return {
    lb,
    replicas,
    names,
    sql,
    lbLog,
    async driverOf(runId) {
      const [row] = await sql<{ lease_owner: string | null }>('SELECT lease_owner FROM runs WHERE id = $1', [runId]);
      return names.indexOf(row?.lease_owner ?? '');
    },
    async stop(i, signal = 'SIGTERM') {
      await replicas[i]!.stop(signal);
    },
    async close() {
      // the replicas' warnings and errors, for a failure's post-mortem (SEMIBOT_HA_LOGS=1 prints them)
      if (process.env.SEMIBOT_HA_LOGS) {
        for (const [i, r] of replicas.entries()) {
          const lines = r.logs.join('').split('\n').filter((l) => /"level":(40|50|60)/.test(l));
          process.stderr.write(`--- ${names[i]}: ${lines.length} warnings/errors\n${lines.slice(-80).join('\n')}\n`);
        }
      }
      haproxy.kill('SIGTERM');
      await Promise.all(replicas.map((r) => r.stop()));
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
      await admin.end();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
