/**
 * Orders calls on a single connection (embedded PGlite's one) in two lanes: interactive calls go
 * at once; background calls (Db.background) go one at a time, only while no interactive call is
 * under way — or once the oldest has waited `maxWaitMs`, so a steady stream of interactive calls
 * cannot hold them back for ever.
 */
export class BackgroundLane<Req, Res> {
  private inFlight = 0;
  private busy = false;
  private readonly waiting: { req: Req; since: number; resolve: (r: Res) => void; reject: (e: unknown) => void }[] = [];
  private patience: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (req: Req) => Promise<Res>,
    private readonly maxWaitMs: number,
  ) {}

  /** An interactive call: sent now. */
  now(req: Req): Promise<Res> {
    this.inFlight++;
    return this.send(req).finally(() => {
      if (--this.inFlight === 0) this.pump();
    });
  }

  /** A background call: sent when the interactive ones pause. */
  later(req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ req, since: performance.now(), resolve, reject });
      this.pump();
    });
  }

  close(): void {
    if (this.patience) clearTimeout(this.patience);
    this.patience = null;
  }

  private pump(): void {
    if (this.busy || this.waiting.length === 0) return;
    if (this.inFlight > 0 && performance.now() - this.waiting[0]!.since < this.maxWaitMs) {
      if (!this.patience) {
        this.patience = setTimeout(() => {
          this.patience = null;
          this.pump();
        }, this.maxWaitMs);
        this.patience.unref();
      }
      return;
    }
    const next = this.waiting.shift()!;
    this.busy = true;
    this.send(next.req)
      .then(next.resolve, next.reject)
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}
