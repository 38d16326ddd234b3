import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import type { ChatMessage, SnapshotParams } from '@semibot/protocol';

const MEMORY_FILES = ['conversation.md', 'context.md', 'scratchpad.md'] as const;
const MAX_MANIFEST = 10_000;

/**
 * A session's short-term memory on the plane's disk: `memory/conversation.md` (the turns, readable
 * by people and by the agent's commands), `context.md`, `scratchpad.md`, plus the machine-readable
 * history in `conversation.json`. `work/` is the directory the agent's commands run in.
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

  history(): ChatMessage[] | null {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, 'conversation.json'), 'utf8')) as ChatMessage[];
    } catch {
      return null;
    }
  }

  saveTurn(history: ChatMessage[], user: string, answer: string): void {
    atomicWrite(path.join(this.dir, 'conversation.json'), JSON.stringify(history));
    appendFileSync(path.join(this.memoryDir, 'conversation.md'), `\n## User\n\n${user}\n\n## Assistant\n\n${answer}\n`);
  }

  snapshot(sessionId: string, history: ChatMessage[]): SnapshotParams {
    const shortTermMemory: Record<string, string> = {};
    for (const f of MEMORY_FILES) {
      try {
        shortTermMemory[f] = readFileSync(path.join(this.memoryDir, f), 'utf8');
      } catch {
        /* not written yet */
      }
    }
    return { sessionId, checkpoint: null, shortTermMemory, conversationState: { history }, fileManifest: manifest(this.workDir) };
  }

  /** Rebuilds the session from a snapshot (the plane lost its disk); returns the history. */
  restore(snapshot: SnapshotParams): ChatMessage[] {
    for (const [name, content] of Object.entries(snapshot.shortTermMemory)) {
      if ((MEMORY_FILES as readonly string[]).includes(name)) atomicWrite(path.join(this.memoryDir, name), content);
    }
    const history = ((snapshot.conversationState as { history?: ChatMessage[] } | null)?.history ?? []) as ChatMessage[];
    atomicWrite(path.join(this.dir, 'conversation.json'), JSON.stringify(history));
    return history;
  }
}

function atomicWrite(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

/** Paths and sizes of the work directory (never contents): what a restored plane would be missing. */
function manifest(root: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (out.length >= MAX_MANIFEST) return;
      const full = path.join(dir, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(full);
      else out.push({ path: path.relative(root, full), size: st.size });
    }
  };
  walk(root);
  return out;
}
