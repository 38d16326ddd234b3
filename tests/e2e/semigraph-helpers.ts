/**
 * Helpers for the semigraph-*.test.ts files: agents with skills/MCP servers, /metrics samples, the
 * execution-plane processes a control plane spawned, skill archives built in memory (tar, zip —
 * including malicious entries a real archiver refuses to write), and a real MCP server over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { freePort, type Platform, type SseFrame } from './harness.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** `@modelcontextprotocol/server-everything`: `node <this> stdio | streamableHttp` */
export const everythingMain = path.join(repoRoot, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/** Creates an agent with the given fields and one session of it; fails loudly on a non-201. */
export async function agentWithSession(p: Platform, token: string, fields: Record<string, unknown>) {
  const agent = await p.api('POST', '/agents', { token, body: { name: 'semigraph agent', systemPrompt: 'You test tools.', ...fields } });
  if (agent.status !== 201) throw new Error(`agent: ${agent.status} ${JSON.stringify(agent.body)}`);
  return { agentId: agent.body.id as string, sessionId: await newSession(p, token, agent.body.id) };
}

export async function newSession(p: Platform, token: string, agentId: string): Promise<string> {
  const s = await p.api('POST', '/sessions', { token, body: { agentId } });
  if (s.status !== 201) throw new Error(`session: ${s.status} ${JSON.stringify(s.body)}`);
  return s.body.id as string;
}

export const framesOf = (frames: SseFrame[], type: string) => frames.filter((f) => f.event === type);
export const eventTypes = (frames: SseFrame[]) => frames.map((f) => f.event);

/** The value of one sample on GET /metrics (labels must match exactly); 0 when the sample is absent. */
export async function metric(p: Platform, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const head = want ? `${name}{${want}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line ? Number(line.slice(head.length)) : 0;
}

/** A plane's home: `<SEMIBOT_HOME>/planes/<userId>` (process mode). */
export const planeHome = (p: Platform, userId: string) => path.join(p.home, 'planes', userId);
export const sessionWorkDir = (p: Platform, userId: string, sessionId: string) => path.join(planeHome(p, userId), 'sessions', sessionId, 'work');

/** Child processes of `pid`, with their command lines (NUL-separated). */
export function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== pid || rest[0] === 'Z') continue;
      out.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8') });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** Execution planes of this control plane: its child processes running runtime/dist/main.js. */
export function planeProcesses(p: Platform): { pid: number; home: string; environ: string; cmdline: string }[] {
  const out: { pid: number; home: string; environ: string; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== p.child.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('runtime/dist/main.js')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const home = /(?:^|\0)SEMIBOT_HOME=([^\0]*)/.exec(environ)?.[1] ?? '';
      out.push({ pid: Number(entry), home, environ, cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** The pid of the plane serving `userId`, or null. */
export function planePid(p: Platform, userId: string): number | null {
  return planeProcesses(p).find((x) => x.home === planeHome(p, userId))?.pid ?? null;
}

/** True while the process runs (a zombie — dead, not yet reaped — counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Files under `dir` whose contents include any of `needles`. */
export function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of existsSync(d) ? readdirSync(d) : []) {
      const f = path.join(d, name);
      const st = statSync(f, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(f);
      else if (st.isFile() && st.size < 20_000_000) {
        const text = readFileSync(f, 'latin1');
        if (needles.some((n) => text.includes(n))) hits.push(f);
      }
    }
  };
  walk(dir);
  return hits;
}

export const skillMd = (frontmatter: string, body = '# Instructions\n') => `---\n${frontmatter}\n---\n${body}`;

export interface ArchiveEntry {
  name: string;
  content?: string;
  /** permission bits @default 0o644 */
  mode?: number;
  type?: 'file' | 'dir' | 'symlink';
  linkname?: string;
}

/** A ustar archive of the entries, written byte by byte so it can hold `..` names and links. */
export function tarOf(entries: ArchiveEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.type === 'file' || !e.type ? (e.content ?? '') : '');
    const h = Buffer.alloc(512);
    const put = (s: string, off: number) => h.write(s, off, 'utf8');
    const oct = (n: number, len: number) => `${n.toString(8).padStart(len - 1, '0')}\0`;
    put(e.name, 0);
    put(oct(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100);
    put(oct(0, 8), 108);
    put(oct(0, 8), 116);
    put(oct(data.length, 12), 124);
    put(oct(Math.floor(Date.now() / 1000), 12), 136);
    h.fill(' ', 148, 156);
    put(e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0', 156);
    if (e.linkname) put(e.linkname, 157);
    put('ustar\0', 257);
    put('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A zip (stored, no compression) with unix modes in the external attributes. */
export function zipOf(entries: ArchiveEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const data = Buffer.from(e.type === 'symlink' ? (e.linkname ?? '') : (e.content ?? ''));
    const kind = e.type === 'dir' ? 0o040000 : e.type === 'symlink' ? 0o120000 : 0o100000;
    const mode = kind | (e.mode ?? (e.type === 'file' || !e.type ? 0o644 : 0o755));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** POST /skills with a binary body. */
export async function uploadArchive(p: Platform, token: string, body: Buffer, contentType: string) {
  const res = await fetch(`${p.url}/api/v1/skills`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed };
}

export interface RemoteMcp {
  /** the URL to register: a recording proxy in front of the real server */
  url: string;
  /** requests the proxy forwarded, with their Authorization header */
  seen: { method: string; authorization: string | undefined }[];
  /** kills the server and starts a new one on the same port (its MCP sessions are gone) */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}

function spawnEverythingHttp(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [everythingMain, 'streamableHttp'], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server-everything did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on port')) (clearTimeout(t), resolve(child));
    });
    child.once('exit', (code) => (clearTimeout(t), reject(new Error(`server-everything exited ${code}: ${err}`))));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/**
 * server-everything over streamable HTTP (`PORT` env, path /mcp), behind a small proxy in this
 * process that records each request's Authorization header and forwards it unchanged.
 */
export async function startRemoteEverything(): Promise<RemoteMcp> {
  const port = await freePort();
  let child = await spawnEverythingHttp(port);
  const seen: RemoteMcp['seen'] = [];
  const proxy: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', authorization: req.headers.authorization });
    const up = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
  return {
    url,
    seen,
    async restartServer() {
      await kill(child);
      child = await spawnEverythingHttp(port);
    },
    async stop() {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await kill(child);
    },
  };
}
