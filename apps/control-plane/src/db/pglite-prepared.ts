import { parse, protocol, type PGlite } from '@electric-sql/pglite';

/** Named statements kept at once; the least recently used is closed to make room. */
const MAX_STATEMENTS = 256;
/** "cached plan must not change result type": a table a statement reads was altered since it was prepared */
const PLAN_CHANGED = '0A000';

/** names are unique in the process, so that two instances on one database never collide */
let named = 0;

interface Prepared {
  name: string;
  /** parameter type oids, as the server inferred them: what each value is serialised as */
  types: number[];
}

/**
 * Runs statements on embedded PGlite as named prepared statements. PGlite's own `query()` sends
 * each statement as six separate calls into its WebAssembly (parse, describe the statement, bind,
 * describe the portal, execute, sync), planning it anew every time. A statement prepared once and
 * then bound, described, executed and synced in one call costs a primary-key lookup 109–141 µs of
 * CPU against 256–461 (in-process microbenchmark, 2-core VM; bench/README, tenth session), and most
 * of a turn's statements are the same dozen texts.
 *
 * Values are serialised and rows parsed by PGlite's own serializers and parsers, by type oid, as
 * its `query()` does. Locking is PGlite's too: `query` waits for any open transaction, as PGlite's
 * own `query()` does, and `queryInTransaction` is for statements of the transaction a
 * `transaction()` callback holds.
 */
export class PreparedStatements {
  private readonly statements = new Map<string, Prepared>();

  constructor(
    private readonly db: PGlite,
    private readonly max = MAX_STATEMENTS,
  ) {}

  /** A statement outside any transaction; waits for an open one to end. */
  query(sql: string, params: unknown[] = []): Promise<{ rows: unknown[] }> {
    return this.db._runExclusiveTransaction(() => this.db._runExclusiveQuery(() => this.run(sql, params, false)));
  }

  /** A statement of the open transaction, from inside the `transaction()` callback that holds it. */
  queryInTransaction(sql: string, params: unknown[] = []): Promise<{ rows: unknown[] }> {
    return this.db._runExclusiveQuery(() => this.run(sql, params, true));
  }

  private async run(sql: string, params: unknown[], inTransaction: boolean): Promise<{ rows: unknown[] }> {
    let p = this.statements.get(sql);
    if (p) {
      this.statements.delete(sql); // kept in order of last use
      this.statements.set(sql, p);
    } else p = await this.prepare(sql);
    try {
      return await this.execute(p, params, inTransaction);
    } catch (err) {
      if ((err as { code?: string }).code !== PLAN_CHANGED) throw err;
      await this.forget(sql);
      // inside a transaction the error has aborted it: the caller's transaction fails, as it would have
      if (inTransaction) throw err;
      return this.execute(await this.prepare(sql), params, false);
    }
  }

  private async execute(p: Prepared, params: unknown[], inTransaction: boolean): Promise<{ rows: unknown[] }> {
    const s = protocol.serialize;
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serialize = this.db.serializers[p.types[i]!];
      return serialize ? (serialize(v) as string) : String(v);
    });
    const message = Buffer.concat([s.bind({ statement: p.name, values }), s.describe({ type: 'P' }), s.execute({}), s.sync()]);
    const { messages } = await this.db.execProtocol(message, { syncToFs: !inTransaction });
    return { rows: parse.parseResults(messages, this.db.parsers)[0]?.rows ?? [] };
  }

  private async prepare(sql: string): Promise<Prepared> {
    if (this.statements.size >= this.max) {
      const [oldest] = this.statements.keys();
      await this.forget(oldest!);
    }
    const s = protocol.serialize;
    const name = `semibot_${++named}`;
    const { messages } = await this.db.execProtocol(Buffer.concat([s.parse({ name, text: sql }), s.describe({ type: 'S', name }), s.sync()]), {
      syncToFs: false,
    });
    const p = { name, types: parse.parseDescribeStatementResults(messages) };
    this.statements.set(sql, p);
    return p;
  }

  private async forget(sql: string): Promise<void> {
    const p = this.statements.get(sql);
    if (!p) return;
    this.statements.delete(sql);
    const s = protocol.serialize;
    // closing a statement never fails, not even in an aborted transaction
    await this.db.execProtocol(Buffer.concat([s.close({ type: 'S', name: p.name }), s.sync()]), { syncToFs: false });
  }
}
