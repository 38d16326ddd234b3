import type { ServerResponse } from 'node:http';
import type { SseEvent } from '@semibot/protocol';
import { eventJson, type StoredEvent } from '../store/events.js';

/** A slow client that lets this much pile up is cut off; it can resume with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

let open = 0;

/** SSE connections open right now (metrics). */
export function openSseCount(): number {
  return open;
}

/**
 * The event framed last and its frame. An event reaches all of its connections in one synchronous
 * loop (EventLog.deliver), so one slot is enough for every connection to share one serialisation.
 * A frame kept per event (a WeakMap entry) lived as long as the event stayed in its session's ring:
 * ~150 bytes more per token that every young-generation collection copied and then promoted — the
 * control plane's scavenges were its longest pauses under load (bench/README, 2026-12-06, late).
 */
let framed: StoredEvent | null = null;
let frame = '';

/** One serialisation per event, shared by every connection that relays it. */
export function frameOf(e: StoredEvent): string {
  if (e !== framed) {
    frame = `id: ${e.id}\nevent: ${e.event.type}\ndata: ${eventJson(e)}\n\n`;
    framed = e;
  }
  return frame;
}

export interface SseStream {
  send(e: StoredEvent): void;
  /** An event without an id (e.g. `resync`): it is not part of the log. */
  sendUnsequenced(event: SseEvent): void;
  end(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

/** Takes over a raw response and turns it into an event stream with heartbeat comments. */
export function openSse(raw: ServerResponse, opts: { heartbeatMs: number; headers?: Record<string, string> }): SseStream {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...opts.headers,
  });
  raw.socket?.setNoDelay(true);
  let closed = false;
  open++;
  const closers: (() => void)[] = [];
  const heartbeat = opts.heartbeatMs > 0 ? setInterval(() => write(': hb\n\n'), opts.heartbeatMs) : null;
  heartbeat?.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    open--;
    if (heartbeat) clearInterval(heartbeat);
    for (const fn of closers) fn();
  };
  raw.on('close', close);
  // The frames of one tick leave together, as one HTTP chunk in one socket write. A plane's socket
  // read often carries many frames when tokens come fast, and a syscall per frame was the relay's
  // largest cost; a lone frame still leaves at the end of the same tick. Once the headers are out
  // and the response owns its socket, the chunk is framed here and written to the socket itself:
  // through the response, each frame went through four writes of the chunked encoder, a cork and
  // a writev — 19–21 µs of CPU per frame against 13–14 (200 streams of one frame per 20 ms, a
  // lone HTTP server), and the relay moved 49–60k events/s against 62–68k now (npm run bench).
  //
  // The headers and the greeting wait for the end of the tick too, and the last chunk goes with the
  // response's end: a turn's stream opens with its `run` event already in the log and ends with
  // `done`, and each of those was a write of its own beside the headers and the terminator. On
  // loopback a write costs the writer the receiver's TCP work and wake-up as well; a one-token turn
  // made five, now three (bench/README, 2026-12-07, sixth session).
  const direct = raw.chunkedEncoding && raw.socket !== null;
  let headersOut = false;
  let pending = '';
  const flush = () => {
    const body = pending;
    pending = '';
    if (closed || body === '') return;
    if (direct && headersOut && raw.socket) raw.socket.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
    else raw.write(body);
    headersOut = true;
  };
  function write(chunk: string) {
    if (closed) return;
    if (raw.writableLength > MAX_BUFFERED_BYTES) {
      raw.destroy();
      return;
    }
    if (pending === '') process.nextTick(flush);
    pending += chunk;
  }
  write(': connected\n\n');
  return {
    send: (e) => write(frameOf(e)),
    sendUnsequenced: (event) => write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
    end: () => {
      // what is pending goes with the last chunk, in one write: a kept-alive socket may serve
      // another response next tick, so nothing of this one may be left for a later flush
      const body = pending;
      pending = '';
      if (!closed) raw.end(body); // (an empty body ends it as end() would)
      close();
    },
    get closed() {
      return closed;
    },
    // a client that left while the caller was still setting up (e.g. replaying from the database)
    // must still release what the caller registers, or its subscription leaks
    onClose: (fn) => {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
