/** What one run measures and how hard: the full benchmark, or the smoke version `npm test` runs. */

export interface LatencyLevel {
  /** concurrent streams, one session each */
  streams: number;
  /** tokens per stream (`/ts N D`) */
  tokens: number;
  /** ms between tokens */
  delayMs: number;
}

export interface BenchConfig {
  smoke: boolean;
  latency: LatencyLevel[];
  /** passes of each latency level; the figure is the pass with the median p99 */
  latencyPasses: number;
  /** messages per relay count for the hop floor (hop-floor.ts), at the 1-stream cadence */
  hopFloorMessages: number;
  /** sequential turns in one warm session (plus 2 unrecorded warm-ups) */
  warmTurns: number;
  /** one-token turns posted at once (one per session) and how many such rounds: turn-burst.ts */
  turnBurst: { turns: number; rounds: number };
  /** sequential turns of one session for the long-session figure (long-session.ts) */
  longSessionTurns: number;
  /** fresh users, each starting an execution plane */
  coldStarts: number;
  /** extra control-plane processes started on fresh homes for start → ready (the one under test is a sample too) */
  readyStarts: number;
  /** restarts of the control plane under test on its populated home, at the end */
  restarts: number;
  throughput: { streams: number; tokens: number };
  /** idle GET /events connections opened for the per-connection RSS figure */
  sseConnections: number;
  /** extra idle sessions on one plane for the per-session RSS figure */
  idleSessions: number;
  /** the whole run is aborted past this */
  deadlineMs: number;
  /** bound on any single load job */
  jobTimeoutMs: number;
  /** batch-submit.ts: batches of turns stored at each number of sessions stored, other runs running meanwhile */
  batchSubmit: { batches: number; sessionLevels: number[]; running: number };
}

export const FULL: BenchConfig = {
  smoke: false,
  // 200 streams at 20 ms (50 tokens/s each, a fast real model) is 10k tokens/s in total: a load
  // the product should carry with room to spare, not a saturation test (that is `throughput`).
  latency: [
    { streams: 1, tokens: 200, delayMs: 5 },
    { streams: 20, tokens: 100, delayMs: 5 },
    { streams: 200, tokens: 50, delayMs: 20 },
  ],
  latencyPasses: 3,
  hopFloorMessages: 400,
  warmTurns: 50,
  turnBurst: { turns: 200, rounds: 5 },
  longSessionTurns: 300,
  coldStarts: 5,
  readyStarts: 5,
  restarts: 3,
  throughput: { streams: 20, tokens: 5000 },
  sseConnections: 1000,
  idleSessions: 100,
  deadlineMs: 10 * 60_000,
  jobTimeoutMs: 120_000,
  batchSubmit: { batches: 30, sessionLevels: [1_000, 20_000], running: 200 },
};

export const SMOKE: BenchConfig = {
  smoke: true,
  latency: [
    { streams: 1, tokens: 10, delayMs: 5 },
    { streams: 2, tokens: 10, delayMs: 5 },
  ],
  latencyPasses: 1,
  hopFloorMessages: 20,
  warmTurns: 5,
  turnBurst: { turns: 2, rounds: 1 },
  longSessionTurns: 10,
  coldStarts: 2,
  readyStarts: 0,
  restarts: 1,
  throughput: { streams: 2, tokens: 200 },
  sseConnections: 10,
  idleSessions: 5,
  deadlineMs: 60_000,
  jobTimeoutMs: 20_000,
  batchSubmit: { batches: 2, sessionLevels: [100, 200], running: 5 },
};
