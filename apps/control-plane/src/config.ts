import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RuntimeTypes, VmModes } from '@semibot/protocol';
import { newReplicaId } from './cluster/cluster.js';

const ms = (def: number) => z.coerce.number().int().nonnegative().default(def);
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

/** Every setting of the control plane, parsed once at start from the environment. */
const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  /** @default 8080 */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** @default 127.0.0.1 */
  HOST: z.string().default('127.0.0.1'),
  /** all local state; @default ./.semibot */
  SEMIBOT_HOME: z.string().default('./.semibot'),
  /** unset: embedded PGlite under SEMIBOT_HOME */
  DATABASE_URL: optionalString,
  REDIS_URL: optionalString,
  JWT_SECRET: optionalString,
  SEMIBOT_LLM_BASE_URL: optionalString,
  SEMIBOT_LLM_API_KEY: optionalString,
  SEMIBOT_LLM_MODEL: optionalString,
  /** embedding model at the same endpoint, for vector memory search; the bundled mock has one */
  SEMIBOT_EMBEDDING_MODEL: optionalString,
  SEMIBOT_VM_MODE: z.enum(VmModes).default('process'),
  /** the runtime a session runs on when neither it, its agent, its user nor its org names one */
  SEMIBOT_RUNTIME_TYPE: z.enum(RuntimeTypes).default('semigraph'),
  /** the URL planes dial; derived from HOST/PORT when unset */
  SEMIBOT_PUBLIC_WS_URL: optionalString,
  /** `on`: planes started on this host (process mode) dial a Unix socket under SEMIBOT_HOME/run, not TCP, unless SEMIBOT_PUBLIC_WS_URL is set @default off */
  SEMIBOT_PLANE_SOCKET: z.enum(['on', 'off']).default('off'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** how long a started plane has to connect @default 15s */
  VM_CONNECT_TIMEOUT_MS: ms(15_000),
  /** plane heartbeat period, told to the plane in `init` @default 10s */
  VM_HEARTBEAT_INTERVAL_MS: ms(10_000),
  /** no heartbeat for this long closes the socket with 4008 @default 30s */
  VM_HEARTBEAT_TIMEOUT_MS: ms(30_000),
  /** after a failed bootstrap, wait this long before trying again @default 30s */
  VM_BOOTSTRAP_COOLDOWN_MS: ms(30_000),
  /** failed starts in a row before a plane is `failed` @default 5 */
  VM_BOOTSTRAP_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  /** a run waits this long for its plane to reconnect before going to a fresh plane @default 10s */
  VM_RECONNECT_GRACE_MS: ms(10_000),
  /** a plane with no run for this long is stopped (after a final snapshot); 0 = never @default 15 min */
  VM_IDLE_TIMEOUT_MS: ms(15 * 60_000),
  /** deliveries of one run (first + re-deliveries after lost planes) @default 3 */
  RUN_MAX_ATTEMPTS: z.coerce.number().int().positive().default(3),
  /** events kept per session after a run ends; older ids get `resync` @default 10000 */
  SEMIBOT_EVENT_RETENTION: z.coerce.number().int().positive().default(10_000),
  /** SSE heartbeat comment period @default 15s */
  SSE_HEARTBEAT_MS: ms(15_000),
  /** max HTTP body @default 1 MiB */
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** JWT lifetime for users @default 7 days */
  USER_TOKEN_TTL_S: z.coerce.number().int().positive().default(7 * 24 * 3600),
  /** plane token lifetime @default 10 min */
  VM_TOKEN_TTL_S: z.coerce.number().int().positive().default(600),
  /** command that starts a plane in `process` mode; default: this repo's runtime daemon */
  SEMIBOT_RUNTIME_ENTRY: optionalString,
  /** runs go through planes (`runtime`) or the control plane streams them from the LLM (`direct`) @default runtime */
  SEMIBOT_EXECUTION_MODE: z.enum(['runtime', 'direct']).default('runtime'),
  /** org ids that run through planes while the default is `direct` (comma-separated) */
  SEMIBOT_RUNTIME_ORGS: z.string().default(''),
  /** off: no automatic fallback at all (metrics are still kept); for deployments that must fail loudly @default on */
  SEMIBOT_FALLBACK: z.enum(['on', 'off']).default('on'),
  /** a run whose plane cannot start runs direct instead of failing @default true */
  SEMIBOT_FALLBACK_WHEN_NO_PLANE: z.enum(['true', 'false']).default('true'),
  /** the fallback monitor's sliding window, ms @default 60 s */
  SEMIBOT_FALLBACK_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  /** runs a window needs before it can switch to direct @default 3 */
  SEMIBOT_FALLBACK_MIN_RUNS: z.coerce.number().int().positive().default(3),
  /** error rate (0–1) of the runtime path above which runs go direct @default 0.5 */
  SEMIBOT_FALLBACK_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.5),
  /** timeout rate (0–1) above which runs go direct @default 0.3 */
  SEMIBOT_FALLBACK_TIMEOUT_RATE: z.coerce.number().min(0).max(1).default(0.3),
  /** a run's timeout for the monitor, ms (a mean above 80 % of it is degraded) @default 300 s */
  SEMIBOT_RUN_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),
  /** in fallback, one run probes the runtime path again after this long, ms @default 30 s */
  SEMIBOT_FALLBACK_PROBE_MS: z.coerce.number().int().positive().default(30_000),
  /** heap budget of each plane's OpenClaw gateway, MiB; unset: Node's default */
  SEMIBOT_OPENCLAW_MEMORY_MB: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(128).max(65_536).optional()),
  /** the plane image of `docker` mode (deploy/build-plane-image.sh); unset: no docker mode */
  SEMIBOT_DOCKER_IMAGE: optionalString,
  /** the Docker Engine API socket @default /var/run/docker.sock */
  SEMIBOT_DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  /** CPUs per plane container @default 1 */
  SEMIBOT_DOCKER_CPUS: z.coerce.number().positive().default(1),
  /** memory per plane container, MiB @default 1024 */
  SEMIBOT_DOCKER_MEMORY_MB: z.coerce.number().int().positive().default(1024),
  /** the directory `microvm` mode boots from (deploy/build-microvm-image.sh); unset: no microvm mode */
  SEMIBOT_MICROVM_IMAGE: optionalString,
  /** kvm: hardware virtualisation through /dev/kvm; tcg: QEMU's emulator (no /dev/kvm needed, slower) @default kvm */
  SEMIBOT_MICROVM_ACCEL: z.enum(['kvm', 'tcg']).default('kvm'),
  /** vCPUs per plane VM @default 1 */
  SEMIBOT_MICROVM_CPUS: z.coerce.number().int().positive().default(1),
  /** memory per plane VM, MiB (the root filesystem lives in it: ~110 MB) @default 512 */
  SEMIBOT_MICROVM_MEMORY_MB: z.coerce.number().int().min(256).default(512),
  /** each user's disk, MiB (sparse) @default 1024 */
  SEMIBOT_MICROVM_DISK_MB: z.coerce.number().int().min(64).default(1024),
  SEMIBOT_QEMU: z.string().default('qemu-system-x86_64'),
  /** the shared worker pool's name: sessions of orgs not marked dedicated run on its planes; unset: every user gets a plane of their own */
  SEMIBOT_PLANE_POOL: optionalString,
  /** this replica's name in leases and logs; default: host-pid-random (a restarted replica is a new one) */
  SEMIBOT_REPLICA_ID: optionalString,
  /** a run's lease lasts this long unrenewed; a dead replica's runs are taken over after it @default 10s */
  RUN_LEASE_MS: z.coerce.number().int().min(300).default(10_000),
  /** on SIGTERM, runs in flight get this long to finish before their leases are handed over @default 20s */
  SEMIBOT_DRAIN_TIMEOUT_MS: ms(20_000),
});

/** Every environment variable the control plane reads (deploy files are checked against it). */
export const settingNames: readonly string[] = Object.keys(EnvSchema.shape);

export interface Config {
  env: string;
  port: number;
  host: string;
  home: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  jwtSecret: Uint8Array;
  llm: { baseUrl: string; apiKey: string; model: string } | null;
  embeddingModel: string | undefined;
  vmMode: (typeof VmModes)[number];
  runtimeType: (typeof RuntimeTypes)[number];
  publicWsUrl: string | undefined;
  /** process-mode planes dial a Unix socket beside the port */
  planeSocket: boolean;
  logLevel: string;
  vmConnectTimeoutMs: number;
  vmHeartbeatIntervalMs: number;
  vmHeartbeatTimeoutMs: number;
  vmBootstrapCooldownMs: number;
  vmBootstrapMaxAttempts: number;
  vmReconnectGraceMs: number;
  vmIdleTimeoutMs: number;
  runMaxAttempts: number;
  eventRetention: number;
  sseHeartbeatMs: number;
  bodyLimitBytes: number;
  userTokenTtlS: number;
  vmTokenTtlS: number;
  runtimeEntry: string | undefined;
  execution: {
    defaultMode: 'runtime' | 'direct';
    runtimeOrgs: Set<string>;
    /** the monitor may send runs direct */
    fallback: boolean;
    fallbackWhenNoPlane: boolean;
    thresholds: { windowMs: number; minRuns: number; errorRate: number; timeoutRate: number; timeoutMs: number; probeAfterMs: number };
  };
  /** heap budget of each plane's OpenClaw gateway, MiB */
  openclawMemoryMb: number | undefined;
  /** null: embedded (one process; the replica is called `embedded`) */
  replicaId: string | null;
  planePool: string | null;
  docker: { image: string; socketPath: string; cpus: number; memoryBytes: number } | null;
  microvm: { image: string; accel: 'kvm' | 'tcg'; cpus: number; memoryMb: number; diskMb: number; qemu: string } | null;
  runLeaseMs: number;
  drainTimeoutMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const home = path.resolve(e.SEMIBOT_HOME);
  mkdirSync(home, { recursive: true });
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    home,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: new TextEncoder().encode(e.JWT_SECRET ?? jwtSecretFromHome(home, e.NODE_ENV)),
    llm: e.SEMIBOT_LLM_BASE_URL
      ? { baseUrl: e.SEMIBOT_LLM_BASE_URL, apiKey: e.SEMIBOT_LLM_API_KEY ?? 'unset', model: e.SEMIBOT_LLM_MODEL ?? 'gpt-4o-mini' }
      : null,
    embeddingModel: e.SEMIBOT_EMBEDDING_MODEL,
    vmMode: e.SEMIBOT_VM_MODE,
    runtimeType: e.SEMIBOT_RUNTIME_TYPE,
    publicWsUrl: e.SEMIBOT_PUBLIC_WS_URL,
    planeSocket: e.SEMIBOT_PLANE_SOCKET === 'on',
    logLevel: e.LOG_LEVEL,
    vmConnectTimeoutMs: e.VM_CONNECT_TIMEOUT_MS,
    vmHeartbeatIntervalMs: e.VM_HEARTBEAT_INTERVAL_MS,
    vmHeartbeatTimeoutMs: e.VM_HEARTBEAT_TIMEOUT_MS,
    vmBootstrapCooldownMs: e.VM_BOOTSTRAP_COOLDOWN_MS,
    vmBootstrapMaxAttempts: e.VM_BOOTSTRAP_MAX_ATTEMPTS,
    vmReconnectGraceMs: e.VM_RECONNECT_GRACE_MS,
    vmIdleTimeoutMs: e.VM_IDLE_TIMEOUT_MS,
    runMaxAttempts: e.RUN_MAX_ATTEMPTS,
    eventRetention: e.SEMIBOT_EVENT_RETENTION,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    userTokenTtlS: e.USER_TOKEN_TTL_S,
    vmTokenTtlS: e.VM_TOKEN_TTL_S,
    runtimeEntry: e.SEMIBOT_RUNTIME_ENTRY,
    openclawMemoryMb: e.SEMIBOT_OPENCLAW_MEMORY_MB,
    execution: {
      defaultMode: e.SEMIBOT_EXECUTION_MODE,
      runtimeOrgs: new Set(e.SEMIBOT_RUNTIME_ORGS.split(',').map((x) => x.trim()).filter(Boolean)),
      fallback: e.SEMIBOT_FALLBACK === 'on',
      fallbackWhenNoPlane: e.SEMIBOT_FALLBACK === 'on' && e.SEMIBOT_FALLBACK_WHEN_NO_PLANE === 'true',
      thresholds: {
        windowMs: e.SEMIBOT_FALLBACK_WINDOW_MS,
        minRuns: e.SEMIBOT_FALLBACK_MIN_RUNS,
        errorRate: e.SEMIBOT_FALLBACK_ERROR_RATE,
        timeoutRate: e.SEMIBOT_FALLBACK_TIMEOUT_RATE,
        timeoutMs: e.SEMIBOT_RUN_TIMEOUT_MS,
        probeAfterMs: e.SEMIBOT_FALLBACK_PROBE_MS,
      },
    },
    replicaId: e.REDIS_URL ? (e.SEMIBOT_REPLICA_ID ?? newReplicaId()) : null,
    planePool: e.SEMIBOT_PLANE_POOL ?? null,
    docker: e.SEMIBOT_DOCKER_IMAGE
      ? { image: e.SEMIBOT_DOCKER_IMAGE, socketPath: e.SEMIBOT_DOCKER_SOCKET, cpus: e.SEMIBOT_DOCKER_CPUS, memoryBytes: e.SEMIBOT_DOCKER_MEMORY_MB * 2 ** 20 }
      : null,
    microvm: e.SEMIBOT_MICROVM_IMAGE
      ? {
          image: e.SEMIBOT_MICROVM_IMAGE,
          accel: e.SEMIBOT_MICROVM_ACCEL,
          cpus: e.SEMIBOT_MICROVM_CPUS,
          memoryMb: e.SEMIBOT_MICROVM_MEMORY_MB,
          diskMb: e.SEMIBOT_MICROVM_DISK_MB,
          qemu: e.SEMIBOT_QEMU,
        }
      : null,
    runLeaseMs: e.RUN_LEASE_MS,
    drainTimeoutMs: e.SEMIBOT_DRAIN_TIMEOUT_MS,
  };
}

/** A generated secret survives restarts (tokens stay valid) but never leaves SEMIBOT_HOME. */
function jwtSecretFromHome(home: string, nodeEnv: string): string {
  if (nodeEnv === 'production') throw new Error('JWT_SECRET is required when NODE_ENV=production');
  const file = path.join(home, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
