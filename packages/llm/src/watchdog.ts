/**
 * Aborts a stream that stops sending data. Vendor SDK timeouts only cover the wait for response
 * headers, so a server that starts a stream and then stalls would otherwise hang the run.
 *
 * Per chunk the cost is one `performance.now()` store (`touch`); the single timer re-arms itself
 * for the remaining time instead of being reset on every token.
 *
 * An abort (the watchdog's or the caller's) reaches whoever listens in one of two ways: `onAbort`,
 * one plain callback (our own transport: it destroys the request in flight), or `signal`, an
 * AbortSignal made only when asked for (a vendor SDK). A model call through the transport used to
 * make an AbortController and hand its signal to http.request, which follows it with listeners of
 * its own: with the URL parsed again on each request, ~8 % of the plane's CPU in a burst of 200
 * one-token turns (CPU profile, npm run bench -- --only=burst; bench/README, tenth session).
 */
export class IdleWatchdog {
  private controller: AbortController | null = null;
  private listener: ((reason: unknown) => void) | null = null;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** True once the watchdog (not the caller) aborted the stream. */
  fired = false;
  /** True once the stream was aborted, by the watchdog or the caller. */
  aborted = false;
  /** What it was aborted with: the caller's reason, or undefined when the watchdog fired. */
  reason: unknown = undefined;
  private readonly userSignal: AbortSignal | undefined;
  private readonly onUserAbort = () => this.abort(this.userSignal?.reason);

  /**
   * The caller's signal is followed with one listener (removed at `stop`) rather than
   * AbortSignal.any: ~30 µs of the plane's event loop per model call on Node 20 (CPU profile of
   * 200 turns starting at once), and its combined signals live on until collected.
   */
  constructor(
    private readonly idleMs: number,
    userSignal: AbortSignal | undefined,
  ) {
    this.userSignal = userSignal;
    if (userSignal?.aborted) this.abort(userSignal.reason);
    else userSignal?.addEventListener('abort', this.onUserAbort, { once: true });
  }

  /** An abort signal for an SDK call: aborted when the watchdog or the caller aborts. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /**
   * Calls `fn` with the reason when the stream is aborted (at once if it already was); it replaces
   * the callback set before, and `null` clears it.
   */
  onAbort(fn: ((reason: unknown) => void) | null): void {
    this.listener = fn;
    if (fn && this.aborted) fn(this.reason);
  }

  /** Starts watching; call once the response has started (before that the SDK timeout applies). */
  start(): void {
    this.last = performance.now();
    this.arm(this.idleMs);
  }

  touch(): void {
    this.last = performance.now();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listener = null;
    this.userSignal?.removeEventListener('abort', this.onUserAbort);
  }

  private abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.listener?.(reason);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const idle = performance.now() - this.last;
      if (idle >= this.idleMs) {
        this.fired = true;
        this.abort(undefined);
      } else {
        this.arm(this.idleMs - idle);
      }
    }, ms);
    // A pending watchdog must not keep the process alive on its own.
    this.timer.unref();
  }
}
