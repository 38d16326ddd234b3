import { fileURLToPath } from 'node:url';

/** Path of the daemon's entry point, for drivers that start a plane as a process. */
export const daemonEntry = fileURLToPath(new URL('./main.js', import.meta.url));

export type { RuntimeAdapter, TurnContext, TurnResult } from './adapter.js';
