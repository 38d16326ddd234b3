import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { writeLogLine } from '../logging.js';
import type { PlaneHandle, PlaneSpec, VmDriver } from './driver.js';
import { childPlane } from './child-plane.js';

/**
 * Node flags of a plane. One V8 helper thread (default four, each keeping its own malloc arena).
 * A young generation of up to 4 MB: at 1 MB, 200 concurrent turns made ~100 scavenges a second of
 * ~2.7 ms each, a third of the plane's event loop, and its CPU per token was 95 µs against 74 µs at
 * 4 MB (npm run bench, 200 streams, alternating runs; the passes' p99 median 88 → 65 ms). An idle
 * plane costs the same either way: V8's memory reducer shrinks the young generation back within
 * ~15 s of the last turn (56.7 vs 56.8 MB resident; 61 vs 65 MB in the seconds right after it).
 * SEMIBOT_PLANE_NODE_OPTIONS replaces them.
 */
export const PLANE_NODE_FLAGS = ['--max-semi-space-size=4', '--v8-pool-size=1'];

/**
 * `process` mode: the plane is a child process of the control plane. No isolation at all — the
 * plane runs as the same OS user; `docker`/`microvm` modes are where isolation comes from.
 */
export class ProcessDriver implements VmDriver {
  readonly mode = 'process' as const;
  private readonly children = new Set<PlaneHandle>();

  constructor(
    private readonly entry: string,
    private readonly logger: Logger,
  ) {}

  async start(spec: PlaneSpec): Promise<PlaneHandle> {
    mkdirSync(spec.home, { recursive: true });
    // The plane gets only what it needs: never the control plane's database URL or JWT secret.
    const operatorFlags = process.env.SEMIBOT_PLANE_NODE_OPTIONS;
    const child = spawn(process.execPath, [...(operatorFlags ? [] : PLANE_NODE_FLAGS), this.entry], {
      cwd: spec.home,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? spec.home,
        // a child on this host reaches its control plane over the Unix socket when there is one
        SEMIBOT_CONTROL_URL: spec.localWsUrl ?? spec.wsUrl,
        SEMIBOT_VM_TOKEN: spec.token,
        SEMIBOT_CONNECT_TICKET: spec.ticket,
        SEMIBOT_HOME: spec.home,
        SEMIBOT_INSTANCE_ID: spec.instanceId,
        LOG_LEVEL: spec.logLevel,
        SEMIBOT_PARENT_PID: String(process.pid),
        // an operator's Node flags for planes (profiling, heap limits) replace PLANE_NODE_FLAGS
        ...(operatorFlags ? { NODE_OPTIONS: operatorFlags } : {}),
        // tracing settings travel with the plane so its spans join the same traces
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_'))),
        // where OpenClaw is installed, when the operator moved it (runtimes/openclaw/install.ts)
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SEMIBOT_OPENCLAW_') && k !== 'SEMIBOT_OPENCLAW_MEMORY_MB')),
      },
    });
    const log = this.logger.child({ plane: spec.instanceId, pid: child.pid });
    // The plane logs JSON lines; pass them through so one log shows both sides of a turn.
    const handle = childPlane(child, { what: 'plane process', log, onLine: writeLogLine });
    this.children.add(handle);
    void handle.exited.then(() => this.children.delete(handle));
    return handle;
  }

  /** Kills a plane process left by a previous control plane — only if it really is that plane. */
  async reap(vmId: string, instanceId: string): Promise<boolean> {
    const pid = Number(vmId);
    if (!Number.isInteger(pid) || pid <= 1) return false;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (!environ.split('\0').includes(`SEMIBOT_INSTANCE_ID=${instanceId}`)) return false;
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false; // gone already, or not ours to see
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((h) => h.stop()));
  }
}
