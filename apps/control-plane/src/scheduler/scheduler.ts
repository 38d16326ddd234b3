import path from 'node:path';
import type { Logger } from 'pino';
import { CloseCodes, SemibotError, type RuntimeType, type VmConnectGrant, type VmMode, type VmStatus } from '@semibot/protocol';
import { isUniqueViolation, type Db } from '../db/db.js';
import { newTicket, type Principal, type Tokens } from '../auth/tokens.js';
import { createVm, currentVm, getVm, issueTicket, liveVms, markBootstrap, releasePlaneHosts, renewPlaneHosts, updateVm, type VmInstance } from '../store/vms.js';
import type { PlaneConnection } from '../gateway/plane-connection.js';
import type { WsGateway } from '../gateway/ws-gateway.js';
import type { PlaneHandle, VmDriver } from './driver.js';
import type { PlanePool } from './pool.js';
import { orgWantsDedicatedPlanes } from '../store/users.js';
import { pollFor, resolveRuntimeType, resolveVmMode } from './settings-chains.js';

export interface SchedulerOptions {
  db: Db;
  tokens: Tokens;
  gateway: WsGateway;
  /** `process` mode's driver (always there) */
  driver: VmDriver;
  /** the drivers of other modes this deployment has (docker, when configured) */
  drivers?: Partial<Record<VmMode, VmDriver>>;
  logger: Logger;
  home: string;
  wsUrl: () => string;
  /** the plane socket's URL, while it listens */
  localWsUrl?: () => string | null;
  logLevel: string;
  connectTimeoutMs: number;
  cooldownMs: number;
  maxAttempts: number;
  /** stop a plane that has had no run for this long; 0 = never */
  idleTimeoutMs: number;
  /** the shared worker pool, when the deployment runs one */
  pool: PlanePool | null;
  /** this replica's claim on the planes it starts (renewed with the run leases) */
  host: { owner: string; ms: number };
  /** a replica with planes of the pool connected (the cluster's view); null when none has any */
  poolReplica: () => Promise<string | null>;
  /** the VM mode of users, agents and orgs that set none (SEMIBOT_VM_MODE) */
  defaultMode: VmMode;
  /** the end of the runtime type chain (SEMIBOT_RUNTIME_TYPE) */
  defaultRuntime: RuntimeType;
  /** what a local plane dials, when the deployment names it */
  publicWsUrl: string | null;
}

/** The user's plane is hosted by another replica (its claim has not lapsed): runs go there. */
export class PlaneElsewhere extends Error {
  constructor(readonly replicaId: string) {
    super(`the plane is hosted by replica ${replicaId}`);
  }
}

/** How long an org's placement (dedicated planes or the pool) is trusted before it is read again. */
const PLACEMENT_TTL_MS = 5_000;


/**
 * Gives each user one execution plane: finds it connected, or starts it through the VM driver and
 * waits (bounded) for it to dial in. Failed starts back off by a cooldown and end `failed` after
 * `maxAttempts`; the state and its reasons live in user_vm_instances for GET /vm/status.
 */
export class Scheduler {
  private readonly starting = new Map<string, Promise<PlaneConnection>>();
  private readonly handles = new Map<string, PlaneHandle>();
  private readonly lastBusy = new Map<string, number>();
  private idleSweep: NodeJS.Timeout | null = null;
  /** told when a plane's process ends (set by the app: the run engine re-delivers its runs) */
  onPlaneExit: (instanceId: string, why: string) => void = () => {};
  /** whether a user has runs in flight (set by the app) */
  isBusy: (userId: string) => boolean = () => false;
  idleStops = 0;
  private closing = false;
  private readonly placements = new Map<string, { pool: boolean; at: number }>();

  constructor(private readonly o: SchedulerOptions) {
    if (o.idleTimeoutMs > 0) {
      this.idleSweep = setInterval(() => void this.stopIdle(), Math.max(250, Math.min(5_000, o.idleTimeoutMs / 4)));
      this.idleSweep.unref();
    }
  }

  get pool(): PlanePool | null {
    return this.o.pool;
  }

  /** Whether the org's sessions run on the shared pool (the deployment has one, the org is not dedicated). */
  async usesPool(orgId: string): Promise<boolean> {
    if (!this.o.pool) return false;
    const known = this.placements.get(orgId);
    if (known && Date.now() - known.at < PLACEMENT_TTL_MS) return known.pool;
    const pool = !(await orgWantsDedicatedPlanes(this.o.db, orgId));
    if (this.placements.size > 10_000) this.placements.clear();
    this.placements.set(orgId, { pool, at: Date.now() });
    return pool;
  }

  forgetPlacement(orgId: string): void {
    this.placements.delete(orgId);
  }

  /**
   * A plane of the shared pool for this session: one connected here, else the replica that has
   * some takes the run (PlaneElsewhere); with none anywhere, waits (bounded) for one to dial in.
   */
  private async poolPlane(sessionId: string): Promise<PlaneConnection> {
    const pool = this.o.pool!;
    const conn = await pollFor(
      async () => {
        const here = pool.pick(sessionId);
        if (here) return here;
        const other = await this.o.poolReplica();
        if (other !== null && other !== this.o.host.owner) throw new PlaneElsewhere(other);
        return null;
      },
      this.o.connectTimeoutMs,
      () => this.closing,
    );
    if (conn) return conn;
    throw new SemibotError('VM_UNAVAILABLE', `no plane of the shared pool '${pool.name}' is connected`, 503, { retryAfterMs: 5_000 });
  }

  /**
   * Renews this replica's claim on the planes it hosts. A plane whose claim lapsed and was taken
   * by another replica (this one stalled past it) is stopped here: its user's runs are driven there.
   */
  async renewHosts(): Promise<void> {
    const users = this.hostedUsers();
    const kept = await renewPlaneHosts(this.o.db, users, this.o.host);
    for (const userId of users) {
      if (kept.has(userId) || this.starting.has(userId)) continue;
      const conn = this.o.gateway.connectionForUser(userId);
      if (!conn) continue;
      this.o.logger.warn({ userId, instanceId: conn.instanceId }, 'another replica hosts this plane now: stopping the one here');
      const handle = this.handles.get(conn.instanceId);
      this.handles.delete(conn.instanceId); // stopped on purpose: not a crash
      conn.close(CloseCodes.goingAway, 'hosted elsewhere');
      await handle?.stop();
    }
  }

  /** Whether this replica hosts the user's plane: connected here, or being started here. */
  hosts(userId: string): boolean {
    return this.starting.has(userId) || this.o.gateway.connectionForUser(userId) !== null;
  }

  /** The users whose planes this replica hosts (their claims are renewed with the leases). */
  hostedUsers(): string[] {
    const users = new Set(this.starting.keys());
    for (const c of this.o.gateway.connections()) if (c.open && !c.pool) users.add(c.principal.userId);
    return [...users];
  }

  /** Records that a plane was busy now (a run delivered, or a heartbeat reporting work). */
  touch(instanceId: string): void {
    this.lastBusy.set(instanceId, Date.now());
  }

  /**
   * Idle reclamation, judged by the plane's own busy state (heartbeats' activeRuns) and the runs
   * this control plane drives for it — not by traffic. The plane is stopped with SIGTERM, on
   * which it sends a final snapshot of its sessions; the next message starts a new one.
   */
  private async stopIdle(): Promise<void> {
    const cutoff = Date.now() - this.o.idleTimeoutMs;
    for (const conn of this.o.gateway.connections()) {
      const id = conn.instanceId;
      // the pool's planes are the operator's, a local plane is its user's machine: not this replica's to stop
      if (conn.pool || !this.handles.has(id)) continue;
      if (conn.activeRuns > 0 || this.isBusy(conn.principal.userId) || this.starting.has(conn.principal.userId)) continue;
      if ((this.lastBusy.get(id) ?? conn.connectedAt) > cutoff) continue;
      this.o.logger.info({ instanceId: id, idleMs: this.o.idleTimeoutMs }, 'stopping idle execution plane');
      this.idleStops++;
      this.lastBusy.delete(id);
      const handle = this.handles.get(id);
      this.handles.delete(id); // its exit is expected: not a crash
      await updateVm(this.o.db, id, { status: 'terminated' });
      if (handle) await handle.stop();
      else conn.close(1000, 'idle');
    }
  }

  /** At start-up: planes a previous control-plane process started are stopped; their runs get fresh ones. */
  async reapOrphans(): Promise<number> {
    let reaped = 0;
    const live = await liveVms(this.o.db);
    for (const vm of live) {
      const driver = this.driverFor(vm.mode);
      if (!driver) continue; // local planes are their users' machines: they dial back in
      if (vm.vmId && (await driver.reap(vm.vmId, vm.id))) reaped++;
      await updateVm(this.o.db, vm.id, { status: 'disconnected' });
    }
    // containers whose rows ended while no control plane watched them
    for (const d of Object.values(this.o.drivers ?? {})) if (d.reapAllBut) reaped += await d.reapAllBut(new Set(live.map((v) => v.id)));
    if (reaped) this.o.logger.warn({ reaped }, 'stopped execution planes left by the previous control plane');
    return reaped;
  }

  async ensurePlane(p: Principal, opts: { bypassCooldown?: boolean; sessionId?: string; agentId?: string } = {}): Promise<PlaneConnection> {
    if (this.closing) throw new SemibotError('VM_UNAVAILABLE', 'the control plane is shutting down', 503, { retryAfterMs: 1_000 });
    if (opts.sessionId && (await this.usesPool(p.orgId))) return this.poolPlane(opts.sessionId);
    const connected = this.o.gateway.connectionForUser(p.userId);
    if (connected) return connected;
    const vm = await currentVm(this.o.db, p.userId);
    const live = vm && this.o.gateway.connection(vm.id);
    if (live) return live;
    const mode = await this.resolveMode(p.userId, opts.agentId ?? null);
    if (mode.mode === 'local') return this.localPlane(p.userId);
    // no await between this check and `starting.set` below: two turns of one user start one plane
    const inflight = this.starting.get(p.userId);
    if (inflight) return inflight;
    const driver = this.driverFor(mode.mode);
    if (!driver) {
      throw new SemibotError('VM_UNAVAILABLE', `VM mode '${mode.mode}' (the ${mode.from}'s setting) is not available on this deployment: it runs ${this.modes().join(', ')} planes`, 503, {
        retryAfterMs: this.o.cooldownMs,
      });
    }
    if (vm && !opts.bypassCooldown) {
      const wait = this.retryAfterMs(vm);
      if (wait > 0) {
        const hint = vm.status === 'failed' ? ' — it failed too many times in a row; POST /api/v1/vm/rebootstrap to try again' : '';
        throw new SemibotError('VM_UNAVAILABLE', `execution plane unavailable: ${vm.bootstrapLastError ?? vm.status}${hint}`, 503, {
          retryAfterMs: wait,
        });
      }
    }
    const start = this.bootstrap(p, vm, driver).finally(() => this.starting.delete(p.userId));
    this.starting.set(p.userId, start);
    return start;
  }

  resolveMode(userId: string, agentId: string | null): Promise<VmStatus['resolvedMode']> {
    return resolveVmMode(this.o.db, userId, agentId, this.o.defaultMode);
  }

  /** `local`: nothing to start — the user's own machine dials in (`semibot-runtime connect`); wait for it, bounded. */
  private async localPlane(userId: string): Promise<PlaneConnection> {
    const conn = await pollFor(() => this.o.gateway.connectionForUser(userId), this.o.connectTimeoutMs, () => this.closing);
    if (conn) return conn;
    throw new SemibotError(
      'VM_UNAVAILABLE',
      'your machine is not connected: run `semibot-runtime connect --server <this server> --api-key <an API key of yours>` on it (the console\'s plane page shows the exact command)',
      503,
      { retryAfterMs: 5_000 },
    );
  }

  /**
   * Hands the caller's own machine the credentials to dial in as their plane (POST /vm/connect):
   * a `local` instance (a plane of another mode the user had is stopped), a one-time ticket, and
   * a VM token scoped to the caller. The caller's VM mode must resolve to `local`.
   */
  async grantLocal(p: Principal): Promise<VmConnectGrant> {
    const mode = await this.resolveMode(p.userId, null);
    if (mode.mode !== 'local') {
      throw new SemibotError('CONFLICT', `your VM mode is '${mode.mode}' (the ${mode.from}'s setting): set it to 'local' first (PATCH /api/v1/auth/me {"vmMode":"local"})`, 409);
    }
    let vm = await currentVm(this.o.db, p.userId);
    if (vm && vm.status !== 'terminated' && vm.status !== 'failed' && vm.mode !== 'local') {
      // the user moves from a plane started here to their own machine
      this.o.gateway.connection(vm.id)?.close(1000, 'vm mode changed');
      const handle = this.handles.get(vm.id);
      this.handles.delete(vm.id);
      await handle?.stop();
      await updateVm(this.o.db, vm.id, { status: 'terminated' });
      vm = null;
    }
    const row = await this.liveRow(p, vm, 'local');
    const { ticket, hash } = newTicket();
    await issueTicket(this.o.db, row.id, hash);
    return { instanceId: row.id, token: await this.o.tokens.signVm({ ...p, instanceId: row.id }), ticket, wsUrl: this.o.publicWsUrl };
  }

  private retryAfterMs(vm: VmInstance): number {
    if (vm.status === 'failed' && vm.bootstrapLastError) return this.o.cooldownMs;
    if (!vm.bootstrapLastError || !vm.lastBootstrapAt) return 0;
    return Math.max(0, Date.parse(vm.lastBootstrapAt) + this.o.cooldownMs - Date.now());
  }

  private async liveRow(p: Principal, vm: VmInstance | null, mode: VmMode = this.o.driver.mode): Promise<VmInstance> {
    if (vm && vm.status !== 'terminated' && vm.status !== 'failed') {
      if (vm.mode === mode) return vm;
      await updateVm(this.o.db, vm.id, { status: 'terminated' }); // the user's VM mode changed: a new instance
    }
    try {
      return await createVm(this.o.db, { userId: p.userId, orgId: p.orgId, mode });
    } catch (err) {
      // Another replica created it first: use theirs.
      const again = isUniqueViolation(err) ? await currentVm(this.o.db, p.userId) : null;
      if (!again) throw err;
      return again;
    }
  }

  /** The driver that starts planes of this mode here (none for `local`, or a mode not configured). */
  private driverFor(mode: VmMode): VmDriver | null {
    if (mode === this.o.driver.mode) return this.o.driver;
    return this.o.drivers?.[mode] ?? null;
  }

  private modes(): VmMode[] {
    return [this.o.driver.mode, ...(Object.keys(this.o.drivers ?? {}) as VmMode[]), 'local'];
  }

  private async bootstrap(p: Principal, previous: VmInstance | null, driver: VmDriver): Promise<PlaneConnection> {
    const row = await this.liveRow(p, previous, driver.mode);
    const { ticket, hash } = newTicket();
    const marked = await markBootstrap(this.o.db, row.id, hash, this.o.host);
    if ('hostedBy' in marked) throw new PlaneElsewhere(marked.hostedBy);
    const vm = marked;
    const log = this.o.logger.child({ instanceId: vm.id, userId: p.userId, attempt: vm.bootstrapAttempts });
    const startedAt = Date.now();
    let handle: PlaneHandle | null = null;
    let failure: string;
    try {
      // the previous process of this instance is stopped on purpose: its exit is not a crash (which
      // would re-deliver runs again and mark the row `disconnected` while this bootstrap provisions)
      const previousHandle = this.handles.get(vm.id);
      this.handles.delete(vm.id);
      await previousHandle?.stop();
      handle = await driver.start({
        instanceId: vm.id,
        userId: p.userId,
        wsUrl: this.o.wsUrl(),
        localWsUrl: this.o.localWsUrl?.() ?? undefined,
        token: await this.o.tokens.signVm({ ...p, instanceId: vm.id }),
        ticket,
        home: path.join(this.o.home, 'planes', p.userId),
        logLevel: this.o.logLevel,
      });
      this.handles.set(vm.id, handle);
      await updateVm(this.o.db, vm.id, { vmId: handle.vmId });
      const exited = handle.exited.then((r) => `plane exited before connecting (code ${r.code}, signal ${r.signal})`);
      const conn = await this.o.gateway.waitForConnection(vm.id, this.o.connectTimeoutMs, exited);
      if (conn) {
        log.info({ ms: Date.now() - startedAt }, 'execution plane ready');
        this.touch(vm.id);
        void handle.exited.then((r) => this.onExit(vm.id, handle!, `plane process exited (code ${r.code}, signal ${r.signal})`));
        return conn;
      }
      failure = (await Promise.race([exited, Promise.resolve(null)])) ?? `plane did not connect within ${this.o.connectTimeoutMs} ms`;
    } catch (err) {
      failure = `plane could not be started: ${(err as Error).message}`;
    }
    await handle?.stop();
    const failed = vm.bootstrapAttempts >= this.o.maxAttempts;
    await updateVm(this.o.db, vm.id, { status: failed ? 'failed' : 'disconnected', bootstrapLastError: failure });
    log.warn({ failure, failed }, 'execution plane bootstrap failed');
    throw new SemibotError('VM_START_FAILED', failure, 503, { retryAfterMs: this.o.cooldownMs });
  }

  private async onExit(instanceId: string, handle: PlaneHandle, why: string): Promise<void> {
    if (this.closing || this.handles.get(instanceId) !== handle) return; // shutting down, replaced, or stopped on purpose
    this.handles.delete(instanceId);
    // Its socket may not have reported the death yet: close it now, or a re-delivery could be handed
    // to the dead plane. Not terminate(): what the plane wrote before dying (its last snapshot) is still read.
    this.o.gateway.connection(instanceId)?.close(CloseCodes.goingAway, 'plane process exited');
    this.onPlaneExit(instanceId, why);
    await updateVm(this.o.db, instanceId, { status: 'disconnected' }).catch(() => {});
  }

  /** Called by the gateway when a plane's socket closes. */
  async onDisconnected(instanceId: string): Promise<void> {
    if (this.o.gateway.connection(instanceId)) return; // a newer socket replaced this one
    // a plane stopped on purpose (idle) closes its socket as it goes: it stays `terminated`
    const vm = await getVm(this.o.db, instanceId);
    if (vm?.status === 'terminated' || vm?.status === 'failed') return;
    await updateVm(this.o.db, instanceId, { status: 'disconnected' });
  }

  get defaultRuntime(): RuntimeType {
    return this.o.defaultRuntime;
  }

  /** GET /vm/status: the caller's plane, and both settings chains resolved (for a session or agent when named). */
  async status(p: Principal, at: { sessionId?: string | undefined; agentId?: string | undefined } = {}): Promise<VmStatus> {
    const [resolvedRuntime, resolvedMode] = await Promise.all([
      resolveRuntimeType(this.o.db, { userId: p.userId, agentId: at.agentId ?? null, sessionId: at.sessionId ?? null }, this.o.defaultRuntime),
      this.resolveMode(p.userId, at.agentId ?? null),
    ]);
    if (await this.usesPool(p.orgId)) return this.o.pool!.status(this.o.driver.mode, resolvedMode, resolvedRuntime);
    const vm = await currentVm(this.o.db, p.userId);
    const conn = vm ? this.o.gateway.connection(vm.id) : null;
    return {
      instanceId: vm?.id ?? null,
      mode: vm?.mode ?? resolvedMode.mode,
      state: vm?.status ?? 'none',
      connected: conn !== null,
      lastHeartbeatAt: conn ? new Date(conn.lastHeartbeatAt).toISOString() : (vm?.lastHeartbeatAt ?? null),
      connectedAt: vm?.connectedAt ?? null,
      bootstrapAttempts: vm?.bootstrapAttempts ?? 0,
      lastError: vm?.bootstrapLastError ?? null,
      retryAfterMs: vm && !conn ? this.retryAfterMs(vm) : 0,
      activeRuns: conn?.activeRuns ?? 0,
      placement: 'dedicated',
      resolvedMode,
      resolvedRuntime,
    };
  }

  /** Stops the current plane (if any) and starts a new one now, ignoring the cooldown. */
  async rebootstrap(p: Principal): Promise<VmStatus> {
    const vm = await currentVm(this.o.db, p.userId);
    if (vm) {
      this.o.gateway.connection(vm.id)?.close(1000, 'rebootstrap');
      await this.handles.get(vm.id)?.stop();
      if (vm.status === 'failed') await updateVm(this.o.db, vm.id, { status: 'terminated' });
      else await updateVm(this.o.db, vm.id, { resetAttempts: true });
    }
    try {
      await this.ensurePlane(p, { bypassCooldown: true });
    } catch (err) {
      if (!SemibotError.is(err)) throw err;
    }
    return this.status(p);
  }

  /**
   * Stops every plane here and gives up this replica's claims on them (draining): another replica
   * starts a user's plane on the user's next piece of work instead of waiting for the claims to lapse.
   */
  async stopAndRelease(release: (userId: string) => Promise<void>): Promise<void> {
    const users = this.hostedUsers();
    await this.stopAll();
    await releasePlaneHosts(this.o.db, this.o.host.owner);
    await Promise.all(users.map((u) => release(u).catch(() => {})));
  }

  async stopAll(): Promise<void> {
    this.closing = true;
    if (this.idleSweep) clearInterval(this.idleSweep);
    await Promise.all([...this.handles.values()].map((h) => h.stop()));
  }
}
