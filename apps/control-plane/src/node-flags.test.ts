import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_NODE_FLAGS } from './node-flags.js';

describe('CONTROL_PLANE_NODE_FLAGS', () => {
  it('are the flags npm start runs the control plane with', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(['node', ...CONTROL_PLANE_NODE_FLAGS, 'apps/control-plane/start.mjs'].join(' '));
  });

  it('are flags Node accepts', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
