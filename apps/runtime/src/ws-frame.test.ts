import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { socketOf, zeroMaskedTextFrame } from './ws-frame.js';

let server: WebSocketServer | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A real ws server and a client with a zero mask, as the plane dials a loopback control plane. */
async function pair(): Promise<{ client: WebSocket; received: string[]; closed: Promise<number> }> {
  const s = (server = new WebSocketServer({ host: '127.0.0.1', port: 0 }));
  await new Promise<void>((r) => s.once('listening', r));
  const received: string[] = [];
  let closed!: Promise<number>;
  s.on('connection', (ws) => {
    closed = new Promise((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data, isBinary) => received.push(isBinary ? '(binary)' : data.toString()));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(s.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
    generateMask: (mask) => void mask.fill(0),
  });
  expect(socketOf(client)).toBeNull(); // not open yet
  await new Promise((r) => client.once('open', r));
  await new Promise((r) => setTimeout(r, 20)); // the server's connection handler has run
  return { client, received, closed };
}

describe('zero-masked text frames written to the socket', () => {
  it('arrive intact and in order with ws.send, at every length encoding', async () => {
    const { client, received, closed } = await pair();
    // 7-bit, 16-bit and 64-bit lengths and their edges, counted in bytes (é is 2, the emoji 4)
    const texts = ['', 'a', 'x'.repeat(125), 'x'.repeat(126), 'é'.repeat(63), `${'x'.repeat(122)}😀`, 'y'.repeat(65_535), 'z'.repeat(65_536), '{"a":"🙂"}'.repeat(20_000)];
    const socket = socketOf(client)!;
    expect(socket).not.toBeNull();
    texts.forEach((t, i) => {
      socket.write(zeroMaskedTextFrame(t));
      client.send(`between ${i}`); // ws's own frames on the same socket keep their place
    });
    const want = texts.flatMap((t, i) => [t, `between ${i}`]);
    await waitFor(() => received.length === want.length);
    expect(received).toEqual(want);
    client.close(1000);
    expect(await closed).toBe(1000); // the server saw nothing malformed (it would close with 1002)
  });

  it('frames the byte length, not the string length', () => {
    const f = zeroMaskedTextFrame('é'.repeat(100)); // 200 bytes: the 16-bit length form
    expect([...f.subarray(0, 8)]).toEqual([0x81, 0x80 | 126, 0, 200, 0, 0, 0, 0]);
    expect(f.length).toBe(208);
    expect(f.subarray(8).toString()).toBe('é'.repeat(100));
  });

  it('gives no socket once the connection is closing', async () => {
    const { client } = await pair();
    client.close(1000);
    expect(socketOf(client)).toBeNull();
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
