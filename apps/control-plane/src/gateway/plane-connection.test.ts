import type { AddressInfo } from 'node:net';
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
  const socket = await new Promise<WebSocket>((r) => server.once('connection', r));
  await new Promise((r) => peer.once('open', r));
  return { conn: new PlaneConnection(socket, { userId: 'u', orgId: 'o', instanceId: 'i' }, false), received };
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
