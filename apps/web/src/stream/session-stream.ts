import { createParser } from 'eventsource-parser';
import type { SseEvent } from '@semibot/protocol';

/**
 * Follows GET /sessions/:id/events for as long as a chat is open. EventSource cannot send an
 * Authorization header, so this is fetch + eventsource-parser. After any drop (network, server
 * restart, a silent connection) it reconnects with `Last-Event-ID` = the last id it delivered, and
 * drops anything at or below that id, so the caller sees every event once and in order.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed';

export interface StreamStatus {
  state: ConnectionState;
  /** consecutive failed connects (0 while healthy) */
  attempt: number;
  retryInMs?: number;
  error?: string;
}

export interface SessionStreamOptions {
  /** the full URL of GET /api/v1/sessions/:id/events */
  url: string;
  /** read on every connect, so a refreshed token is used */
  headers: () => Record<string, string>;
  onEvent: (id: number | null, event: SseEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  /** resume after this id on the first connect (0: everything retained) */
  lastEventId?: number;
  fetch?: typeof fetch;
  backoff?: (attempt: number) => number;
  /**
   * The server sends a heartbeat comment every 15 s by default; a connection that carries nothing
   * at all for this long is presumed dead (a proxy or NAT that dropped it silently) and replaced.
   * @default 45_000
   */
  idleTimeoutMs?: number;
}

/** 250 ms, 500 ms, 1 s, 2 s, 4 s, then 5 s, each ±20 % so many tabs do not reconnect in lockstep. */
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(5_000, 250 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** HTTP statuses that no retry will fix: the session is gone or the caller is not allowed. */
const FATAL = new Set([400, 401, 403, 404]);

export class SessionStream {
  private lastId: number;
  private closed = false;
  private attempt = 0;
  private current: AbortController | null = null;
  private wake: (() => void) | null = null;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: SessionStreamOptions) {
    this.lastId = o.lastEventId ?? 0;
    // bound here: calling a bare `fetch` reference with another `this` throws in browsers
    this.fetchImpl = o.fetch ?? ((input, init) => fetch(input, init));
  }

  get lastEventId(): number {
    return this.lastId;
  }

  start(): this {
    void this.loop();
    return this;
  }

  close(): void {
    this.closed = true;
    this.current?.abort();
    this.wake?.();
    this.o.onStatus?.({ state: 'closed', attempt: this.attempt });
  }

  private async loop(): Promise<void> {
    this.o.onStatus?.({ state: 'connecting', attempt: 0 });
    while (!this.closed) {
      const fatal = await this.connectOnce();
      if (this.closed) return;
      if (fatal) {
        this.o.onStatus?.({ state: 'failed', attempt: this.attempt, error: fatal });
        return;
      }
      const delay = (this.o.backoff ?? defaultBackoff)(this.attempt);
      this.attempt++;
      this.o.onStatus?.({ state: 'reconnecting', attempt: this.attempt, retryInMs: delay });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => (clearTimeout(t), resolve());
      });
      this.wake = null;
    }
  }

  /** One connection, read until it ends. Resolves with a reason when retrying is pointless. */
  private async connectOnce(): Promise<string | null> {
    const ac = new AbortController();
    this.current = ac;
    const headers: Record<string, string> = { ...this.o.headers(), accept: 'text/event-stream' };
    if (this.lastId > 0) headers['last-event-id'] = String(this.lastId);
    let res: Response;
    try {
      res = await this.fetchImpl(this.o.url, { headers, signal: ac.signal });
    } catch {
      return null; // network error: retry
    }
    if (FATAL.has(res.status)) {
      const body = await res.text().catch(() => '');
      return `HTTP ${res.status}${body ? `: ${body.slice(0, 200)}` : ''}`;
    }
    if (!res.ok || !res.body) return null;
    this.attempt = 0;
    this.o.onStatus?.({ state: 'open', attempt: 0 });

    const parser = createParser({
      onEvent: (ev) => {
        if (this.closed) return;
        const id = ev.id !== undefined && ev.id !== '' ? Number(ev.id) : null;
        if (id !== null) {
          if (!Number.isFinite(id) || id <= this.lastId) return; // a replay of what we already have
          this.lastId = id;
        }
        let event: SseEvent;
        try {
          event = JSON.parse(ev.data) as SseEvent;
        } catch {
          return; // not ours to interpret; the id still counts as seen
        }
        this.o.onEvent(id, event);
      },
    });
    const idleMs = this.o.idleTimeoutMs ?? 45_000;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ac.abort(), idleMs);
    };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // dropped mid-stream (or aborted by close/idle): the loop decides what next
    } finally {
      clearTimeout(idle);
      ac.abort();
      void reader.cancel().catch(() => {});
    }
    return null;
  }
}
