import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShortTermMemory } from './short-term-memory.js';

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stm-'));
  dirs.push(dir);
  return { dir, memory: new ShortTermMemory(dir) };
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const turn = (n: number) => [
  { role: 'user' as const, content: `question ${n}` },
  { role: 'assistant' as const, content: `answer ${n}` },
];

describe('ShortTermMemory', () => {
  it("makes a new session's directories without blocking the event loop, before anything is written", async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'stm-')), 'session');
    dirs.push(path.dirname(dir));
    const memory = new ShortTermMemory(dir);
    expect(existsSync(dir)).toBe(false); // nothing synchronous: the directories come from the thread pool
    await memory.saveTurn('r1', turn(1)); // waits for them
    expect(existsSync(memory.workDir)).toBe(true);
    expect(readFileSync(path.join(dir, 'memory/conversation.md'), 'utf8')).toContain('question 1');
  });

  it('reports a directory it cannot make to whatever waits for it', async () => {
    const { dir } = fresh();
    writeFileSync(path.join(dir, 'blocked'), ''); // a file where the session's directory would go
    const memory = new ShortTermMemory(path.join(dir, 'blocked'));
    await expect(memory.ready).rejects.toThrow(/ENOTDIR|EEXIST/);
    await expect(memory.history()).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it('appends each turn to both transcripts and reads the history back', async () => {
    const { dir, memory } = fresh();
    expect(await memory.history()).toBeNull();
    await memory.saveTurn('r1', turn(1));
    await memory.saveTurn('r2', [{ role: 'user', content: 'no answer' }]);
    expect(await memory.history()).toEqual([...turn(1), { role: 'user', content: 'no answer' }]);
    expect(readFileSync(path.join(dir, 'memory/conversation.md'), 'utf8')).toBe(
      '\n## User\n\nquestion 1\n\n## Assistant\n\nanswer 1\n\n## User\n\nno answer\n',
    );
  });

  it("knows the last saved turn's run, also after a restart, so a run delivered again is not saved twice", async () => {
    const { dir, memory } = fresh();
    await memory.saveTurn('r1', turn(1));
    expect(memory.holdsTurn('r1')).toBe(true);
    await memory.saveTurn('r2', turn(2));
    expect([memory.holdsTurn('r1'), memory.holdsTurn('r2')]).toEqual([false, true]);
    const restarted = new ShortTermMemory(dir);
    expect(await restarted.history()).toEqual([...turn(1), ...turn(2)]); // the messages as they were, without the run ids
    expect([restarted.holdsTurn('r2'), restarted.holdsTurn('r3')]).toEqual([true, false]);
  });

  it('drops a line torn by a plane that died mid-append, and the next turn appends cleanly after it', async () => {
    const { dir, memory } = fresh();
    await memory.saveTurn('r1', turn(1));
    appendFileSync(path.join(dir, 'conversation.jsonl'), '{"role":"user","cont');
    expect(await memory.history()).toEqual(turn(1));
    await memory.saveTurn('r2', turn(2));
    expect(await new ShortTermMemory(dir).history()).toEqual([...turn(1), ...turn(2)]);
  });

  it('after a turn that ran a command, appends to the transcript a command put in place of the old one', async () => {
    const { dir, memory } = fresh();
    await memory.saveTurn('r1', turn(1));
    const transcript = path.join(dir, 'memory/conversation.md');
    rmSync(transcript); // e.g. `rm ../memory/conversation.md` from the work directory
    await memory.saveTurn('r2', turn(2), { workUntouched: false });
    expect(readFileSync(transcript, 'utf8')).toBe('\n## User\n\nquestion 2\n\n## Assistant\n\nanswer 2\n');
    expect(await new ShortTermMemory(dir).history()).toEqual([...turn(1), ...turn(2)]);
  });

  it('reads the whole-file history of an older plane and appends to it from then on', async () => {
    const { dir, memory } = fresh();
    writeFileSync(path.join(dir, 'conversation.json'), JSON.stringify(turn(1)));
    expect(await memory.history()).toEqual(turn(1));
    await memory.saveTurn('r2', turn(2));
    expect(await new ShortTermMemory(dir).history()).toEqual([...turn(1), ...turn(2)]);
  });

  it('hands over a snapshot only when the notes or the work directory changed', async () => {
    const { dir, memory } = fresh();
    const first = await memory.snapshot('s1');
    expect(first).toEqual({ sessionId: 's1', checkpoint: null, shortTermMemory: {}, conversationState: null, fileManifest: [] });
    await memory.saveTurn('r1', turn(1)); // the transcript is rebuilt from the stored history: not a change
    expect(await memory.snapshot('s1')).toBeNull();
    writeFileSync(path.join(dir, 'memory/scratchpad.md'), 'remember this');
    expect((await memory.snapshot('s1'))?.shortTermMemory).toEqual({ 'scratchpad.md': 'remember this' });
    expect(await memory.snapshot('s1')).toBeNull();
    writeFileSync(path.join(dir, 'work/out.txt'), 'abc');
    expect((await memory.snapshot('s1'))?.fileManifest).toEqual([{ path: 'out.txt', size: 3 }]);
    memory.resendSnapshot();
    expect((await memory.snapshot('s1'))?.shortTermMemory).toEqual({ 'scratchpad.md': 'remember this' });
  });

  it('restores notes from a snapshot and both transcripts from the stored history', async () => {
    const { dir, memory } = fresh();
    const snapshot = {
      sessionId: 's1',
      checkpoint: null,
      // an older plane's snapshot also held the transcript: the stored history wins
      shortTermMemory: { 'context.md': 'ctx', 'conversation.md': 'stale', 'other.md': 'not a memory file' },
      conversationState: null,
      fileManifest: [],
    };
    await memory.restore(snapshot, turn(1));
    expect(readFileSync(path.join(dir, 'memory/context.md'), 'utf8')).toBe('ctx');
    expect(readFileSync(path.join(dir, 'memory/conversation.md'), 'utf8')).toBe('\n## User\n\nquestion 1\n\n## Assistant\n\nanswer 1\n');
    expect(await new ShortTermMemory(dir).history()).toEqual(turn(1));
    expect(() => readFileSync(path.join(dir, 'memory/other.md'))).toThrow();
  });
  it("a turn that ran only the model reuses the last look at the notes and the work directory, for up to a minute", async () => {
    const { dir, memory } = fresh();
    expect((await memory.snapshot('s'))?.fileManifest).toEqual([]);
    writeFileSync(path.join(memory.workDir, 'a.txt'), 'a');
    writeFileSync(path.join(dir, 'memory/context.md'), 'noted');
    // nothing but the model ran: not looked at again, so nothing new to hand over
    expect(await memory.snapshot('s', { workUntouched: true })).toBeNull();
    // a turn that ran a tool looks again
    expect(await memory.snapshot('s')).toMatchObject({ fileManifest: [{ path: 'a.txt', size: 1 }], shortTermMemory: { 'context.md': 'noted' } });
    writeFileSync(path.join(memory.workDir, 'b.txt'), 'bb');
    expect(await memory.snapshot('s', { workUntouched: true })).toBeNull();
    // a minute on, a process left running may have written there: listed again
    const now = performance.now();
    const clock = vi.spyOn(performance, 'now').mockReturnValue(now + 61_000);
    try {
      const files = (await memory.snapshot('s', { workUntouched: true }))?.fileManifest ?? [];
      expect([...files].sort((x, y) => x.path.localeCompare(y.path))).toEqual([
        { path: 'a.txt', size: 1 },
        { path: 'b.txt', size: 2 },
      ]);
    } finally {
      clock.mockRestore();
    }
  });
});
