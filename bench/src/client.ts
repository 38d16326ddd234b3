import { hold, stream, type Dialect, type RequestSpec, type StreamResult } from './sse-client.js';

/**
 * The load generator, run as its own process (forked by main.ts) so that parsing thousands of
 * frames never shares an event loop with the orchestration, and the product and the baseline are
 * read by exactly the same code. Jobs arrive over IPC; each reply carries the job's id.
 */

export type Job =
  | {
      type: 'streams';
      requests: RequestSpec[];
      dialect: Dialect;
      stamped: boolean;
      timeoutMs: number;
      /** streams in flight at once; 1 runs them one after another */
      concurrency: number;
      /** pause between one worker's consecutive streams (think time) @default 0 */
      gapMs?: number;
    }
  | { type: 'hold'; requests: RequestSpec[]; timeoutMs: number }
  | { type: 'release' };

export interface StreamsReport {
  results: StreamResult[];
  /** first request start → last stream end */
  wallMs: number;
}

export type JobResult = StreamsReport | { held: number } | { released: number };

async function runStreams(job: Extract<Job, { type: 'streams' }>): Promise<StreamsReport> {
  const results: StreamResult[] = new Array(job.requests.length);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < job.requests.length; i = next++) {
      results[i] = await stream(job.requests[i]!, job.dialect, { timeoutMs: job.timeoutMs, stamped: job.stamped });
      if (job.gapMs) await new Promise((r) => setTimeout(r, job.gapMs));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(job.concurrency, job.requests.length)) }, worker));
  return { results, wallMs: performance.now() - started };
}

let held: { close(): void }[] = [];

async function run(job: Job): Promise<JobResult> {
  switch (job.type) {
    case 'streams':
      return runStreams(job);
    case 'hold': {
      // opened in small waves: a burst of hundreds of connects would measure the accept queue
      for (let i = 0; i < job.requests.length; i += 20) {
        held.push(...(await Promise.all(job.requests.slice(i, i + 20).map((r) => hold(r, job.timeoutMs)))));
      }
      return { held: held.length };
    }
    case 'release': {
      const n = held.length;
      for (const h of held) h.close();
      held = [];
      return { released: n };
    }
  }
}

process.on('message', (msg: { id: number; job: Job }) => {
  run(msg.job).then(
    (result) => process.send!({ id: msg.id, result }),
    (err: unknown) => process.send!({ id: msg.id, error: (err as Error).stack ?? String(err) }),
  );
});
// the parent going away ends the client
process.on('disconnect', () => process.exit(0));
