import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { copyTree } from './copy-tree.js';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { migrationsDir } from './migrate.js';

/**
 * A fresh embedded database costs PGlite's initdb (seconds; measured 3–7 s on this project's
 * 2-core machines) where reopening one costs ~0.6 s. So the first start on a machine keeps a
 * copy of its freshly migrated, still empty data directory, and later fresh homes start from a
 * copy of it. The copy is keyed by the PGlite version and the migrations' contents, so it can
 * never be a different schema or engine; SEMIBOT_PGLITE_TEMPLATE=off disables it.
 */
export function templateDir(): string | null {
  if (process.env.SEMIBOT_PGLITE_TEMPLATE === 'off') return null;
  const version = pgliteVersion();
  const hash = createHash('sha256').update(version);
  for (const f of readdirSync(migrationsDir).sort()) hash.update(f).update(readFileSync(path.join(migrationsDir, f)));
  const cacheRoot = process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache');
  return path.join(cacheRoot, 'semibot', `pglite-${version}-${hash.digest('hex').slice(0, 16)}`);
}

/** PGlite's package.json is not in its exports map: find it beside the resolved entry point. */
function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The template to seed a fresh `dataDir` from, or null (none saved yet, or `dataDir` exists). */
export function usableTemplate(dataDir: string): string | null {
  const template = templateDir();
  if (!template || existsSync(dataDir) || !existsSync(path.join(template, 'PG_VERSION'))) return null;
  return template;
}

/** Saves a just-migrated, closed, empty data directory as the template (first writer wins). */
export function saveTemplate(dataDir: string): void {
  const template = templateDir();
  if (!template || existsSync(template)) return;
  mkdirSync(path.dirname(template), { recursive: true });
  const tmp = `${template}.tmp-${process.pid}`;
  try {
    cpSync(dataDir, tmp, { recursive: true });
    renameSync(tmp, template);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process saved it first, or no room: start slow next time
  }
}

/**
 * A spare copy of the template, ready to be renamed into place: a fresh home then starts without
 * copying 1,062 files (~300-450 ms of its ~1.2 s to ready on this project's 2-core VM). Whoever
 * takes it makes the next one a few seconds later, off its start's critical path.
 */
const spareOf = (template: string) => `${template}.spare`;

/** Moves the spare to `dataDir` (true); false when there is none (or it is on another disk). */
export function takeSpare(template: string, dataDir: string): boolean {
  try {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    renameSync(spareOf(template), dataDir); // atomic: of two starts racing for it, one gets it
    return true;
  } catch {
    return false;
  }
}

/** Makes a spare if there is none; two files at a time, so the thread pool stays free for requests. */
export async function refillSpare(template: string): Promise<void> {
  const spare = spareOf(template);
  if (existsSync(spare) || !existsSync(path.join(template, 'PG_VERSION'))) return;
  removeAbandonedCopies(spare);
  const tmp = `${spare}.tmp-${process.pid}-${threadId}`;
  try {
    await copyTree(template, tmp, 2);
    renameSync(tmp, spare); // fails if another process made one meanwhile: then this copy goes
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Half-made spares of processes that died copying (`<spare>.tmp-<pid>-<thread>`). */
function removeAbandonedCopies(spare: string): void {
  const dir = path.dirname(spare);
  const prefix = `${path.basename(spare)}.tmp-`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || isAlive(pid)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
