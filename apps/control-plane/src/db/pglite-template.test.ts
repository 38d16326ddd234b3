import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refillSpare, takeSpare } from './pglite-template.js';

describe('the template spare', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pglite-template-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const template = path.join(root, 'pglite-x');
  mkdirSync(path.join(template, 'base', '1'), { recursive: true });
  writeFileSync(path.join(template, 'PG_VERSION'), '17\n');
  writeFileSync(path.join(template, 'base', '1', '1259'), 'catalog');

  it('is made once, renamed into one fresh home, and made again', async () => {
    // a copy abandoned by a process that died copying is cleaned up (pid 2^22 + 1 cannot exist)
    const abandoned = `${template}.spare.tmp-${2 ** 22 + 1}-0`;
    mkdirSync(abandoned);
    expect(takeSpare(template, path.join(root, 'home0', 'pgdata'))).toBe(false); // none yet
    await refillSpare(template);
    expect(existsSync(abandoned)).toBe(false);
    await refillSpare(template); // one is enough
    const a = path.join(root, 'home1', 'pgdata');
    const b = path.join(root, 'home2', 'pgdata');
    expect(takeSpare(template, a)).toBe(true);
    expect(takeSpare(template, b)).toBe(false); // taken
    expect(readFileSync(path.join(a, 'base', '1', '1259'), 'utf8')).toBe('catalog');
    expect(readFileSync(path.join(template, 'PG_VERSION'), 'utf8')).toBe('17\n'); // the template stays
    await refillSpare(template);
    expect(takeSpare(template, b)).toBe(true);
  });
});
