import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BroadcastMessage, Bus, Cluster, PlaneHosts, ReplicaMessage } from './cluster.js';
import { RedisEventTail } from './redis-event-tail.js';

const luaDir = new URL('../../lua/', import.meta.url);
const lua = (name: string) => readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');

export interface RedisClusterOptions {
  url: string;
  replicaId: string;
  logger: Logger;
  /** how long a replica's claim on a user's plane lasts unrenewed */
  hostTtlMs: number;
}

/** A Redis command that runs one of lua/*.lua (EVALSHA, loaded on first use). */
export type Script = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * The distributed Cluster: one Redis connection for commands (auto-pipelined: what one tick sends
 * leaves in one write) and one for subscriptions, shared by the bus, the plane hosts and the tail.
 * A plain Redis server (or a primary with replicas): the multi-key scripts below are not written
 * for Redis Cluster's slot rules.
 */
export async function connectRedisCluster(o: RedisClusterOptions): Promise<Cluster> {
  const options = { enableAutoPipelining: true, maxRetriesPerRequest: 2, lazyConnect: true, connectionName: `semibot:${o.replicaId}` };
  const cmd = new Redis(o.url, options);
  const sub = new Redis(o.url, { ...options, maxRetriesPerRequest: null });
  for (const [name, conn] of [['commands', cmd], ['subscriber', sub]] as const) {
    conn.on('error', (err: Error) => o.logger.warn({ err: err.message, connection: name }, 'redis connection error'));
  }
  const script = (name: string): Script => {
    const command = `semibot_${name.replace(/-/g, '_')}`;
    cmd.defineCommand(command, { lua: lua(name) });
    const run = (cmd as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[command]!.bind(cmd);
    return (keys, args) => run(keys.length, ...keys, ...args);
  };

  // One subscriber connection, many channels: each channel has one handler.
  const channels = new Map<string, (message: string) => void>();
  sub.on('message', (channel: string, message: string) => channels.get(channel)?.(message));
  const resubscribed: (() => void)[] = [];
  let readyOnce = false;
  // ioredis subscribes again by itself after a reconnect; what was published meanwhile is lost
  sub.on('ready', () => {
    if (readyOnce) resubscribed.forEach((fn) => fn());
    readyOnce = true;
  });
  await Promise.all([cmd.connect(), sub.connect()]);
  const subscriptions = {
    async subscribe(channel: string, handler: (message: string) => void) {
      channels.set(channel, handler);
      await sub.subscribe(channel);
    },
    unsubscribe(channel: string) {
      if (channels.delete(channel)) void sub.unsubscribe(channel).catch(() => {});
    },
    onResubscribed: (fn: () => void) => void resubscribed.push(fn),
  };

  const replicaChannel = (id: string) => `sb:replica:${id}`;
  const handlers: ((msg: ReplicaMessage) => void)[] = [];
  await subscriptions.subscribe(replicaChannel(o.replicaId), (message) => {
    let msg: ReplicaMessage;
    try {
      msg = JSON.parse(message) as ReplicaMessage;
    } catch {
      return o.logger.warn({ message: message.slice(0, 200) }, 'unreadable replica message dropped');
    }
    for (const h of handlers) h(msg);
  });
  // one channel for all replicas; each drops its own messages
  const broadcastHandlers: ((msg: BroadcastMessage) => void)[] = [];
  await subscriptions.subscribe('sb:all', (message) => {
    let m: { from: string; msg: BroadcastMessage };
    try {
      m = JSON.parse(message) as { from: string; msg: BroadcastMessage };
    } catch {
      return o.logger.warn({ message: message.slice(0, 200) }, 'unreadable broadcast dropped');
    }
    if (m.from !== o.replicaId) for (const h of broadcastHandlers) h(m.msg);
  });
  const bus: Bus = {
    async send(to, msg) {
      await cmd.publish(replicaChannel(to), JSON.stringify(msg));
    },
    onMessage: (h) => void handlers.push(h),
    async broadcast(msg) {
      await cmd.publish('sb:all', JSON.stringify({ from: o.replicaId, msg }));
    },
    onBroadcast: (h) => void broadcastHandlers.push(h),
  };

  const hostKey = (userId: string) => `sb:host:${userId}`;
  const renewHosts = script('renew-hosts');
  const releaseHost = script('release-host');
  const hosts: PlaneHosts = {
    async hostFor(userId) {
      // SET NX GET: claims the user for this replica when nobody holds it, else says who does
      const holder = await cmd.set(hostKey(userId), o.replicaId, 'PX', o.hostTtlMs, 'NX', 'GET');
      return holder ?? o.replicaId;
    },
    async renew(userIds) {
      if (userIds.length === 0) return [];
      const lost = (await renewHosts(userIds.map(hostKey), [o.replicaId, o.hostTtlMs])) as number[];
      return lost.map((i) => userIds[i - 1]!);
    },
    async release(userId) {
      await releaseHost([hostKey(userId)], [o.replicaId]);
    },
    // a hash per pool: replica → until when its announcement holds (a dead replica's lapses)
    async announcePool(pool, present) {
      if (present) await cmd.hset(`sb:pool:${pool}`, o.replicaId, String(Date.now() + o.hostTtlMs));
      else await cmd.hdel(`sb:pool:${pool}`, o.replicaId);
    },
    async poolReplica(pool) {
      const now = Date.now();
      const alive = Object.entries(await cmd.hgetall(`sb:pool:${pool}`)).filter(([, until]) => Number(until) > now);
      return alive.length ? alive[Math.floor(Math.random() * alive.length)]![0] : null;
    },
  };

  const tail = new RedisEventTail(cmd, subscriptions, { append: script('append-events'), raiseFence: script('raise-fence') });
  return {
    replicaId: o.replicaId,
    distributed: true,
    bus,
    hosts,
    tail,
    async close() {
      await Promise.allSettled([sub.quit(), cmd.quit()]);
    },
  };
}
