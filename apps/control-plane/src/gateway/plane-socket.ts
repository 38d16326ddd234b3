import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

/**
 * Longest socket path this opens. sockaddr_un holds 108 bytes on Linux and 104 on macOS, with the
 * terminating NUL; a longer home gets no socket and its planes dial TCP as before.
 */
const MAX_SOCKET_PATH = 100;

/** A Unix socket beside the TCP port, for planes started on this host; `url` is what they dial. */
export interface PlaneSocket {
  server: Server;
  path: string;
  /** `ws+unix:<path>:<wsPath>`, the form the `ws` client takes */
  url: string;
  close(): Promise<void>;
}

/**
 * Where a control plane listening on `port` puts its plane socket, or null when the path would be
 * too long, or would not survive as a URL (`ws` takes the path from the URL's pathname undecoded,
 * and up to its first colon). Named by the port: replicas that share one home on one host cannot
 * share a port, so they cannot share a socket, and a file already there is a crashed run's.
 */
export function planeSocketPath(home: string, port: number): string | null {
  const p = path.join(home, 'run', `planes-${port}.sock`);
  return p.length <= MAX_SOCKET_PATH && /^\/[\w./-]+$/.test(p) ? p : null;
}

/**
 * Listens on `socketPath` for planes' WebSocket upgrades only; any other request gets 404 (the API
 * is served on the TCP port, with its rate limits and logs). With SEMIBOT_PLANE_SOCKET=on a
 * process-mode plane reaches its control plane here instead of through TCP loopback: less CPU per
 * frame in both processes, but the socket's send buffer (212 KB, which Node cannot raise) lowers
 * the ceiling of a plane streaming at full speed (bench/README, 2026-12-08 thirteenth session). The
 * socket is the owner's alone (0600): credentials are checked on it as on TCP, but no other local
 * user need reach it at all.
 */
export async function listenPlaneSocket(socketPath: string, wsPath: string): Promise<PlaneSocket> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  rmSync(socketPath, { force: true });
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `only ${wsPath} is served on this socket` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    server,
    path: socketPath,
    url: `ws+unix:${socketPath}:${wsPath}`,
    async close() {
      // the WebSocket connections themselves are ended by the gateway's close
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}
