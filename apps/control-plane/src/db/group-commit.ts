/**
 * Group commit for embedded PGlite. Statements outside a transaction that queue up while PGlite is
 * busy run together, in arrival order, in one transaction: a commit is about a third of a short
 * statement's cost there (a turn's submit + finalize: 1.25 ms of CPU one by one, 0.84 ms fifty to
 * a transaction), and 200 turns starting at once queued their statements one commit each behind a
 * single thread. A statement that arrives alone runs alone, as before, so an idle server adds no
 * wait.
 *
 * Each caller is answered only after its group committed. If any statement of a group fails, the
 * group is rolled back and its statements run again one by one, so each gets its own answer (the
 * failing one its error) and none is affected by another's failure; the same covers statements
 * that cannot run inside a transaction block.
 */

export interface GroupableDb {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  transaction<T>(fn: (tx: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<T>): Promise<T>;
}

export interface Statement {
  id: number;
  sql: string;
  params?: unknown[];
}

export type Answer = { rows: unknown[] } | { error: unknown };

/** Statements per group: a group's first caller waits for the whole group. */
const MAX_GROUP = 16;

export class GroupCommit {
  private readonly waiting: Statement[] = [];
  private running = false;

  constructor(
    private readonly db: GroupableDb,
    private readonly answer: (id: number, a: Answer) => void,
  ) {}

  add(s: Statement): void {
    this.waiting.push(s);
    this.runSoon();
  }

  /**
   * One group per event-loop turn: PGlite's calls settle through microtasks alone, so what arrived
   * while it ran is delivered only when the loop turns again (setImmediate: right after this turn's
   * messages, so a lone statement waits no longer than before).
   */
  private runSoon(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => {
      const group = this.waiting.splice(0, MAX_GROUP);
      void (group.length === 1 ? this.runAlone(group[0]!) : this.runGroup(group)).finally(() => {
        this.running = false;
        if (this.waiting.length > 0) this.runSoon();
      });
    });
  }

  private runAlone(s: Statement): Promise<void> {
    return this.db.query(s.sql, s.params).then(
      (r) => this.answer(s.id, { rows: r.rows }),
      (error: unknown) => this.answer(s.id, { error }),
    );
  }

  private async runGroup(group: Statement[]): Promise<void> {
    let rows: unknown[][];
    try {
      rows = await this.db.transaction(async (tx) => {
        const out: unknown[][] = [];
        for (const s of group) out.push((await tx.query(s.sql, s.params)).rows);
        return out;
      });
    } catch {
      for (const s of group) await this.runAlone(s);
      return;
    }
    group.forEach((s, i) => this.answer(s.id, { rows: rows[i]! }));
  }
}
