import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyTree } from './copy-tree.js';

describe('copyTree', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'copy-tree-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('copies every file of a nested tree with its content and mode', async () => {
    const from = path.join(root, 'from');
    for (let d = 0; d < 5; d++) {
      mkdirSync(path.join(from, `d${d}`, 'deeper'), { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(path.join(from, `d${d}`, f % 2 ? 'deeper' : '', `f${f}`), `${d}/${f}`);
    }
    writeFileSync(path.join(from, 'PG_VERSION'), '17\n', { mode: 0o600 });
    mkdirSync(path.join(from, 'empty'));
    const to = path.join(root, 'to');
    await copyTree(from, to, 4);
    expect(readFileSync(path.join(to, 'd3', 'deeper', 'f7'), 'utf8')).toBe('3/7');
    expect(readFileSync(path.join(to, 'd4', 'f8'), 'utf8')).toBe('4/8');
    expect(statSync(path.join(to, 'PG_VERSION')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(to, 'empty')).isDirectory()).toBe(true);
  });
});
