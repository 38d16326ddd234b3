import { close, open, readFileSync, rename, writeFile, writeSync } from 'node:fs';

/**
 * Writes a temporary file and renames it over `file`, so a reader (or a plane that died midway)
 * sees the old content or the new, never half of it. The callback API on purpose: two thread-pool
 * round trips (~0.3 ms here) where fs/promises' writeFile (open, write, close) and rename take four.
 */
export function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp`;
  return new Promise((resolve, reject) =>
    writeFile(tmp, content, (err) => (err ? reject(err) : rename(tmp, file, (e) => (e ? reject(e) : resolve())))),
  );
}

/** A file left unappended this long gives its descriptor back (a plane may host thousands of quiet sessions). */
const IDLE_CLOSE_MS = 30_000;

/**
 * Descriptors open at once across all AppendFiles (opening one more closes the least recently
 * appended): a quarter of the process's open-file limit, the rest left to sockets, child
 * processes' pipes and the like, and at most 8192. The cap must cover the files that busy sessions
 * append to in turn — least recently used is the worst policy for a cyclic pattern: at a fixed 512,
 * 200 sessions streaming at once (three files each) reopened a file and closed another for three
 * appends in four (strace of the plane, npm run bench at 200 streams).
 */
const MAX_OPEN = Math.max(64, Math.min(8192, Math.floor(openFileLimit() / 4)));

/** The soft limit on open files (Node raised it to the hard one at start); a modest guess without /proc. */
function openFileLimit(): number {
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (limit) return Number(limit[1]);
  } catch {
    // not Linux: no /proc
  }
  return 2048;
}
/** the AppendFiles holding a descriptor, least recently appended first */
const holding = new Set<AppendFile>();

/**
 * A file appended to through a descriptor kept open between appends, the write itself synchronous.
 * An append is a few hundred bytes into the page cache: 2–7 µs of CPU as a plain `write` on the
 * event loop, against 22–50 µs through the thread pool (queue, wake a pool thread, its write,
 * wake the loop again; 2,000 appends of 300 bytes over 200 files, 2-core VM, alone and beside two
 * busy processes) — and each woken pool thread could take the core the loop was on, so that in a
 * busy plane's end-of-turn burst the loop spent a fifth of its time "in" queueing writes (CPU
 * profile, npm run bench at 200 streams). Opening, closing and `replace` stay asynchronous: they
 * touch directories and whole files. Appends leave in call order; the file is created on the
 * first. `replace` swaps the whole content atomically and `reopen` makes the next append go to
 * whatever file is at the path now (one that something else removed or renamed over would
 * otherwise keep receiving appends through the old descriptor).
 */
export class AppendFile {
  /** at most this many descriptors open across all files (a busy plane's thousands of sessions) */
  static maxOpen = MAX_OPEN;
  private fd: number | null = null;
  private tail: Promise<void> = Promise.resolve();
  private idle: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly idleCloseMs = IDLE_CLOSE_MS,
  ) {}

  append(text: string): Promise<void> {
    return this.then(async () => {
      const fd = this.fd ?? (this.fd = await this.open());
      holding.delete(this);
      holding.add(this);
      try {
        writeAll(fd, Buffer.from(text));
      } catch (err) {
        await this.closeNow(); // the next append starts from a fresh descriptor
        throw err;
      }
      this.closeWhenIdle();
    });
  }

  /** Replaces the content atomically (writeAtomically); later appends go to the new file. */
  replace(content: string): Promise<void> {
    return this.then(async () => {
      await this.closeNow();
      await writeAtomically(this.path, content);
    });
  }

  /** The next append opens the path again. */
  reopen(): Promise<void> {
    return this.then(() => this.closeNow());
  }

  private then(step: () => Promise<void>): Promise<void> {
    const next = this.tail.then(step);
    this.tail = next.catch(() => {});
    return next;
  }

  /** Counted from the moment it is asked for, so that opens in flight together keep to the cap. */
  private open(): Promise<number> {
    for (const victim of holding) {
      if (holding.size < AppendFile.maxOpen) break;
      holding.delete(victim); // closed once its appends in flight are written
      void victim.reopen();
    }
    holding.add(this);
    return openForAppend(this.path).catch((err: unknown) => {
      holding.delete(this);
      throw err;
    });
  }

  private closeWhenIdle(): void {
    if (this.idle) this.idle.refresh();
    else (this.idle = setTimeout(() => void this.reopen(), this.idleCloseMs)).unref();
  }

  private closeNow(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const fd = this.fd;
    this.fd = null;
    holding.delete(this);
    return fd === null ? Promise.resolve() : new Promise((resolve) => close(fd, () => resolve()));
  }
}

function openForAppend(file: string): Promise<number> {
  return new Promise((resolve, reject) => open(file, 'a', (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** O_APPEND puts every write at the end; a short write (rare on a regular file) is continued. */
function writeAll(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset, null);
}
