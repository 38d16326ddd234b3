import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { PlaneHandle, PlaneSpec, VmDriver } from './driver.js';

const STOP_GRACE_S = 3;
const LABEL_INSTANCE = 'semibot.instance';
const LABEL_USER = 'semibot.user';

export interface DockerDriverOptions {
  /** the plane's image (deploy/build-plane-image.sh builds one from local files) */
  image: string;
  /** Docker Engine API socket @default /var/run/docker.sock */
  socketPath: string;
  cpus: number;
  memoryBytes: number;
  logger: Logger;
}

/**
 * `docker` mode: a container per user through the Docker Engine API (dockerode). The container
 * shares the host's network (it dials the control plane on loopback like a process plane), runs
 * as uid 1000 with the configured CPU and memory limits, and keeps its disk in a named volume per
 * user (`semibot-plane-<user>`) — a container killed mid-turn is replaced by one that mounts the
 * same volume and resumes from the checkpoints on it. Isolation: the container's (namespaces,
 * cgroups, its own filesystem); not a VM boundary.
 */
export class DockerDriver implements VmDriver {
  readonly mode = 'docker' as const;
  private readonly docker: Docker;

  constructor(private readonly o: DockerDriverOptions) {
    this.docker = new Docker({ socketPath: o.socketPath });
  }

  /** The engine answers and the image is there: what /readyz and a clear start error need. */
  async check(): Promise<string | null> {
    try {
      await this.docker.getImage(this.o.image).inspect();
      return null;
    } catch (err) {
      return `docker mode: ${(err as { statusCode?: number }).statusCode === 404 ? `image ${this.o.image} not found (bash deploy/build-plane-image.sh)` : (err as Error).message}`;
    }
  }

  async start(spec: PlaneSpec): Promise<PlaneHandle> {
    const volume = `semibot-plane-${spec.userId}`;
    const container = await this.docker.createContainer({
      Image: this.o.image,
      name: `semibot-plane-${spec.instanceId}-${Date.now().toString(36)}`,
      User: '1000:1000',
      Env: [
        `SEMIBOT_CONTROL_URL=${spec.wsUrl}`,
        `SEMIBOT_VM_TOKEN=${spec.token}`,
        `SEMIBOT_CONNECT_TICKET=${spec.ticket}`,
        'SEMIBOT_HOME=/plane',
        `SEMIBOT_INSTANCE_ID=${spec.instanceId}`,
        `LOG_LEVEL=${spec.logLevel}`,
      ],
      Labels: { [LABEL_INSTANCE]: spec.instanceId, [LABEL_USER]: spec.userId },
      HostConfig: {
        NetworkMode: 'host',
        // the named volume is created on first use, initialised from the image's /plane (uid 1000)
        Binds: [`${volume}:/plane`],
        NanoCpus: Math.round(this.o.cpus * 1e9),
        Memory: this.o.memoryBytes,
        // no restart policy: a dead plane is the scheduler's to replace (its runs are re-delivered)
        RestartPolicy: { Name: 'no' },
      },
    });
    const log = this.o.logger.child({ plane: spec.instanceId, container: container.id.slice(0, 12) });
    // attached before start (a container that dies at once is still seen to exit), for its next
    // exit: a created container is "not running" already, and the default condition returns at once
    const waited = container.wait({ condition: 'next-exit' });
    await container.start();
    void this.forwardLogs(container);
    const exited = waited.then(
      (r: { StatusCode: number }) => ({ code: r.StatusCode, signal: r.StatusCode === 137 ? 'SIGKILL' : null }),
      () => ({ code: -1, signal: null }),
    );
    void exited.then(async (r) => {
      log.info(r, 'plane container exited');
      await container.remove({ force: true }).catch(() => {});
    });
    return {
      vmId: container.id,
      exited,
      stop: async () => {
        await container.stop({ t: STOP_GRACE_S }).catch(() => {}); // already stopped: fine
        await exited;
      },
    };
  }

  /** The plane logs JSON lines; pass them through so one log shows both sides of a turn. */
  private async forwardLogs(container: Docker.Container): Promise<void> {
    try {
      const stream = await container.logs({ follow: true, stdout: true, stderr: true });
      this.docker.modem.demuxStream(stream, process.stdout, process.stdout);
    } catch {
      /* the container is gone already */
    }
  }

  /** Removes a container a previous control-plane process started — only if it is that instance's. */
  async reap(vmId: string, instanceId: string): Promise<boolean> {
    try {
      const info = await this.docker.getContainer(vmId).inspect();
      if (info.Config.Labels?.[LABEL_INSTANCE] !== instanceId) return false;
      await this.docker.getContainer(vmId).remove({ force: true });
      return true;
    } catch {
      return false; // gone already
    }
  }

  /** Containers of planes whose instances are over (their rows ended while nobody watched). */
  async reapAllBut(liveInstances: Set<string>): Promise<number> {
    const all = await this.docker.listContainers({ all: true, filters: { label: [LABEL_INSTANCE] } }).catch(() => []);
    let n = 0;
    for (const c of all) {
      if (liveInstances.has(c.Labels[LABEL_INSTANCE] ?? '')) continue;
      await this.docker.getContainer(c.Id).remove({ force: true }).then(() => n++, () => {});
    }
    return n;
  }
}
