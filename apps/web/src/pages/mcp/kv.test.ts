import { describe, expect, it } from 'vitest';
import { parseLines, splitArgs } from './kv.js';

describe('MCP form fields', () => {
  it('parses env and header lines, keeping separators inside values', () => {
    expect(parseLines('A=1\n bad line\nB = x=y \n=nokey', '=')).toEqual({ A: '1', B: 'x=y' });
    expect(parseLines('Authorization: Bearer a:b', ':')).toEqual({ Authorization: 'Bearer a:b' });
  });
  it('takes one argument per line', () => {
    expect(splitArgs(' -y \n\n@scope/server\n')).toEqual(['-y', '@scope/server']);
  });
});
