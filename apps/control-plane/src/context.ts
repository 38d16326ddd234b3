import type { ExecutionPaths } from './runs/execution.js';
import type { Logger } from 'pino';
import type { LlmConfig } from '@semibot/protocol';
import type { Config } from './config.js';
import type { Db } from './db/db.js';
import type { Tokens } from './auth/tokens.js';
import type { EventLog } from './events/event-log.js';
import type { WsGateway } from './gateway/ws-gateway.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { RunEngine } from './runs/run-engine.js';
import type { RemoteMcp } from './mcp/remote-mcp.js';
import type { MemoryService } from './memory/memory-service.js';
import type { Metrics } from './http/metrics.js';
import type { WriteBehind } from './db/write-behind.js';
import type { UsageInsert } from './store/usage.js';
import type { SnapshotInsert } from './store/snapshots-audit.js';
import type { Cluster } from './cluster/cluster.js';
import type { LeaseKeeper } from './runs/leases.js';

/** The resources every route and system shares, built once in app.ts. */
export interface AppContext {
  config: Config;
  db: Db;
  logger: Logger;
  cluster: Cluster;
  tokens: Tokens;
  events: EventLog;
  /** usage records, written in batches (read them after `usage.flush()`) */
  usage: WriteBehind<UsageInsert>;
  /** session snapshots planes send after each turn, written in batches (read after `snapshots.flush()`) */
  snapshots: WriteBehind<SnapshotInsert>;
  gateway: WsGateway;
  scheduler: Scheduler;
  runs: RunEngine;
  /** runtime or direct execution, and the fallback monitor */
  execution: ExecutionPaths;
  remoteMcp: RemoteMcp;
  memory: MemoryService;
  leases?: LeaseKeeper;
  /** set right after the context is built (its collectors read the rest of the context) */
  metrics?: Metrics;
  /** plane → control plane requests served, by method (metrics, and tests that count fetches) */
  planeRequests: Record<string, number>;
  llm: LlmConfig;
  /** set when no model was configured and the bundled mock model answers instead */
  llmNotice: string | null;
}
