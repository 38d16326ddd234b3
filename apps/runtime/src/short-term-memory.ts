import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { AppendFile, writeAtomically } from './atomic-write.js';
import path from 'node:path';
import type { ChatMessage, SnapshotParams } from '@semibot/protocol';

/** The memory files a snapshot carries: the agent's own notes (the transcript is rebuilt from the history). */
const NOTE_FILES = ['context.md', 'scratchpad.md'] as const;
const TRANSCRIPT = 'conversation.md';
/** the machine-readable history: one message per line, appended per turn */
const HISTORY = 'conversation.jsonl';
/** what planes before conversation.jsonl kept: the whole history, rewritten every turn */
const LEGACY_HISTORY = 'conversation.json';
const MAX_MANIFEST = 10_000;
/**
 * A turn that ran nothing but the model (no tool, command, skill or MCP call) reuses the last look
 * at the disk — the notes' stats, the work directory's manifest — instead of taking it again,
 * unless that is older than this: a process an earlier turn left running may still be writing
 * there. The walk is a stat per file before the turn's `done` — ~9 ms for 100 files, ~80 ms for
 * 2,000 on a 2-core VM — and even an empty one is three thread-pool round trips.
 */
const LOOK_MAX_AGE_MS = 60_000;

type NoteStat = [size: number, mtimeMs: number] | null;

/**
 * A session's short-term memory on the plane's disk: `memory/conversation.md` (the turns, readable
 * by people and by the agent's commands), `context.md`, `scratchpad.md`, plus the machine-readable
 * history in `conversation.jsonl`. `work/` is the directory the agent's commands run in.
 *
 * What a turn writes and sends is the turn's own, never the whole history again: both transcripts
 * are appended to, and a snapshot (for a plane that loses its disk) holds only what the control
 * plane cannot rebuild from its stored messages — the notes and the work directory's manifest —
 * and is not sent at all when they have not changed (`npm run bench`, long session: a turn late in
 * a 300-turn session had cost 3–5× an early one). Reads, listings and whole-file writes are
 * asynchronous: the plane's one event loop relays every other session's tokens meanwhile; an append
 * of a turn's lines is a plain write (atomic-write.ts says why).
 */
export class ShortTermMemory {
  readonly workDir: string;
  private readonly memoryDir: string;
  /** what the last snapshot handed over held (stat of the notes, the manifest); null: none yet */
  private sentKey: string | null = null;
  /** the run whose turn is the last one in the history (its lines carry their run's id) */
  private lastRun: string | null = null;
  /** what the last look at the disk found and when (performance.now()) */
  private lastLook: { notes: NoteStat[]; files: { path: string; size: number }[]; at: number } | null = null;
  /** conversation.jsonl and memory/conversation.md, appended to per turn */
  private readonly historyFile: AppendFile;
  private readonly transcriptFile: AppendFile;

  /**
   * Settles once `work/` and `memory/` exist. Made asynchronously: a new session's two synchronous
   * mkdirs held the plane's one event loop — every other session's tokens — for 0.2 ms on an idle
   * 2-core VM and ~3 ms a session while 200 sessions started at once (a plane's CPU profile,
   * `npm run bench` latency warm-up). Everything here that touches the disk waits for it first.
   */
  readonly ready: Promise<void>;

  constructor(private readonly dir: string) {
    this.workDir = path.join(dir, 'work');
    this.memoryDir = path.join(dir, 'memory');
    this.ready = Promise.all([mkdir(this.workDir, { recursive: true }), mkdir(this.memoryDir, { recursive: true })]).then(() => {});
    this.ready.catch(() => {}); // awaited by each use, which gets the error; not unhandled meanwhile
    this.historyFile = new AppendFile(path.join(dir, HISTORY));
    this.transcriptFile = new AppendFile(path.join(this.memoryDir, TRANSCRIPT));
  }

  /** The history on this disk, or null when there is none (a new session, or a plane that lost its disk). */
  async history(): Promise<ChatMessage[] | null> {
    await this.ready;
    const lines = await readFile(path.join(this.dir, HISTORY), 'utf8').catch(() => null);
    if (lines === null) {
      const legacy = await readFile(path.join(this.dir, LEGACY_HISTORY), 'utf8').catch(() => null);
      let history: ChatMessage[];
      try {
        history = JSON.parse(legacy ?? '') as ChatMessage[];
      } catch {
        return null; // none, or unreadable: the session is restored from the control plane
      }
      await this.historyFile.replace(toLines(history)); // appended to from now on
      return history;
    }
    const out: HistoryLine[] = [];
    let torn = false;
    for (const line of lines.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as HistoryLine);
      } catch {
        torn = true; // written by a plane that died mid-append: that turn never reported `done` and runs again
      }
    }
    // rewritten without it, or the next turn's lines would be appended to the torn one's bytes
    if (torn) await this.historyFile.replace(toLines(out));
    this.lastRun = out.at(-1)?.runId ?? null;
    return out.map(({ role, content }) => ({ role, content }));
  }

  /**
   * True when run `runId`'s turn is already the last in the history: a run delivered again after
   * its turn was saved (the plane died, or its socket dropped, before `done` got through) must
   * not add it twice.
   */
  holdsTurn(runId: string): boolean {
    return this.lastRun === runId;
  }

  /**
   * A finished turn's messages, appended to both transcripts side by side (the turn's `done` waits
   * for them). After a turn that ran anything but the model (`workUntouched` false) the files are
   * opened again by path: a command may have removed or replaced the readable transcript.
   */
  async saveTurn(runId: string, messages: readonly ChatMessage[], opts: { workUntouched?: boolean } = {}): Promise<void> {
    this.lastRun = runId;
    await this.ready;
    const lines = messages.map((m) => ({ ...m, runId }));
    if (opts.workUntouched !== true) void Promise.all([this.historyFile.reopen(), this.transcriptFile.reopen()]);
    await Promise.all([this.historyFile.append(toLines(lines)), this.transcriptFile.append(toMarkdown(messages))]);
  }

  /**
   * The snapshot to hand over, or null when it would hold what the last one did. Stats the notes
   * and lists the work directory (unless `workUntouched`: the turn ran only the model, and the last
   * look is recent); reads the notes only when something changed.
   */
  async snapshot(sessionId: string, opts: { workUntouched?: boolean } = {}): Promise<SnapshotParams | null> {
    await this.ready;
    const { notes, files: fileManifest } = await this.look(opts.workUntouched === true);
    const key = JSON.stringify([notes, fileManifest]);
    if (key === this.sentKey) return null;
    const contents = await Promise.all(NOTE_FILES.map((f, i) => (notes[i] ? readFile(path.join(this.memoryDir, f), 'utf8').catch(() => null) : null)));
    const shortTermMemory: Record<string, string> = {};
    NOTE_FILES.forEach((f, i) => {
      if (contents[i] !== null) shortTermMemory[f] = contents[i]!;
    });
    this.sentKey = key;
    return { sessionId, checkpoint: null, shortTermMemory, conversationState: null, fileManifest };
  }

  private async look(untouched: boolean): Promise<{ notes: NoteStat[]; files: { path: string; size: number }[] }> {
    const last = this.lastLook;
    if (untouched && last && performance.now() - last.at < LOOK_MAX_AGE_MS) return last;
    const at = performance.now();
    const [notes, files] = await Promise.all([
      Promise.all(NOTE_FILES.map((f) => stat(path.join(this.memoryDir, f)).then((s): NoteStat => [s.size, s.mtimeMs], () => null))), // null: not written yet
      manifest(this.workDir),
    ]);
    this.lastLook = { notes, files, at };
    return this.lastLook;
  }

  /** The next snapshot goes out whatever it holds (the control plane it was sent to may not have stored the last). */
  resendSnapshot(): void {
    this.sentKey = null;
  }

  /**
   * Rebuilds the session on a plane that lost its disk: the notes from the latest snapshot (if
   * any), both transcripts from the history the control plane stored.
   */
  async restore(snapshot: SnapshotParams | null, history: readonly ChatMessage[]): Promise<void> {
    const notes = Object.entries(snapshot?.shortTermMemory ?? {}).filter(([name]) => (NOTE_FILES as readonly string[]).includes(name));
    this.lastLook = null;
    await this.ready;
    await Promise.all([
      ...notes.map(([name, content]) => writeAtomically(path.join(this.memoryDir, name), content)),
      // a new session has no history to write: its first turn creates both files
      ...(history.length
        ? [this.transcriptFile.replace(toMarkdown(history)), this.historyFile.replace(toLines(history))]
        : []),
    ]);
  }
}

/** a line of conversation.jsonl: a message, and the run whose turn it belongs to (absent in restored ones) */
type HistoryLine = ChatMessage & { runId?: string };

const toLines = (messages: readonly HistoryLine[]) => messages.map((m) => `${JSON.stringify(m)}\n`).join('');

const HEADINGS: Record<string, string> = { user: 'User', assistant: 'Assistant', system: 'System' };
const toMarkdown = (messages: readonly ChatMessage[]) => messages.map((m) => `\n## ${HEADINGS[m.role] ?? m.role}\n\n${m.content}\n`).join('');


/** Paths and sizes of the work directory (never contents): what a restored plane would be missing. */
async function manifest(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      if (out.length >= MAX_MANIFEST) return;
      const full = path.join(dir, name);
      const st = await stat(full).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) await walk(full);
      else out.push({ path: path.relative(root, full), size: st.size });
    }
  };
  await walk(root);
  return out;
}
