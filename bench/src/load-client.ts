import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, JobResult, StreamsReport } from './client.js';

/** The orchestrator's handle on the load-generator process (client.ts). */
export class LoadClient {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(v: JobResult): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: JobResult; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.error !== undefined) w.reject(new Error(`load client: ${m.error}`));
      else w.resolve(m.result!);
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.values()) (clearTimeout(w.timer), w.reject(new Error(`load client exited with ${code}`)));
      this.waiting.clear();
    });
  }

  static start(): LoadClient {
    const entry = fileURLToPath(new URL('./client.js', import.meta.url));
    return new LoadClient(fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Runs a job; `timeoutMs` bounds the whole job on this side too. */
  run(job: Extract<Job, { type: 'streams' }>, timeoutMs: number): Promise<StreamsReport>;
  run(job: Exclude<Job, { type: 'streams' }>, timeoutMs: number): Promise<JobResult>;
  run(job: Job, timeoutMs: number): Promise<JobResult> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`load client job ${job.type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.child.send({ id, job });
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
