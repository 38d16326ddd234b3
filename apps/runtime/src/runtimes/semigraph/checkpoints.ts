import { unlink } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import type { LlmMessage } from '@semibot/llm';
import path from 'node:path';
import type { GraphState } from './state.js';
import { writeAtomically } from '../../atomic-write.js';

const KEEP = 10;

/**
 * Checkpoints of one session under `<session dir>/checkpoints/`: one file per node transition,
 * written atomically (write a temp file, then rename), the newest 10 kept.
 *
 * Asynchronous on purpose: a plane serves many sessions on one event loop, and synchronous
 * writes (a checkpoint per node, several per turn) were a fifth of its CPU with 200 concurrent
 * turns, every millisecond of it holding up the tokens of all other sessions (npm run bench).
 */
export class CheckpointStore {
  private readonly dir: string;
  private counter = 0;
  /** file names on disk, oldest first; kept in memory so a save costs no directory listing */
  private names: string[] = [];
  private readonly ready: Promise<void>;

  constructor(sessionDir: string) {
    const dir = path.join(sessionDir, 'checkpoints');
    this.dir = dir;
    this.ready = (async () => {
      await mkdir(dir, { recursive: true });
      this.names = await this.files();
      this.counter = this.names.length ? Number(this.names.at(-1)!.split('-')[0]) : 0;
    })();
  }

  /** names sort in write order: <counter>-<runId>-<node>.json */
  private async files(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.json')).sort();
  }

  /** Resolves once the checkpoint is on disk (the graph moves on only then). */
  async save(state: GraphState): Promise<void> {
    await this.ready;
    const name = `${String(++this.counter).padStart(8, '0')}-${state.runId}-${state.node}.json`;
    const own = state.priorMessages ? { ...state, messages: state.messages.slice(state.priorMessages) } : state;
    await writeAtomically(path.join(this.dir, name), JSON.stringify(own));
    this.names.push(name);
    // older files go in the background: nothing reads them, and the next node need not wait
    for (const n of this.names.length > KEEP ? this.names.splice(0, this.names.length - KEEP) : []) {
      unlink(path.join(this.dir, n), () => {});
    }
  }

  /**
   * The newest checkpoint of a run, if any survives, with `prior` (the session's messages before
   * the turn) put back in front of the turn's own. An unfinished turn checkpointed over a different
   * number of prior messages cannot be continued: null, and the turn starts over.
   */
  async latest(runId: string, prior: readonly LlmMessage[] = []): Promise<GraphState | null> {
    await this.ready;
    // this store is the directory's only writer: its list is the directory, without a listing
    const last = this.names.filter((f) => f.includes(`-${runId}-`)).at(-1);
    if (!last) return null;
    let state: GraphState;
    try {
      state = JSON.parse(await readFile(path.join(this.dir, last), 'utf8')) as GraphState;
    } catch {
      return null;
    }
    if (!state.priorMessages) return state;
    // a finished turn is only its answer (a plane that died between saving the turn and `done`
    // has the turn in its history already): that needs no transcript to continue
    if (prior.length !== state.priorMessages && state.node !== 'done') return null;
    return { ...state, messages: [...prior, ...state.messages] };
  }
}
