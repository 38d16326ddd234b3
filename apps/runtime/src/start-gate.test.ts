import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StartGate } from './start-gate.js';

describe('StartGate', () => {
  it('lets a few through at once and the rest a slice per turn of the event loop, with I/O between', async () => {
    // a socket that delivers data while the starts are queued: its reads must come between slices
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const order: string[] = [];
    socket.on('data', () => order.push('read'));

    const gate = new StartGate(4);
    const started: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const p = gate.pass();
      if (p === undefined) order.push(`start ${i} at once`);
      started.push(Promise.resolve(p).then(() => void (p && order.push(`start ${i}`))));
    }
    socket.write('x'); // echoed back while the queued starts wait
    await Promise.all(started);
    await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    server.close();

    expect(order.slice(0, 4)).toEqual(['start 0 at once', 'start 1 at once', 'start 2 at once', 'start 3 at once']);
    const starts = order.filter((o) => o.startsWith('start'));
    expect(starts).toEqual([...[0, 1, 2, 3].map((i) => `start ${i} at once`), ...Array.from({ length: 36 }, (_, i) => `start ${i + 4}`)]);
    // the echo was read while starts still waited: the queued starts did not hold the loop
    expect(order.indexOf('read')).toBeLessThan(order.indexOf('start 39'));
    expect(order.indexOf('read')).toBeGreaterThan(order.indexOf('start 7'));
  });

  it('is open again once the loop has turned', async () => {
    const gate = new StartGate(2);
    expect(gate.pass()).toBeUndefined();
    expect(gate.pass()).toBeUndefined();
    const third = gate.pass();
    expect(third).toBeInstanceOf(Promise);
    await third;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(gate.pass()).toBeUndefined();
  });
});
