import { mkdir, readdir, readFile } from 'node:fs/promises';
import type { LlmMessage } from '@semibot/llm';
import path from 'node:path';
import type { GraphState } from './state.js';
import { AppendFile } from '../../atomic-write.js';

/** checkpoints a compaction keeps; the log holds at most twice as many */
const KEEP = 10;
export const CHECKPOINT_LOG = 'checkpoints.jsonl';
/** where planes before the log kept one file per checkpoint (`<counter>-<runId>-<node>.json`): still read */
const LEGACY_DIR = 'checkpoints';

/**
 * Checkpoints of one session in `<session dir>/checkpoints.jsonl`: one line per node transition,
 * appended; once the log holds 2 × 10 lines it is rewritten atomically with the newest 10.
 *
 * A log, not a file per checkpoint: creating a file and deleting an old one were what a checkpoint
 * cost on the plane's disk (ext4, 2-core VM: ~110–260 µs of CPU to create a small file, ~190 µs of
 * wall time to unlink one, ~15 µs to append to an existing file), once per node of every turn; see
 * bench/README (2026-12-06, evening) for what it changed under load. An append is as safe as the rename
 * was against a plane that dies (neither is fsynced: both survive a process, not a kernel); a line
 * torn by a death mid-write is dropped when the log is loaded, and the log rewritten without it.
 *
 * Loading and compaction are asynchronous (a plane serves many sessions on one event loop); an
 * append is a plain write of one line (see AppendFile).
 */
export class CheckpointStore {
  private readonly file: string;
  private readonly log: AppendFile;
  /** the run of each line of the log, oldest first: a run without one is answered without a read */
  private runs: string[] = [];
  /** file names of the legacy directory, oldest first */
  private legacy: string[] = [];
  private readonly ready: Promise<void>;
  /** saves of one session, in order (a compaction must not race an append) */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly sessionDir: string) {
    this.file = path.join(sessionDir, CHECKPOINT_LOG);
    this.log = new AppendFile(this.file);
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    await mkdir(this.sessionDir, { recursive: true });
    const [text, legacy] = await Promise.all([
      readFile(this.file, 'utf8').catch(() => ''),
      readdir(path.join(this.sessionDir, LEGACY_DIR)).catch(() => [] as string[]),
    ]);
    this.legacy = legacy.filter((f) => f.endsWith('.json')).sort();
    const { lines, torn } = parseLines(text);
    this.runs = lines.map((l) => l.state.runId);
    // rewritten without the torn line, or the next append would be glued to its bytes
    if (torn) await this.log.replace(lines.map((l) => `${l.line}\n`).join(''));
  }

  /** Resolves once the checkpoint is in the log (the graph moves on only then). */
  save(state: GraphState): Promise<void> {
    const own = state.priorMessages ? { ...state, messages: state.messages.slice(state.priorMessages) } : state;
    const line = `${JSON.stringify(own)}\n`;
    const runId = state.runId;
    const next = this.tail.then(() => this.write(runId, line));
    this.tail = next.catch(() => {});
    return next;
  }

  private async write(runId: string, line: string): Promise<void> {
    await this.ready;
    if (this.runs.length < 2 * KEEP) {
      await this.log.append(line);
      this.runs.push(runId);
      return;
    }
    const kept = (await readFile(this.file, 'utf8')).split('\n').filter(Boolean).slice(-(KEEP - 1));
    await this.log.replace(`${kept.map((l) => `${l}\n`).join('')}${line}`);
    this.runs = [...this.runs.slice(-(KEEP - 1)), runId];
  }

  /**
   * The newest checkpoint of a run, if any survives, with `prior` (the session's messages before
   * the turn) put back in front of the turn's own. An unfinished turn checkpointed over a different
   * number of prior messages cannot be continued: null, and the turn starts over.
   */
  async latest(runId: string, prior: readonly LlmMessage[] = []): Promise<GraphState | null> {
    await this.ready;
    await this.tail;
    const state = this.runs.includes(runId) ? await this.fromLog(runId) : await this.fromLegacy(runId);
    if (!state) return null;
    if (!state.priorMessages) return state;
    // a finished turn is only its answer (a plane that died between saving the turn and `done`
    // has the turn in its history already): that needs no transcript to continue
    if (prior.length !== state.priorMessages && state.node !== 'done') return null;
    return { ...state, messages: [...prior, ...state.messages] };
  }

  private async fromLog(runId: string): Promise<GraphState | null> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    let found: GraphState | null = null;
    for (const l of parseLines(text).lines) if (l.state.runId === runId) found = l.state;
    return found;
  }

  private async fromLegacy(runId: string): Promise<GraphState | null> {
    const last = this.legacy.filter((f) => f.includes(`-${runId}-`)).at(-1);
    if (!last) return null;
    try {
      return JSON.parse(await readFile(path.join(this.sessionDir, LEGACY_DIR, last), 'utf8')) as GraphState;
    } catch {
      return null;
    }
  }
}

/** The log's whole lines that parse, in order; `torn`: something else was there (a death mid-append). */
function parseLines(text: string): { lines: { line: string; state: GraphState }[]; torn: boolean } {
  const lines: { line: string; state: GraphState }[] = [];
  const raw = text.split('\n');
  // the part after the last newline is a line only if the write that made it finished it
  let torn = raw.pop() !== '';
  for (const line of raw) {
    if (!line) continue;
    try {
      const state = JSON.parse(line) as GraphState;
      if (typeof state?.runId === 'string') lines.push({ line, state });
      else torn = true;
    } catch {
      torn = true;
    }
  }
  return { lines, torn };
}
