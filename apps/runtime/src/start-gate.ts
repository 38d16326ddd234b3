/**
 * Lets turns start a few per turn of the event loop. A turn's start is a stretch of synchronous
 * work — the graph, the model request (node:http), the first checkpoint — of ~0.3–0.5 ms here,
 * and 200 turns delivered together ran back to back as one stretch: the plane's CPU profile
 * showed 20–96 ms with no socket read, while every stream already running waited for its next
 * token (npm run bench, 200 streams: the passes' p99 came from their first ~200 ms). Through the
 * gate, `perTick` turns start, then the loop reads its sockets (and relays what came in), then the
 * next few start. A turn that finds the gate open — the usual case — starts at once, unqueued.
 */
export class StartGate {
  private readonly waiting: (() => void)[] = [];
  /** starts left in this turn of the event loop */
  private budget: number;
  private refill: NodeJS.Immediate | null = null;

  constructor(private readonly perTick: number) {
    this.budget = perTick;
  }

  /** Resolves when the caller may start; at once (synchronously, undefined) when the gate is open. */
  pass(): Promise<void> | undefined {
    if (this.waiting.length === 0 && this.budget > 0) {
      this.budget--;
      this.scheduleRefill();
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.scheduleRefill();
    });
  }

  /**
   * setImmediate from inside an immediate runs in the next turn of the loop, after its I/O: what
   * waits is let through a slice at a time with the sockets read in between.
   */
  private scheduleRefill(): void {
    this.refill ??= setImmediate(() => {
      this.refill = null;
      this.budget = this.perTick;
      while (this.budget > 0 && this.waiting.length > 0) {
        this.budget--;
        this.waiting.shift()!();
      }
      if (this.waiting.length > 0 || this.budget < this.perTick) this.scheduleRefill();
    });
  }
}
