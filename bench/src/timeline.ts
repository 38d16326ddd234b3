/**
 * When each phase ran, in ms since the control plane under test was spawned: the windows to cut a
 * `--cpu-prof` profile by (`profile-summary --from/--to`), since V8 profiles count from process start.
 */
export interface Phase {
  name: string;
  startMs: number;
  endMs: number;
}

export class Timeline {
  readonly phases: Phase[] = [];
  private origin = performance.now();

  /** Sets time zero (performance.now() at the control plane's spawn). */
  anchor(at: number): void {
    this.origin = at;
  }

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const startMs = performance.now() - this.origin;
    try {
      return await fn();
    } finally {
      this.phases.push({ name, startMs: Math.round(startMs), endMs: Math.round(performance.now() - this.origin) });
    }
  }

  format(): string {
    return this.phases.map((p) => `  ${p.name.padEnd(28)} ${String(p.startMs).padStart(7)} – ${String(p.endMs).padStart(7)} ms`).join('\n');
  }
}
