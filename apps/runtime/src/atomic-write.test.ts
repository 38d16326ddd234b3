import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppendFile } from './atomic-write.js';

const dirs: string[] = [];
const fileIn = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'append-'));
  dirs.push(dir);
  return path.join(dir, 'log.jsonl');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** descriptors of this process open on `file` (Linux: /proc/self/fd) */
const openOn = (file: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(file);
    } catch {
      return false;
    }
  }).length;

describe('AppendFile', () => {
  it('creates the file and keeps appends in call order, however many are in flight', async () => {
    const file = fileIn();
    const log = new AppendFile(file);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(`${i}\n`)));
    expect(readFileSync(file, 'utf8')).toBe(Array.from({ length: 200 }, (_, i) => `${i}\n`).join(''));
    expect(openOn(file)).toBe(1); // one descriptor, kept for the next append
  });

  it('replaces the content atomically and appends to the new file afterwards', async () => {
    const file = fileIn();
    const log = new AppendFile(file);
    await log.append('old\n');
    void log.replace('new\n');
    await log.append('more\n');
    expect(readFileSync(file, 'utf8')).toBe('new\nmore\n');
  });

  it('after reopen, appends to whatever file is at the path now', async () => {
    const file = fileIn();
    const log = new AppendFile(file);
    await log.append('a\n');
    rmSync(file);
    await log.append('lost\n'); // still the removed file's descriptor: why callers reopen after a command ran
    await log.reopen();
    await log.append('b\n');
    expect(readFileSync(file, 'utf8')).toBe('b\n');
    writeFileSync(file, 'replaced\n');
    await log.reopen();
    await log.append('c\n');
    expect(readFileSync(file, 'utf8')).toBe('replaced\nc\n');
  });

  it('gives its descriptor back once left idle', async () => {
    const file = fileIn();
    const log = new AppendFile(file, 50);
    await log.append('a\n');
    expect(openOn(file)).toBe(1);
    await vi.waitFor(() => expect(openOn(file)).toBe(0)); // ~50 ms, however busy the machine
    await log.append('b\n');
    expect(readFileSync(file, 'utf8')).toBe('a\nb\n');
  });

  it('holds no more descriptors than its cap across all files, closing the least recently appended', async () => {
    const saved = AppendFile.maxOpen;
    AppendFile.maxOpen = 3;
    try {
      const files = Array.from({ length: 6 }, () => fileIn());
      const logs = files.map((f) => new AppendFile(f));
      const open = () => files.reduce((n, f) => n + openOn(f), 0);
      for (const [i, log] of logs.entries()) await log.append(`${i}\n`);
      await vi.waitFor(() => expect(open()).toBe(3));
      await Promise.all(logs.map((l) => l.append('again\n'))); // all at once
      await vi.waitFor(() => expect(open()).toBeLessThanOrEqual(3));
      files.forEach((f, i) => expect(readFileSync(f, 'utf8')).toBe(`${i}\nagain\n`));
    } finally {
      AppendFile.maxOpen = saved;
    }
  });

  it('caps descriptors at a quarter of the open-file limit (64 to 8192), enough for 200 busy sessions here', () => {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
    expect(AppendFile.maxOpen).toBe(Math.max(64, Math.min(8192, Math.floor(limit / 4))));
    // three files per session (checkpoint log and both transcripts): below this, every append reopened one
    if (limit >= 2400) expect(AppendFile.maxOpen).toBeGreaterThanOrEqual(600);
  });

  it('fails an append whose file cannot be opened, and the next one tries again', async () => {
    const dir = path.join(path.dirname(fileIn()), 'not-yet');
    const log = new AppendFile(path.join(dir, 'log'));
    await expect(log.append('x\n')).rejects.toMatchObject({ code: 'ENOENT' });
    mkdirSync(dir);
    await log.append('ok\n');
    expect(readFileSync(path.join(dir, 'log'), 'utf8')).toBe('ok\n');
  });
});
