import type { ErrorCode } from '@semibot/protocol';

export type RequestOutcome = { ok: true; result: unknown } | { ok: false; error: { code: ErrorCode; message: string } };

/** Results kept per plane for answering `resume` after a reconnect; the oldest are forgotten first. */
const KEPT_PER_PLANE = 1000;

/**
 * The per-plane cache behind `resume`/`resume_response`: a plane that lost its socket while a
 * request was under way asks for it again by id and gets the stored outcome, instead of the
 * control plane doing the work twice (or the plane waiting forever).
 */
export class RequestResults {
  private readonly done = new Map<string, Map<string, RequestOutcome>>();
  private readonly inFlight = new Map<string, Set<string>>();
  hits = 0;

  begin(instanceId: string, requestId: string): void {
    let set = this.inFlight.get(instanceId);
    if (!set) this.inFlight.set(instanceId, (set = new Set()));
    set.add(requestId);
  }

  finish(instanceId: string, requestId: string, outcome: RequestOutcome): void {
    this.inFlight.get(instanceId)?.delete(requestId);
    let map = this.done.get(instanceId);
    if (!map) this.done.set(instanceId, (map = new Map()));
    map.set(requestId, outcome);
    if (map.size > KEPT_PER_PLANE) map.delete(map.keys().next().value!);
  }

  /**
   * What to tell a plane that resumed with these ids: finished ones with their outcome, unknown
   * ones as lost. Ones still running are left out: their `response` follows when they finish.
   */
  resume(instanceId: string, ids: string[]) {
    const map = this.done.get(instanceId);
    const running = this.inFlight.get(instanceId);
    const results: { requestId: string; status: 'completed' | 'failed' | 'lost'; result?: unknown; error?: { code: ErrorCode; message: string } }[] = [];
    for (const requestId of ids) {
      if (running?.has(requestId)) continue;
      const o = map?.get(requestId);
      if (!o) results.push({ requestId, status: 'lost' });
      else {
        this.hits++;
        results.push(o.ok ? { requestId, status: 'completed', result: o.result } : { requestId, status: 'failed', error: o.error });
      }
    }
    return results;
  }

  forget(instanceId: string): void {
    this.done.delete(instanceId);
    this.inFlight.delete(instanceId);
  }
}
