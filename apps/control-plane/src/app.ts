import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createLogger } from './logging.js';
import { openAiRoutes } from './openai/completions.js';
import { startMockLlm } from '@semibot/mock-llm';
import { daemonEntry, findOpenClaw } from '@semibot/runtime';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { deferredDb, openDb } from './db/db.js';
import { WriteBehind } from './db/write-behind.js';
import { Tokens } from './auth/tokens.js';
import { EventLog } from './events/event-log.js';
import { WS_PATH, WsGateway } from './gateway/ws-gateway.js';
import { listenPlaneSocket, planeSocketPath, type PlaneSocket } from './gateway/plane-socket.js';
import { planeHandlers } from './gateway/plane-handlers.js';
import { Scheduler } from './scheduler/scheduler.js';
import { ProcessDriver } from './scheduler/process-driver.js';
import { RunEngine } from './runs/run-engine.js';
import { ExecutionPaths } from './runs/execution.js';
import { executionRoutes } from './routes/execution.js';
import { RemoteMcp } from './mcp/remote-mcp.js';
import { MemoryService } from './memory/memory-service.js';
import { installErrorHandling } from './http/errors.js';
import { installAuth } from './http/auth-hook.js';
import { createMetrics, instrumentHttp } from './http/metrics.js';
import { installOpenApi } from './http/openapi.js';
import { installWebUi } from './http/web-ui.js';
import { authRoutes, publicAuthPaths } from './routes/auth.js';
import { agentRoutes } from './routes/agents.js';
import { sessionRoutes } from './routes/sessions.js';
import { runAndVmRoutes } from './routes/runs-vm.js';
import { skillRoutes } from './routes/skills.js';
import { mcpServerRoutes } from './routes/mcp-servers.js';
import { memoryUsageRoutes } from './routes/memories-usage.js';
import { insertUsage, type UsageInsert } from './store/usage.js';
import { insertSnapshots, type SnapshotInsert } from './store/snapshots-audit.js';
import { embeddedCluster, type Cluster } from './cluster/cluster.js';
import { LeaseKeeper } from './runs/leases.js';
import { PlanePool } from './scheduler/pool.js';
import { startEmbeddedVacuum, type EmbeddedVacuum } from './db/embedded-vacuum.js';
import { releaseLeases } from './store/runs.js';

/** One process: its runs' leases carry this owner, so a restart on the same home resumes them. */
const EMBEDDED_REPLICA = 'embedded';

export interface App {
  http: FastifyInstance;
  ctx: AppContext;
  /** listens, then recovers runs left over by a previous process */
  listen(): Promise<string>;
  /** stops taking work and waits (bounded) for runs in flight; what remains is handed to other replicas */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const EVENT_STATE_IDLE_MS = 10 * 60_000;

/** The composition root: every resource built once and handed to the systems that use it. */
export async function createApp(
  config: Config,
  logger: Logger = createLogger(config.logLevel, 'control-plane'),
  /** an already started openDb (main.ts starts it early); opened here when absent */
  database?: ReturnType<typeof openDb>,
): Promise<App> {
  if ((config.vmMode === 'docker' && !config.docker) || (config.vmMode === 'microvm' && !config.microvm)) {
    throw new Error(`SEMIBOT_VM_MODE=${config.vmMode} is not available: set ${config.vmMode === 'docker' ? 'SEMIBOT_DOCKER_IMAGE' : 'SEMIBOT_MICROVM_IMAGE'}`);
  }
  // The database boots (embedded PGlite: on its own thread) while everything below is built: the
  // server is given a Db that waits for it, and nothing queries before listen().
  const opening = database ?? openDb({ databaseUrl: config.databaseUrl, home: config.home });
  const db = deferredDb(
    opening.then((o) => o.db),
    config.databaseUrl ? 'postgres' : 'pglite',
  );
  // PGlite has no autovacuum of its own (db/embedded-vacuum.ts); a server does
  const vacuum: Promise<EmbeddedVacuum | null> = opening.then(
    (o) => (o.db.kind === 'pglite' ? startEmbeddedVacuum(o.db, { logger: logger.child({ component: 'vacuum' }) }) : null),
    () => null,
  );
  const mock = config.llm ? null : await startMockLlm({ port: 0 });
  // Redis (distributed) when REDIS_URL is set; loaded only then
  const cluster: Cluster = config.redisUrl
    ? await (await import('./cluster/redis-cluster.js')).connectRedisCluster({
        url: config.redisUrl,
        replicaId: config.replicaId!,
        logger: logger.child({ component: 'cluster' }),
        hostTtlMs: config.runLeaseMs,
      })
    : embeddedCluster(EMBEDDED_REPLICA);

  let llmNotice: string | null = null;
  let closeMock: (() => Promise<void>) | null = null;
  const llm = config.llm ?? { baseUrl: mock!.url, apiKey: 'mock', model: 'mock-1' };
  if (mock) {
    closeMock = mock.close;
    llmNotice = `SEMIBOT_LLM_BASE_URL is not set: answers come from the bundled mock model at ${mock.url} (it echoes). Set SEMIBOT_LLM_BASE_URL, SEMIBOT_LLM_API_KEY and SEMIBOT_LLM_MODEL to use a real model.`;
    logger.warn(llmNotice);
  }

  const tokens = new Tokens(config.jwtSecret, { userS: config.userTokenTtlS, vmS: config.vmTokenTtlS });
  const pool = config.planePool ? new PlanePool(config.planePool) : null;
  const events = new EventLog({
    db,
    logger: logger.child({ component: 'event-log' }),
    retention: config.eventRetention,
    tail: cluster.tail,
    onFenced: (runId) => runs.lostLease(runId),
  });
  const resolvedLlm = llm;
  const gateway = new WsGateway({
    db,
    tokens,
    logger: logger.child({ component: 'ws-gateway' }),
    heartbeatIntervalMs: config.vmHeartbeatIntervalMs,
    heartbeatTimeoutMs: config.vmHeartbeatTimeoutMs,
    llm: () => resolvedLlm,
    openclawMemoryMb: config.openclawMemoryMb,
    vmTokenTtlS: config.vmTokenTtlS,
    pool,
  });
  const driver = new ProcessDriver(config.runtimeEntry ?? daemonEntry, logger.child({ component: 'process-driver' }));
  // loaded only when their modes are configured
  const docker = config.docker
    ? new (await import('./scheduler/docker-driver.js')).DockerDriver({ ...config.docker, logger: logger.child({ component: 'docker-driver' }) })
    : null;
  const microvm = config.microvm
    ? new (await import('./scheduler/microvm-driver.js')).MicrovmDriver({ ...config.microvm, logger: logger.child({ component: 'microvm-driver' }) })
    : null;
  let address = '';
  let planeSocket: PlaneSocket | null = null;
  const scheduler = new Scheduler({
    db,
    tokens,
    gateway,
    driver,
    drivers: { ...(docker ? { docker } : {}), ...(microvm ? { microvm } : {}) },
    logger: logger.child({ component: 'scheduler' }),
    home: config.home,
    wsUrl: () => config.publicWsUrl ?? `${address.replace(/^http/, 'ws')}${WS_PATH}`,
    localWsUrl: () => planeSocket?.url ?? null,
    logLevel: config.logLevel,
    connectTimeoutMs: config.vmConnectTimeoutMs,
    cooldownMs: config.vmBootstrapCooldownMs,
    maxAttempts: config.vmBootstrapMaxAttempts,
    idleTimeoutMs: config.vmIdleTimeoutMs,
    pool,
    host: { owner: cluster.replicaId, ms: config.runLeaseMs },
    poolReplica: () => (config.planePool ? cluster.hosts.poolReplica(config.planePool) : Promise.resolve(null)),
    defaultMode: config.vmMode,
    defaultRuntime: config.runtimeType,
    publicWsUrl: config.publicWsUrl ?? null,
  });
  const execution = new ExecutionPaths({ db, logger: logger.child({ component: 'execution' }), llm: () => resolvedLlm, bus: cluster.bus, ...config.execution });
  const runs = new RunEngine({
    execution,
    db,
    log: events,
    scheduler,
    logger: logger.child({ component: 'runs' }),
    cluster,
    leaseMs: config.runLeaseMs,
    reconnectGraceMs: config.vmReconnectGraceMs,
    maxAttempts: config.runMaxAttempts,
  });
  const leases = new LeaseKeeper({
    db,
    cluster,
    logger: logger.child({ component: 'leases' }),
    holder: {
      lease: runs.lease,
      activeRunIds: () => runs.activeRunIds(),
      lostLease: (id) => runs.lostLease(id),
      dispatch: (sessionId, userId, orgId) => runs.dispatch(sessionId, userId, orgId),
      hostedUsers: () => scheduler.hostedUsers(),
      pool: () => (pool ? { name: pool.name, size: pool.size } : null),
      renewPlaneHosts: () => scheduler.renewHosts(),
    },
  });
  scheduler.onPlaneExit = (instanceId, why) => runs.planeLoss.onExited(instanceId, why);
  scheduler.isBusy = (userId) => runs.busy(userId);
  const remoteMcp = new RemoteMcp(logger.child({ component: 'remote-mcp' }));
  const embeddingModel = config.embeddingModel ?? (llmNotice ? 'mock-embed' : undefined);
  const embedder = embeddingModel
    ? async () => (await import('@semibot/llm')).createOpenAICompatibleEmbedder({ baseUrl: llm.baseUrl, apiKey: llm.apiKey, model: embeddingModel })
    : null;
  const memory = new MemoryService(db, embedder, logger.child({ component: 'memory' }));
  const usage = new WriteBehind((rows: UsageInsert[]) => insertUsage(db, rows), { what: 'usage records', logger });
  const snapshots = new WriteBehind((rows: SnapshotInsert[]) => insertSnapshots(db, rows), { what: 'session snapshots', logger, maxBatch: 100 });
  const ctx: AppContext = { config, db, logger, cluster, tokens, events, usage, snapshots, gateway, scheduler, runs, execution, remoteMcp, memory, planeRequests: {}, llm, llmNotice, leases };

  // pino's Logger is wider than FastifyBaseLogger; the instance is used through the base type.
  const http = Fastify({
    loggerInstance: logger.child({ component: 'http' }),
    bodyLimit: config.bodyLimitBytes,
    // On close, end every connection: open SSE streams (clients resume with Last-Event-ID) and idle
    // keep-alive sockets would otherwise hold shutdown open for as long as any client stays connected.
    forceCloseConnections: true,
    // one line per request would dominate the log at SSE/token rates; errors are still logged
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // a caller's X-Request-Id is kept (when sane) so one id follows a turn from the client on
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  }) as unknown as FastifyInstance;
  // Many HTTP clients send `content-type: application/json` on every request, a DELETE or a
  // body-less POST included: an empty body is no body (a route that needs one says so with
  // VALIDATION_ERROR); anything else goes through Fastify's own parser (prototype-poisoning checks).
  const jsonParser = http.getDefaultJsonParser('error', 'error');
  http.removeContentTypeParser('application/json');
  http.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) =>
    (text as string).trim() === '' ? done(null, undefined) : jsonParser(req, text as string, done),
  );
  http.addHook('onRequest', async (req, reply) => {
    if (!/^[\w.:-]{1,100}$/.test(req.id)) (req as { id: string }).id = randomUUID();
    void reply.header('x-request-id', req.id);
  });
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  // the API speaks JSON only (plus the skill archive types, registered on that route): a text/plain
  // body is refused with 415 instead of reaching a schema as a string
  http.removeContentTypeParser('text/plain');
  installErrorHandling(http);
  installAuth(http, ctx, new Set(publicAuthPaths));
  await installOpenApi(http);
  const metrics = createMetrics(ctx);
  ctx.metrics = metrics;
  instrumentHttp(http, metrics.registry);
  runs.onFinished = (status, seconds) => metrics.runDuration.observe({ status }, seconds);
  let ready = false;
  const openclawInstall = findOpenClaw();
  const openclaw: true | string = typeof openclawInstall === 'string' ? openclawInstall : true;
  http.get('/healthz', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_req, reply) => {
    if (!ready) return reply.status(503).send({ error: { code: 'NOT_READY', message: 'starting' } });
    await db.query('SELECT 1');
    return {
      status: 'ready',
      db: db.kind,
      replica: cluster.replicaId,
      bus: cluster.distributed ? 'redis' : 'in-process',
      // what each VM mode needs is there: true, or why not
      vmModes: {
        process: true,
        local: true,
        docker: docker ? ((await docker.check()) ?? true) : 'SEMIBOT_DOCKER_IMAGE is not set',
        microvm: microvm ? ((await microvm.check()) ?? true) : 'SEMIBOT_MICROVM_IMAGE is not set',
      },
      // OpenClaw as the deployment's own planes (process, local on this machine) find it
      openclaw_available: openclaw === true,
      runtimes: { semigraph: true, openclaw },
      llm: { model: llm.model, mock: llmNotice !== null },
      notice: llmNotice,
    };
  });
  http.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  await http.register(
    async (api) => {
      await api.register(authRoutes(ctx));
      await api.register(agentRoutes(ctx));
      await api.register(sessionRoutes(ctx));
      await api.register(runAndVmRoutes(ctx));
      await api.register(skillRoutes(ctx));
      await api.register(mcpServerRoutes(ctx));
      await api.register(memoryUsageRoutes(ctx));
      await api.register(executionRoutes(ctx));
    },
    { prefix: '/api/v1' },
  );
  // OpenAI's Chat Completions in front of the agents, where OpenAI clients look for it
  await http.register(openAiRoutes(ctx), { prefix: '/v1' });
  await installWebUi(http);
  const { applied } = await opening;
  if (applied.length) logger.info({ applied, db: db.kind }, 'migrations applied');
  gateway.attach(http.server, planeHandlers(ctx));
  /** the Unix socket process-mode planes dial (gateway/plane-socket.ts); without one they dial TCP */
  const openPlaneSocket = async (port: number): Promise<PlaneSocket | null> => {
    const socketPath = planeSocketPath(config.home, port);
    if (!socketPath) {
      logger.info({ home: config.home }, 'no plane socket: the path under SEMIBOT_HOME is too long or not URL-safe; planes dial TCP');
      return null;
    }
    try {
      const s = await listenPlaneSocket(socketPath, WS_PATH);
      gateway.serve(s.server);
      return s;
    } catch (err) {
      logger.warn({ err, path: socketPath }, 'plane socket could not listen; planes dial TCP');
      return null;
    }
  };
  const sweeper = setInterval(() => events.evictIdle(EVENT_STATE_IDLE_MS), 60_000);
  sweeper.unref();

  return {
    http,
    ctx,
    async listen() {
      address = await http.listen({ port: config.port, host: config.host });
      // an operator's SEMIBOT_PUBLIC_WS_URL is where every plane dials, this host's too
      planeSocket = config.planeSocket && !config.publicWsUrl ? await openPlaneSocket((http.server.address() as AddressInfo).port) : null;
      if (cluster.distributed) {
        // other replicas may be driving runs: a dead one's are found by the sweep, never taken blindly
        await leases.tick();
      } else {
        await scheduler.reapOrphans();
        const recovered = await runs.planeLoss.recover();
        if (recovered.resumed) logger.warn(recovered, 'runs interrupted by the previous shutdown are being resumed');
      }
      leases.start();
      ready = true;
      void db.background?.().catch(() => {}); // a database thread that died fails every query anyway
      return address;
    },
    async drain() {
      // a load balancer stops sending new work once /readyz fails; runs in flight get time to end
      ready = false;
      runs.startDraining();
      leases.stopSweeping();
      const until = Date.now() + config.drainTimeoutMs;
      while (runs.activeCount > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (runs.activeCount > 0) {
        // what is still running is handed over now instead of after its lease runs out
        const ids = runs.activeRunIds();
        for (const id of ids) runs.lostLease(id);
        await releaseLeases(db, ids, runs.lease.owner).catch((err) => logger.warn({ err }, 'lease hand-over failed'));
        logger.warn({ runs: ids.length }, 'drain timed out: runs handed over to other replicas');
      }
      await scheduler.stopAndRelease((userId) => cluster.hosts.release(userId)).catch((err) => logger.warn({ err }, 'releasing planes failed'));
    },
    async close() {
      ready = false;
      leases.stop();
      clearInterval(sweeper);
      await gateway.close();
      await planeSocket?.close();
      await scheduler.stopAll();
      await driver.stopAll();
      await http.close();
      await events.close();
      await usage.close();
      await snapshots.close();
      await remoteMcp.close();
      await closeMock?.();
      await cluster.close();
      await (await vacuum)?.stop();
      await db.close();
    },
  };
}
