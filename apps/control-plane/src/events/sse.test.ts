import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../store/events.js';
import { frameOf, openSse, type SseStream } from './sse.js';

const text = (id: number, t: string): StoredEvent => ({ sessionId: 's', id, event: { type: 'text', runId: 'r', text: t } });

describe('frameOf', () => {
  it('frames each event by its own id and content, however events alternate (one cached slot)', () => {
    const a = text(1, 'a');
    const b = text(2, 'b');
    const frameA = 'id: 1\nevent: text\ndata: {"type":"text","runId":"r","text":"a"}\n\n';
    expect(frameOf(a)).toBe(frameA);
    expect(frameOf(a)).toBe(frameA);
    expect(frameOf(b)).toBe('id: 2\nevent: text\ndata: {"type":"text","runId":"r","text":"b"}\n\n');
    expect(frameOf(a)).toBe(frameA); // a replay of an older event after a newer one
  });

  it('serialises again an event whose JSON was released once stored', () => {
    const e = text(3, 'c');
    const first = frameOf(e);
    e.json = undefined;
    frameOf(text(4, 'd'));
    expect(frameOf(e)).toBe(first);
  });
});

describe('openSse on the wire', () => {
  /** A server whose every request is answered by `respond` through openSse; raw bytes back from a TCP client. */
  async function serve(respond: (sse: SseStream) => void) {
    const counts = { responseWrites: 0, socketWrites: 0 };
    const counted = new WeakSet<object>();
    const server = http.createServer((_req, res) => {
      const write = res.write.bind(res) as (chunk: string) => boolean;
      res.write = ((chunk: string) => (counts.responseWrites++, write(chunk))) as typeof res.write;
      // each call of a Writable's _write or _writev is one write to the handle (a syscall)
      const socket = res.socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown> | null;
      if (socket && !counted.has(socket)) {
        counted.add(socket);
        for (const m of ['_write', '_writev'] as const) {
          const orig = socket[m].bind(socket);
          socket[m] = (...a: unknown[]) => (counts.socketWrites++, orig(...a));
        }
      }
      respond(openSse(res, { heartbeatMs: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const exchange = (request: string, until: (bytes: string) => boolean) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
        let bytes = '';
        socket.on('data', (d) => {
          bytes += d.toString('latin1');
          if (until(bytes)) (socket.destroy(), resolve(bytes));
        });
        socket.on('end', () => resolve(bytes));
        socket.on('error', reject);
      });
    return { port, exchange, counts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  const get = (version: string) => `GET /events HTTP/${version}\r\nHost: x\r\n\r\n`;
  const frame = (id: number, t: string) => frameOf(text(id, t));

  it('sends the frames of one tick as one chunk, each tick its own, then the last chunk', async () => {
    const s = await serve((sse) => {
      sse.send(text(1, 'a'));
      sse.send(text(2, 'b'));
      setTimeout(() => (sse.send(text(3, 'c')), setTimeout(() => sse.end(), 5)), 5);
    });
    const bytes = await s.exchange(get('1.1'), (b) => b.endsWith('0\r\n\r\n'));
    await s.close();
    const body = bytes.slice(bytes.indexOf('\r\n\r\n') + 4);
    const chunk = (payload: string) => `${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n`;
    expect(bytes).toMatch(/^HTTP\/1.1 200 OK\r\n[^]*transfer-encoding: chunked\r\n/i);
    // the greeting waits for the end of its tick, and leaves with that tick's frames and the headers
    expect(body).toBe(chunk(': connected\n\n' + frame(1, 'a') + frame(2, 'b')) + chunk(frame(3, 'c')) + '0\r\n\r\n');
    expect(s.counts.responseWrites).toBe(1); // the headers' chunk; later ones were framed here and written to the socket
  });

  it('writes a turn-shaped stream in three socket writes: headers with the first event, each tick, the last event with the end', async () => {
    const s = await serve((sse) => {
      sse.send(text(1, 'run'));
      setTimeout(() => (sse.send(text(2, 'token')), setTimeout(() => (sse.send(text(3, 'done')), sse.end()), 5)), 5);
    });
    const bytes = await s.exchange(get('1.1'), (b) => b.endsWith('0\r\n\r\n'));
    await s.close();
    const chunk = (payload: string) => `${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n`;
    expect(bytes.slice(bytes.indexOf('\r\n\r\n') + 4)).toBe(chunk(`: connected\n\n${frame(1, 'run')}`) + chunk(frame(2, 'token')) + chunk(frame(3, 'done')) + '0\r\n\r\n');
    expect(s.counts.socketWrites).toBe(3);
  });

  it('keeps a kept-alive connection usable for the next request after the stream ends', async () => {
    let n = 0;
    const s = await serve((sse) => {
      sse.send(text(++n, `turn ${n}`));
      sse.end();
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const read = () =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        http.get({ port: s.port, host: '127.0.0.1', path: '/events', agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ body, socket: res.socket }));
        }).on('error', reject);
      });
    const first = await read();
    const second = await read();
    agent.destroy();
    await s.close();
    expect(first.body).toBe(`: connected\n\n${frame(1, 'turn 1')}`);
    expect(second.body).toBe(`: connected\n\n${frame(2, 'turn 2')}`);
    expect(second.socket).toBe(first.socket);
  });

  it('answers pipelined requests in order: a response that does not own the socket yet writes through the response', async () => {
    let n = 0;
    const s = await serve((sse) => {
      const id = ++n;
      sse.send(text(id, `request ${id}`));
      setTimeout(() => (sse.send(text(id + 10, `later ${id}`)), sse.end()), 5 * (3 - id)); // the second ends first
    });
    const bytes = await s.exchange(get('1.1') + get('1.1'), (b) => b.split('0\r\n\r\n').length === 3);
    await s.close();
    const [first, second] = bytes.split(/HTTP\/1.1 200 OK\r\n/).slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
    const chunk = (payload: string) => `${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n`;
    expect(first).toBe(chunk(`: connected\n\n${frame(1, 'request 1')}`) + chunk(frame(11, 'later 1')) + '0\r\n\r\n');
    const body = second!.split('\r\n').filter((_, i) => i % 2 === 1).join(''); // the second's chunks, however Node grouped them
    expect(body).toBe(`: connected\n\n${frame(2, 'request 2')}${frame(12, 'later 2')}`);
    expect(s.counts.responseWrites).toBe(2); // each one's first tick (its last went with the response's end)
  });

  it('writes through the response when it frames no chunks (an HTTP/1.0 client)', async () => {
    const s = await serve((sse) => {
      sse.send(text(1, 'a'));
      setTimeout(() => sse.end(), 5);
    });
    const bytes = await s.exchange(get('1.0'), () => false);
    await s.close();
    expect(bytes).not.toMatch(/transfer-encoding/i);
    expect(s.counts.responseWrites).toBe(1);
    expect(bytes.slice(bytes.indexOf('\r\n\r\n') + 4)).toBe(`: connected\n\n${frame(1, 'a')}`);
  });
});

describe('openSse and a client that stops reading', () => {
  it('cuts the stream off once what piles up passes its bound, instead of buffering without end', async () => {
    const held: { stream?: SseStream } = {};
    const server = http.createServer((_req, res) => (held.stream = openSse(res, { heartbeatMs: 0 })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    client.pause(); // reads nothing: the kernel's buffers fill, then the socket's own
    while (!held.stream) await new Promise((r) => setTimeout(r, 5));
    const stream = held.stream;
    const big = 'x'.repeat(64 * 1024);
    let sent = 0;
    // bounded: 100 MiB at most, far past the 8 MiB bound and what loopback buffers hold
    for (let i = 1; i <= 1600 && !stream.closed; i++) {
      stream.send(text(i, big));
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(stream.closed).toBe(true);
    expect(sent).toBeLessThan(1600);
  });
});
