import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ControlToPlane, MsgOf } from '@semibot/protocol';
import { PlaneConnection } from './plane-connection.js';

const servers: WebSocketServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    s.close();
  }
});

/** A PlaneConnection over a real loopback socket, and what its peer (the plane's side) receives. */
async function connected() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const peer = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const received: ControlToPlane[] = [];
  peer.on('message', (data) => received.push(JSON.parse(data.toString()) as ControlToPlane));
  const [socket, req] = await new Promise<[WebSocket, IncomingMessage]>((r) => server.once('connection', (ws, rq) => r([ws, rq])));
  await new Promise((r) => peer.once('open', r));
  // the TCP socket's writes, counted at the Writable's own hooks (one call: one write to the kernel)
  const tcp = req.socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const writes = { count: 0 };
  for (const hook of ['_write', '_writev'] as const) {
    const original = tcp[hook].bind(tcp);
    tcp[hook] = (...a: unknown[]) => {
      writes.count++;
      original(...a);
    };
  }
  return { conn: new PlaneConnection(socket, { userId: 'u', orgId: 'o', instanceId: 'i' }, false, tcp), received, writes };
}

const spec = (systemPrompt: string): MsgOf<ControlToPlane, 'start_session'> => ({
  type: 'start_session',
  sessionId: '00000000-0000-4000-8000-000000000001',
  runtimeType: 'semigraph',
  agent: { id: '00000000-0000-4000-8000-000000000002', name: 'a', systemPrompt, model: null },
  skills: [],
  mcpServers: [],
});

describe('PlaneConnection.startSession', () => {
  it("sends a session's configuration once per connection, and again when it changes", async () => {
    const { conn, received } = await connected();
    conn.startSession(spec('be brief'));
    conn.startSession(spec('be brief'));
    conn.startSession(spec('be thorough'));
    conn.startSession(spec('be thorough'));
    conn.startSession(spec('be brief'));
    await expect.poll(() => received.length).toBe(3);
    expect(received.map((m) => (m as MsgOf<ControlToPlane, 'start_session'>).agent.systemPrompt)).toEqual(['be brief', 'be thorough', 'be brief']);

    // a new connection (the plane restarted or reconnected) knows nothing yet
    const next = await connected();
    next.conn.startSession(spec('be brief'));
    await expect.poll(() => next.received.length).toBe(1);
  });
});

describe('PlaneConnection.send', () => {
  it('sends what one tick sends in one write, in order, and the next tick in another', async () => {
    const { conn, received, writes } = await connected();
    const cancel = (i: number): ControlToPlane => ({ type: 'cancel', sessionId: spec('').sessionId, runId: `00000000-0000-4000-8000-00000000010${i}` });
    // as a batch of admitted turns goes out: promise continuations, one after another
    await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
      await Promise.resolve();
      conn.send(cancel(i));
    }));
    await expect.poll(() => received.length).toBe(5);
    expect(writes.count).toBe(1);
    conn.send(cancel(5));
    await expect.poll(() => received.length).toBe(6);
    expect(writes.count).toBe(2);
    expect(received.map((m) => (m as MsgOf<ControlToPlane, 'cancel'>).runId.slice(-1))).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});
