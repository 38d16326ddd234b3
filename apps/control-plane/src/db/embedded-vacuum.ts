import type { Logger } from 'pino';
import type { Db } from './db.js';

/**
 * VACUUM for embedded PGlite, which has no autovacuum: it runs PostgreSQL in single-user mode,
 * where no background worker ever starts. Without it nothing reclaims the row versions that
 * updates and deletes leave behind (a run's row is written three or four times; event batches,
 * snapshots and sessions are pruned), so a long-lived home only grows, a partial index such as
 * `runs_active` keeps an entry for every run there ever was (a batch finalize read 3,226 of them
 * for 226 active runs), and nothing freezes old rows ahead of transaction-id wraparound, where
 * PostgreSQL stops taking writes. A server's own autovacuum does all of this; this runs only on
 * PGlite.
 *
 * Every `intervalMs` (autovacuum's naptime) it picks the tables autovacuum would: those whose dead
 * rows exceed 50 + 20 % of their live ones (autovacuum_vacuum_threshold and _scale_factor), and
 * any table, system catalogs included, whose oldest unfrozen transaction id is older than
 * FREEZE_AGE, which plain VACUUM then freezes by scanning it whole (past vacuum_freeze_table_age). It vacuums them one statement
 * per table: PGlite has one thread and statements queue behind a VACUUM, so a pass is a few short
 * pauses, not one long one. It does not ANALYZE: statistics made this product's own statements
 * slower, not faster (bench/README, 2026-12-07, eighth session). PGlite keeps the dead-row
 * counters it reads, flushed when a statement ends at least a second after the last flush.
 */

export interface VacuumPass {
  tables: string[];
  /** the whole pass, ms */
  ms: number;
  /** the longest single table's VACUUM, ms: the longest any other statement waited behind it */
  slowestMs: number;
}

export interface EmbeddedVacuumOptions {
  logger: Logger;
  /** @default 60 s */
  intervalMs?: number;
  /** a table whose oldest unfrozen xid is older than this is vacuumed @default 200M (tests lower it) */
  freezeAge?: number;
  /** told of every pass that vacuumed something (metrics, tests) */
  onPass?: (pass: VacuumPass) => void;
}

export interface EmbeddedVacuum {
  /** a pass now (the tables due); a pass already under way is waited for instead */
  runNow(): Promise<VacuumPass>;
  stop(): Promise<void>;
}

/** autovacuum_freeze_max_age's default: past it a server's autovacuum vacuums a table regardless */
const FREEZE_AGE = 200_000_000;

/**
 * The tables due, as qualified names. The age test covers the system catalogs too: wraparound is
 * reckoned from the oldest table of the database, and a catalog that never changes still ages.
 */
const due = (freezeAge: number) => `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
  WHERE c.relkind IN ('r', 'm')
    AND (s.n_dead_tup > 50 + 0.2 * s.n_live_tup OR age(c.relfrozenxid) > ${Math.floor(freezeAge)})
  ORDER BY s.n_dead_tup DESC NULLS LAST, age(c.relfrozenxid) DESC`;

export function startEmbeddedVacuum(db: Db, o: EmbeddedVacuumOptions): EmbeddedVacuum {
  let running: Promise<VacuumPass> | null = null;
  let stopped = false;

  const pass = async (): Promise<VacuumPass> => {
    const started = performance.now();
    const result: VacuumPass = { tables: [], ms: 0, slowestMs: 0 };
    for (const { name } of await db.query<{ name: string }>(due(o.freezeAge ?? FREEZE_AGE))) {
      if (stopped) break;
      const t0 = performance.now();
      await db.exec(`VACUUM ${name}`);
      result.slowestMs = Math.max(result.slowestMs, performance.now() - t0);
      result.tables.push(name);
    }
    result.ms = performance.now() - started;
    if (result.tables.length > 0) {
      o.onPass?.(result);
      o.logger.info({ tables: result.tables, ms: Math.round(result.ms), slowestMs: Math.round(result.slowestMs) }, 'embedded database vacuumed');
    }
    return result;
  };

  const runNow = (): Promise<VacuumPass> => {
    running ??= pass().finally(() => (running = null));
    return running;
  };

  const timer = setInterval(() => {
    runNow().catch((err) => o.logger.warn({ err }, 'embedded database vacuum failed; trying again at the next interval'));
  }, o.intervalMs ?? 60_000);
  timer.unref();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
