import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GraphState } from './state.js';

const KEEP = 10;

/**
 * Checkpoints of one session under `<session dir>/checkpoints/`: one file per node transition,
 * written atomically (write a temp file, then rename), the newest 10 kept.
 */
export class CheckpointStore {
  private readonly dir: string;
  private counter = 0;
  /** file names on disk, oldest first; kept in memory so a save costs no directory listing */
  private names: string[];

  constructor(sessionDir: string) {
    this.dir = path.join(sessionDir, 'checkpoints');
    mkdirSync(this.dir, { recursive: true });
    this.names = this.files();
    this.counter = this.names.length ? Number(this.names.at(-1)!.split('-')[0]) : 0;
  }

  /** names sort in write order: <counter>-<runId>-<node>.json */
  private files(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort();
  }

  save(state: GraphState): void {
    const name = `${String(++this.counter).padStart(8, '0')}-${state.runId}-${state.node}.json`;
    const file = path.join(this.dir, name);
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
    this.names.push(name);
    while (this.names.length > KEEP) rmSync(path.join(this.dir, this.names.shift()!), { force: true });
  }

  /** The newest checkpoint of a run, if any survives. */
  latest(runId: string): GraphState | null {
    const mine = this.files().filter((f) => f.includes(`-${runId}-`));
    const last = mine.at(-1);
    if (!last) return null;
    try {
      return JSON.parse(readFileSync(path.join(this.dir, last), 'utf8')) as GraphState;
    } catch {
      return null;
    }
  }

  /** The newest checkpoint of any run (for snapshots). */
  newest(): GraphState | null {
    const last = this.files().at(-1);
    return last ? (JSON.parse(readFileSync(path.join(this.dir, last), 'utf8')) as GraphState) : null;
  }
}
