import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { newSessions, newUser, type BenchUser } from './api.js';
import type { ControlPlaneProc } from './platform.js';
import { childPids } from './procs.js';
import { summarize, type Summary } from './stats.js';

/**
 * Two end-to-end figures measured with plain fetch from this process (they are tens to thousands
 * of ms, so the client's own cost does not matter): a tool turn's overhead over the tool's own
 * time, and how long a client waits after its execution plane is killed (-9) mid-answer.
 */
const now = () => performance.now();

interface Frame {
  event: string;
  data: Record<string, unknown>;
  at: number;
}

/** POSTs a message and reads its SSE stream to `done`, timestamping every frame. */
async function streamTurn(cp: ControlPlaneProc, user: BenchUser, sessionId: string, content: string, onFrame?: (f: Frame) => void): Promise<Frame[]> {
  const res = await fetch(`${cp.url}/api/v1/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { ...user.auth, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content }),
  });
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body!) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const f = { event, data: JSON.parse(data) as Record<string, unknown>, at: now() };
      frames.push(f);
      onFrame?.(f);
      if (event === 'done') return frames;
    }
  }
  return frames;
}

export interface ToolTurnFigure {
  turns: number;
  /** POST → done, minus the tool's own time (tool_call → tool_result), ms */
  overheadMs: Summary;
  toolMs: Summary;
}

/** Turns that run one `run_command` (`sleep 0.05`): everything but the command is overhead (incl. two mock model calls). */
export async function toolTurns(cp: ControlPlaneProc, turns: number): Promise<ToolTurnFigure> {
  const user = await newUser(cp.url);
  const [sessionId] = await newSessions(cp.url, user, 1);
  await streamTurn(cp, user, sessionId!, '/echo warm'); // the plane starts here, not in the sample
  const overhead: number[] = [];
  const tool: number[] = [];
  for (let i = 0; i < turns; i++) {
    const t0 = now();
    const frames = await streamTurn(cp, user, sessionId!, '/tool run_command {"command":"sleep 0.05"}');
    const end = frames.at(-1)!.at;
    const call = frames.find((f) => f.event === 'tool_call')!.at;
    const result = frames.find((f) => f.event === 'tool_result')!.at;
    tool.push(result - call);
    overhead.push(end - t0 - (result - call));
  }
  return { turns, overheadMs: summarize(overhead), toolMs: summarize(tool) };
}

export interface RecoveryFigure {
  kills: number;
  /** kill -9 of the plane → the next event on the client's stream (step_restart of the new attempt), ms */
  toNextEventMs: Summary;
  /** kill -9 → `done` (completed, the answer whole), ms */
  toDoneMs: Summary;
}

function planePidOf(cp: ControlPlaneProc, userHome: string): number | null {
  for (const pid of childPids(cp.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`SEMIBOT_HOME=${userHome}`)) return pid;
    } catch {
      /* gone */
    }
  }
  return null;
}

/** A fresh user streams `/slow 60 10`; after 10 tokens its plane is killed; the run resumes elsewhere. */
export async function planeKillRecovery(cp: ControlPlaneProc, kills: number): Promise<RecoveryFigure> {
  const toNext: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < kills; i++) {
    const user = await newUser(cp.url);
    const [sessionId] = await newSessions(cp.url, user, 1);
    const me = (await (await fetch(`${cp.url}/api/v1/auth/me`, { headers: { ...user.auth } })).json()) as { user: { id: string } };
    let killedAt = 0;
    let texts = 0;
    let next = 0;
    const frames = await streamTurn(cp, user, sessionId!, '/slow 60 10', (f) => {
      if (f.event === 'text' && ++texts === 10 && !killedAt) {
        const pid = planePidOf(cp, `${cp.home}/planes/${me.user.id}`);
        if (pid) {
          killedAt = now();
          process.kill(pid, 'SIGKILL');
        }
      } else if (killedAt && !next) next = f.at;
    });
    if (!killedAt || frames.at(-1)?.data.status !== 'completed') throw new Error('plane kill recovery: the run did not complete after the kill');
    toNext.push(next - killedAt);
    toDone.push(frames.at(-1)!.at - killedAt);
  }
  return { kills, toNextEventMs: summarize(toNext), toDoneMs: summarize(toDone) };
}

export interface SocketCutFigure {
  cuts: number;
  /** the plane's socket killed (ss -K) → the next event on the client's stream, ms; null when ss -K is not permitted here */
  toNextEventMs: Summary | null;
  /** the run kept its first attempt (continued, not re-delivered) every time */
  sameAttempt: boolean;
}

/** The local port of the plane's TCP connection to the control plane (by pid), if established. */
function planeSocketPort(planePid: number, cpPort: number): string | undefined {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${cpPort} )`], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.includes(`pid=${planePid},`));
  return line ? /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(line)?.[1] : undefined;
}

/**
 * Kills the plane's connection to the control plane; false if it cannot. Checked afterwards: on a
 * kernel without socket destruction (CONFIG_INET_DIAG_DESTROY) `ss -K` exits 0 and kills nothing,
 * which once made this figure ~1 ms (no cut at all) on some machines of this kind.
 */
function cutPlaneSocket(planePid: number, cpPort: number): boolean {
  const local = planeSocketPort(planePid, cpPort);
  if (!local) return false;
  try {
    execFileSync('ss', ['-K', '-tn', `( sport = :${local} and dport = :${cpPort} )`], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return planeSocketPort(planePid, cpPort) !== local;
}

/** A warm plane's WebSocket is cut mid-answer (both processes live): it reconnects and the run goes on. */
export async function socketCutRecovery(cp: ControlPlaneProc, cuts: number): Promise<SocketCutFigure> {
  const cpPort = Number(new URL(cp.url).port);
  const samples: number[] = [];
  let sameAttempt = true;
  for (let i = 0; i < cuts; i++) {
    const user = await newUser(cp.url);
    const [sessionId] = await newSessions(cp.url, user, 1);
    await streamTurn(cp, user, sessionId!, '/echo warm');
    const me = (await (await fetch(`${cp.url}/api/v1/auth/me`, { headers: { ...user.auth } })).json()) as { user: { id: string } };
    const pid = planePidOf(cp, `${cp.home}/planes/${me.user.id}`);
    let cutAt = 0;
    let next = 0;
    let texts = 0;
    let runId = '';
    await streamTurn(cp, user, sessionId!, '/slow 60 10', (f) => {
      if (f.event === 'run') runId = String(f.data.runId);
      if (f.event === 'text' && ++texts === 10 && !cutAt && pid) {
        if (cutPlaneSocket(pid, cpPort)) cutAt = now();
      } else if (cutAt && !next && f.at - cutAt > 2) {
        // the first event after the cut that did not already wait in the control plane's pipe to
        // this client (those arrive at once, however long the ss calls held this callback); the
        // next ones went out over the plane's new connection
        next = f.at;
      }
    });
    if (!cutAt) return { cuts: 0, toNextEventMs: null, sameAttempt };
    if (next) samples.push(next - cutAt);
    const run = (await (await fetch(`${cp.url}/api/v1/runs/${runId}`, { headers: { ...user.auth } })).json()) as { attempt: number; status: string };
    if (run.attempt !== 1 || run.status !== 'completed') sameAttempt = false;
  }
  return { cuts, toNextEventMs: summarize(samples), sameAttempt };
}
