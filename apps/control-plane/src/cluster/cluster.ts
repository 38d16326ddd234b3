import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * What replicas of the control plane share beyond the database. Embedded (one process, the
 * `npm start` default) every part is trivial: this replica hosts every plane and drives every
 * run, and the event log needs no shared tail. With REDIS_URL they are Redis-backed
 * (redis-cluster.ts): the same run engine, event log and routes run unchanged on N replicas.
 */
export interface Cluster {
  /** this replica's name: the owner recorded on the runs it leases */
  readonly replicaId: string;
  /** true when other replicas may exist (Redis): leases can expire under us, work can be elsewhere */
  readonly distributed: boolean;
  readonly bus: Bus;
  readonly hosts: PlaneHosts;
  /** the event log's shared tail; null when this process is the only one (embedded) */
  readonly tail: EventTail | null;
  close(): Promise<void>;
}

/** What one replica asks of another. */
export type ReplicaMessage =
  /** drive this session's next piece of work (this replica hosts its user's plane) */
  | { type: 'kick'; sessionId: string }
  /** cancel this session's running run (this replica drives it) */
  | { type: 'cancel'; sessionId: string; runId: string };

/** What one replica tells all the others. */
export type BroadcastMessage =
  /** the execution monitor switched a scope ('global' or an org id) to direct, or back */
  {
    type: 'fallback';
    scope: string;
    state: { fallbackEnabled: boolean; fallbackReason: string; since: string | null; probeAt: string | null };
  };

/** Messages addressed to one replica. At most once: every sender also relies on the lease sweep. */
export interface Bus {
  send(replicaId: string, msg: ReplicaMessage): Promise<void>;
  onMessage(handler: (msg: ReplicaMessage) => void): void;
  /** to every other replica, at most once (embedded: there is none) */
  broadcast(msg: BroadcastMessage): Promise<void>;
  onBroadcast(handler: (msg: BroadcastMessage) => void): void;
}

/**
 * Which replica hosts a user's execution plane (holds its socket, drives its runs). A claim lasts
 * a TTL and is renewed by its holder, so a dead replica's claims lapse by themselves.
 */
export interface PlaneHosts {
  /** the replica hosting the user's plane; when none does, this replica claims it and is returned */
  hostFor(userId: string): Promise<string>;
  /** renews this replica's claims on these users; returns the users another replica holds now */
  renew(userIds: string[]): Promise<string[]>;
  release(userId: string): Promise<void>;
  /** says whether planes of this pool are connected here (renewed with the leases) */
  announcePool(pool: string, present: boolean): Promise<void>;
  /** a replica with planes of this pool connected, or null when none has any */
  poolReplica(pool: string): Promise<string | null>;
}

/** One event as the tail carries it: its id and its JSON (the SSE frame's data). */
export interface TailEvent {
  id: number;
  json: string;
}

export type TailAppend =
  | { ok: true }
  /** a newer attempt of the run took it over: this writer has lost the run */
  | { ok: false; reason: 'fenced'; fence: number }
  /** the tail already holds a higher id: this writer's id block is stale */
  | { ok: false; reason: 'stale_ids'; lastId: number };

/**
 * The newest events of every session, shared by all replicas: whoever drives a run appends here
 * (fenced by the run's attempt), every replica that serves a stream of the session watches here.
 * The database stays the authority for everything older; the tail covers what a replica has not
 * written to it yet.
 */
export interface EventTail {
  append(sessionId: string, runId: string, attempt: number, events: TailEvent[]): Promise<TailAppend>;
  /** refuses, from now on, appends of attempts below `attempt` of this run */
  raiseFence(sessionId: string, runId: string, attempt: number): Promise<void>;
  /** the tail's events after `afterId`, ascending */
  read(sessionId: string, afterId: number): Promise<TailEvent[]>;
  /** the tail's highest id; 0 when it holds nothing */
  lastId(sessionId: string): Promise<number>;
  /** resolves once subscribed: every later append reaches `onAppend` (prev: the id before the batch) */
  watch(sessionId: string, onAppend: (prev: number, events: TailEvent[]) => void): Promise<void>;
  unwatch(sessionId: string): void;
  /** told when the subscription was re-established: messages may have been missed meanwhile */
  onResubscribed(fn: () => void): void;
}

/** A replica name that says where it runs and never repeats (a restarted pod is a new replica). */
export function newReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** One process: it hosts everything; messages to itself are delivered in a later tick. */
export function embeddedCluster(replicaId: string): Cluster {
  const handlers: ((msg: ReplicaMessage) => void)[] = [];
  return {
    replicaId,
    distributed: false,
    tail: null,
    bus: {
      async send(to, msg) {
        if (to === replicaId) queueMicrotask(() => handlers.forEach((h) => h(msg)));
      },
      onMessage: (h) => void handlers.push(h),
      broadcast: async () => {},
      onBroadcast: () => {},
    },
    hosts: {
      hostFor: async () => replicaId,
      renew: async () => [],
      release: async () => {},
      announcePool: async () => {},
      poolReplica: async () => replicaId,
    },
    close: async () => {},
  };
}
