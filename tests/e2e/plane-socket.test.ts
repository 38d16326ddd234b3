import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@semibot/protocol';
import { cleanupHome, freePort, sendAndStream, startPlatform, textOf, wsSession, type Platform } from './harness.js';
import { planeProcesses } from './semigraph-helpers.js';
import { environOf } from './chaos-helpers.js';

/**
 * With SEMIBOT_PLANE_SOCKET=on, process-mode planes dial their control plane over a Unix socket
 * beside its TCP port (SEMIBOT_HOME/run/planes-<port>.sock), through the same gateway: same
 * credentials, same close codes. By default, or with an operator's SEMIBOT_PUBLIC_WS_URL, TCP.
 */
const ON = { SEMIBOT_PLANE_SOCKET: 'on' };

/** Remote ports of the TCP connections process `pid` holds (from its fds and /proc/net/tcp{,6}). */
function tcpRemotePorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed while we looked */
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.push(parseInt(f[2]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

const portOf = (p: Platform) => Number(new URL(p.url).port);

function onlyPlane(p: Platform) {
  const planes = planeProcesses(p);
  expect(planes).toHaveLength(1);
  return { pid: planes[0]!.pid, url: environOf(planes[0]!.pid).SEMIBOT_CONTROL_URL };
}

/** An HTTP request over the Unix socket. */
function getOverSocket(socketPath: string, urlPath: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: urlPath }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the plane socket', () => {
  const started: Platform[] = [];
  afterAll(async () => {
    for (const p of started) {
      await p.stop().catch(() => {});
      cleanupHome(p);
    }
  });

  it('a process-mode plane dials a Unix socket, owner-only, and holds no TCP connection to the control plane', async () => {
    // a file left at the path by a control plane that died on this port is replaced
    const port = await freePort();
    const home = mkdtempSync(path.join(tmpdir(), 'semibot-e2e-'));
    const socketPath = path.join(home, 'run', `planes-${port}.sock`);
    mkdirSync(path.dirname(socketPath), { recursive: true });
    writeFileSync(socketPath, 'stale');
    const p = await startPlatform({ home, port, env: ON });
    started.push(p);

    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const { token, sessionId } = await p.chat();
    const frames = await sendAndStream(p, token, sessionId, '/echo over the socket');
    expect(textOf(frames)).toBe('over the socket');
    expect(frames.at(-1)!.data.status).toBe('completed');

    const plane = onlyPlane(p);
    expect(plane.url).toBe(`ws+unix:${socketPath}:/ws/vm`);
    expect(tcpRemotePorts(plane.pid)).not.toContain(portOf(p));

    await p.stop();
    expect(existsSync(socketPath)).toBe(false);
  });

  it('serves only plane upgrades, with the same credentials and close codes as TCP', async () => {
    const p = await startPlatform({ env: ON });
    started.push(p);
    const socketPath = path.join(p.home, 'run', `planes-${portOf(p)}.sock`);
    const plain = await getOverSocket(socketPath, '/api/v1/agents');
    expect(plain).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'only /ws/vm is served on this socket' } } });
    const url = `ws+unix:${socketPath}:/ws/vm`;
    const sending = (first: string) => wsSession(p, (ws) => ws.send(first), { url });
    const [garbage, badToken, older] = await Promise.all([
      sending('hello?'),
      sending(JSON.stringify({ type: 'auth', token: 'garbage.token.here', protocolVersion: PROTOCOL_VERSION })),
      sending(JSON.stringify({ type: 'auth', token: 'any', protocolVersion: PROTOCOL_VERSION - 1 })),
    ]);
    expect(garbage.code).toBe(4001);
    expect(badToken.code).toBe(4001);
    expect(older.code).toBe(4426);
    // and the platform still serves turns after them
    const { token, sessionId } = await p.chat();
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo still fine'))).toBe('still fine');
  });

  it('by default: no socket, and the plane dials TCP', async () => {
    const p = await startPlatform();
    started.push(p);
    expect(existsSync(path.join(p.home, 'run'))).toBe(false);
    const { token, sessionId } = await p.chat();
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo over tcp'))).toBe('over tcp');
    const plane = onlyPlane(p);
    expect(plane.url).toBe(`${p.url.replace(/^http/, 'ws')}/ws/vm`);
    expect(tcpRemotePorts(plane.pid)).toContain(portOf(p));
  });

  it("on, with an operator's SEMIBOT_PUBLIC_WS_URL: no socket, and the plane dials that URL", async () => {
    const port = await freePort();
    const publicUrl = `ws://localhost:${port}/ws/vm`; // the same control plane, by another name
    const p = await startPlatform({ port, env: { ...ON, SEMIBOT_PUBLIC_WS_URL: publicUrl } });
    started.push(p);
    expect(existsSync(path.join(p.home, 'run'))).toBe(false);
    const { token, sessionId } = await p.chat();
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo over the public url'))).toBe('over the public url');
    expect(onlyPlane(p).url).toBe(publicUrl);
  });

  it('an invalid SEMIBOT_PLANE_SOCKET is refused at start with the setting named', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'semibot-e2e-'));
    const p = await startPlatform({ home, env: { SEMIBOT_PLANE_SOCKET: 'yes' } }).catch((err: Error) => err);
    rmSync(home, { recursive: true, force: true });
    expect(p).toBeInstanceOf(Error);
    expect((p as Error).message).toMatch(/SEMIBOT_PLANE_SOCKET/);
  });
});
