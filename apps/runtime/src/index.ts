import { fileURLToPath } from 'node:url';

/** Path of the daemon's entry point, for drivers that start a plane as a process. */
export const daemonEntry = fileURLToPath(new URL('./main.js', import.meta.url));

export type { RuntimeAdapter, TurnContext, TurnResult } from './adapter.js';

// The SemiGraph engine itself, for benchmarks and embedders.
export { runGraph, type GraphDeps } from './runtimes/semigraph/graph.js';
export { CheckpointStore } from './runtimes/semigraph/checkpoints.js';
export { ShortTermMemory } from './short-term-memory.js';
export { initialState, type GraphState } from './runtimes/semigraph/state.js';
export { findOpenClaw, type OpenClawInstall } from './runtimes/openclaw/install.js';
export { OpenClawGateway } from './runtimes/openclaw/gateway.js';
