import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  follow,
  postStream,
  readSse,
  sendAndStream,
  startPlatform,
  textOf,
  waitFor,
  type Platform,
  type SseFrame,
} from './harness.js';
import { agentWithSession, eventTypes, framesOf, planeHome, processAlive, sessionWorkDir } from './semigraph-helpers.js';

/**
 * `run_command` in the execution plane: its timeout, its output caps, cancel killing what it
 * started, and several tool calls of one model response running in parallel in one act step.
 */
const isDone = (f: SseFrame) => f.event === 'done';

describe('SemiGraph run_command', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const chat = async () => {
    const { token, userId } = await p.user();
    return { token, userId, ...(await agentWithSession(p, token, {})) };
  };

  it('runs in the session work directory (which holds none of the plane\'s own state) and reports exit code, stdout and stderr', async () => {
    const { token, userId, sessionId } = await chat();
    const frames = await sendAndStream(p, token, sessionId, '/tool run_command {"command":"pwd; ls -A; echo oops >&2; exit 3"}');
    expect(frames.at(-1)!.data.status).toBe('completed');
    const [call] = framesOf(frames, 'tool_call');
    expect(call!.data).toMatchObject({ name: 'run_command', args: { command: 'pwd; ls -A; echo oops >&2; exit 3' } });
    const [result] = framesOf(frames, 'tool_result');
    // `ls -A` lists nothing: the turn's checkpoints (already written by now) live outside the work directory
    expect(result!.data).toMatchObject({
      callId: call!.data.callId,
      isError: true,
      result: { exitCode: 3, signal: null, timedOut: false, stdout: `${sessionWorkDir(p, userId, sessionId)}\n`, stderr: 'oops\n' },
    });
    expect(textOf(frames)).toMatch(/^Tool result: exit code 3\n--- stdout ---\n.*\/work\n\n--- stderr ---\noops\n$/);
  });

  it('a command past its timeoutMs is killed: isError, timedOut true, and the turn completes quickly', async () => {
    const { token, sessionId } = await chat();
    const at: Record<string, number> = {};
    const started = Date.now();
    const res = await postStream(p, token, sessionId, '/tool run_command {"command":"sleep 30","timeoutMs":500}');
    const frames = await readSse(res, { until: isDone, timeoutMs: 20_000, onFrame: (f) => (at[f.event] ??= Date.now()) });
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    const [result] = framesOf(frames, 'tool_result');
    expect(result!.data).toMatchObject({ isError: true, result: { timedOut: true, exitCode: null, signal: 'SIGKILL' } });
    expect(at.tool_result! - at.tool_call!).toBeGreaterThanOrEqual(400);
    expect(at.tool_result! - at.tool_call!).toBeLessThan(3_000);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(textOf(frames)).toBe('Tool result: timed out after 500 ms\n--- stdout ---\n\n--- stderr ---\n');
  });

  it('output is capped: 64 KiB captured per stream, 16 000 characters for the model', async () => {
    const { token, sessionId } = await chat();
    const frames = await sendAndStream(p, token, sessionId, `/tool run_command {"command":"head -c 200000 /dev/zero | tr '\\\\0' a"}`);
    expect(frames.at(-1)!.data.status).toBe('completed');
    const result = framesOf(frames, 'tool_result')[0]!.data.result as { stdout: string; exitCode: number };
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('a'.repeat(64 * 1024));
    const text = textOf(frames);
    expect(text).toContain(`${'a'.repeat(100)}`);
    expect(text).toMatch(/…\[\d+ more characters cut\]$/);
    expect(text.length).toBeLessThan(16_100);
  });

  it('cancel during a command: done cancelled within seconds, the process is killed, the checkpoint stays, the session goes on', async () => {
    const { token, userId, sessionId } = await chat();
    const f = await follow(
      (s) => postStream(p, token, sessionId, '/tool run_command {"command":"sleep 30 & echo $! > sleep.pid; wait; echo never"}', {}, s),
      { stopWhen: isDone, timeoutMs: 30_000 },
    );
    const runId = (await f.next((e) => e.event === 'run')).data.runId;
    await f.next((e) => e.event === 'tool_call');
    const pidFile = path.join(sessionWorkDir(p, userId, sessionId), 'sleep.pid');
    const pid = await waitFor(async () => {
      try {
        return Number(readFileSync(pidFile, 'utf8').trim()) || null;
      } catch {
        return null;
      }
    }, 10_000);
    expect(processAlive(pid)).toBe(true);

    const cancelledAt = Date.now();
    const c = await p.api('POST', `/sessions/${sessionId}/cancel`, { token });
    expect(c.status).toBe(202);
    expect(c.body).toMatchObject({ runId });
    const done = await f.next(isDone, 10_000);
    expect(done.data.status).toBe('cancelled');
    // the plane confirmed the cancel itself (the control plane's own fallback fires only after 5 s)
    expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    await waitFor(async () => !processAlive(pid), 3_000);
    const frames = await f.finished;
    // the shell was killed with its sleep: `echo never` never ran, and the model was not asked again
    expect(framesOf(frames, 'tool_result').map((r) => [r.data.isError, r.data.result])).toEqual([
      [true, { exitCode: null, signal: 'SIGKILL', timedOut: false, stdout: '', stderr: '' }],
    ]);
    expect(framesOf(frames, 'text')).toEqual([]);
    expect(framesOf(frames, 'usage')).toHaveLength(1);
    expect((await p.api('GET', `/runs/${runId}`, { token })).body.status).toBe('cancelled');
    const checkpoints = readFileSync(path.join(planeHome(p, userId), 'sessions', sessionId, 'checkpoints.jsonl'), 'utf8');
    expect(checkpoints.split('\n').some((l) => l.includes(`"runId":"${runId}"`))).toBe(true);

    const next = await sendAndStream(p, token, sessionId, '/echo still here');
    expect([next.at(-1)!.data.status, textOf(next)]).toEqual(['completed', 'still here']);
  });

  it('parallel tool calls of one response run at once in one act step (~1 s, not ~2 s)', async () => {
    const { token, sessionId } = await chat();
    const at = new Map<SseFrame, number>();
    const res = await postStream(p, token, sessionId, '/tools run_command {"command":"sleep 1; echo a"} ; run_command {"command":"sleep 1; echo b"}');
    const frames = await readSse(res, { until: isDone, timeoutMs: 20_000, onFrame: (f) => at.set(f, Date.now()) });
    expect(frames.at(-1)!.data.status).toBe('completed');
    const calls = framesOf(frames, 'tool_call');
    const results = framesOf(frames, 'tool_result');
    expect(calls.map((c) => c.data.args)).toEqual([{ command: 'sleep 1; echo a' }, { command: 'sleep 1; echo b' }]);
    expect(results).toHaveLength(2);
    // both calls start before either finishes...
    const types = eventTypes(frames);
    expect(types.lastIndexOf('tool_call')).toBeLessThan(types.indexOf('tool_result'));
    // ...in a single act step
    const acts = framesOf(frames, 'plan_step').filter((s) => String(s.data.stepId).endsWith(':act'));
    expect(acts.map((s) => [s.data.stepId, s.data.status, s.data.title])).toEqual([
      ['0:act', 'running', 'Calling run_command, run_command'],
      ['0:act', 'done', 'Calling run_command, run_command'],
    ]);
    const byCall = Object.fromEntries(results.map((r) => [r.data.callId, (r.data.result as { stdout: string }).stdout]));
    expect(calls.map((c) => byCall[c.data.callId as string])).toEqual(['a\n', 'b\n']);
    const span = at.get(results.at(-1)!)! - at.get(calls[0]!)!;
    expect(span).toBeGreaterThanOrEqual(900);
    expect(span).toBeLessThan(1_800);
    // the model then sees both results; the mock answers with the last one
    expect(textOf(frames)).toBe('Tool result: exit code 0\n--- stdout ---\nb\n\n--- stderr ---\n');
  });
});
