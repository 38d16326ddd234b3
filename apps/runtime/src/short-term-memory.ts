import { mkdirSync } from 'node:fs';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { writeAtomically } from './atomic-write.js';
import path from 'node:path';
import type { ChatMessage, SnapshotParams } from '@semibot/protocol';

const MEMORY_FILES = ['conversation.md', 'context.md', 'scratchpad.md'] as const;
const MAX_MANIFEST = 10_000;

/**
 * A session's short-term memory on the plane's disk: `memory/conversation.md` (the turns, readable
 * by people and by the agent's commands), `context.md`, `scratchpad.md`, plus the machine-readable
 * history in `conversation.json`. `work/` is the directory the agent's commands run in.
 * Reads and writes are asynchronous: the plane's one event loop relays every other session's
 * tokens meanwhile (see checkpoints.ts).
 */
export class ShortTermMemory {
  readonly workDir: string;
  private readonly memoryDir: string;

  constructor(private readonly dir: string) {
    this.workDir = path.join(dir, 'work');
    this.memoryDir = path.join(dir, 'memory');
    mkdirSync(this.workDir, { recursive: true });
    mkdirSync(this.memoryDir, { recursive: true });
  }

  async history(): Promise<ChatMessage[] | null> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, 'conversation.json'), 'utf8')) as ChatMessage[];
    } catch {
      return null;
    }
  }

  /** The two files are independent: written side by side (the turn's `done` waits for them). */
  async saveTurn(history: ChatMessage[], user: string, answer: string): Promise<void> {
    await Promise.all([
      writeAtomically(path.join(this.dir, 'conversation.json'), JSON.stringify(history)),
      appendFile(path.join(this.memoryDir, 'conversation.md'), `\n## User\n\n${user}\n\n## Assistant\n\n${answer}\n`),
    ]);
  }

  /** Read side by side too: one thread-pool round trip before `done` instead of one per file. */
  async snapshot(sessionId: string, history: ChatMessage[]): Promise<SnapshotParams> {
    const [contents, fileManifest] = await Promise.all([
      Promise.all(MEMORY_FILES.map((f) => readFile(path.join(this.memoryDir, f), 'utf8').catch(() => null))), // null: not written yet
      manifest(this.workDir),
    ]);
    const shortTermMemory: Record<string, string> = {};
    MEMORY_FILES.forEach((f, i) => {
      if (contents[i] !== null) shortTermMemory[f] = contents[i]!;
    });
    return { sessionId, checkpoint: null, shortTermMemory, conversationState: { history }, fileManifest };
  }

  /** Rebuilds the session from a snapshot (the plane lost its disk); returns the history. */
  async restore(snapshot: SnapshotParams): Promise<ChatMessage[]> {
    for (const [name, content] of Object.entries(snapshot.shortTermMemory)) {
      if ((MEMORY_FILES as readonly string[]).includes(name)) await writeAtomically(path.join(this.memoryDir, name), content);
    }
    const history = ((snapshot.conversationState as { history?: ChatMessage[] } | null)?.history ?? []) as ChatMessage[];
    await writeAtomically(path.join(this.dir, 'conversation.json'), JSON.stringify(history));
    return history;
  }
}

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
