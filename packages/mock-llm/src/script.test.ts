import { describe, expect, it } from 'vitest';
import { countWords, parseScript, splitWords } from './script.js';

describe('parseScript', () => {
  it('echoes plain text, including unknown slash words', () => {
    expect(parseScript('hello world')).toEqual({ kind: 'echo', text: 'You said: hello world' });
    expect(parseScript('/usr/bin is a path')).toEqual({ kind: 'echo', text: 'You said: /usr/bin is a path' });
    expect(parseScript('')).toEqual({ kind: 'echo', text: 'You said: ' });
  });

  it('/echo keeps the text verbatim', () => {
    expect(parseScript('/echo  a  b\nc ')).toEqual({ kind: 'echo', text: 'a  b\nc ' });
    expect(parseScript('/echo\nnext line')).toEqual({ kind: 'echo', text: 'next line' });
    expect(parseScript('/echo')).toEqual({ kind: 'echo', text: '' });
  });

  it('parses counts and delays', () => {
    expect(parseScript('/slow 5 10')).toEqual({ kind: 'slow', count: 5, delayMs: 10 });
    expect(parseScript('/slow 3')).toEqual({ kind: 'slow', count: 3, delayMs: 0 });
    expect(parseScript('/ts 100 0\nignored')).toEqual({ kind: 'ts', count: 100, delayMs: 0 });
    expect(parseScript('/fail_mid 4')).toEqual({ kind: 'fail_mid', count: 4 });
    expect(parseScript('/fail 503')).toEqual({ kind: 'fail', status: 503 });
    expect(parseScript('/hang')).toEqual({ kind: 'hang' });
  });

  it('rejects bad arguments of known directives', () => {
    for (const s of ['/slow x 1', '/slow -1 1', '/ts 1 -5', '/fail 200', '/fail abc', '/fail_mid 1.5', '/slow 99999999 0']) {
      expect(parseScript(s).kind, s).toBe('invalid');
    }
  });

  it('parses one tool call, with default arguments', () => {
    expect(parseScript('/tool search {"q":"cats"}')).toEqual({
      kind: 'tools',
      calls: [{ name: 'search', arguments: '{"q":"cats"}' }],
    });
    expect(parseScript('/tool now')).toEqual({ kind: 'tools', calls: [{ name: 'now', arguments: '{}' }] });
  });

  it('parses parallel tool calls, even with ";" inside the JSON', () => {
    expect(parseScript('/tools a {"s":"x; y"} ; b [1,2];c {}')).toEqual({
      kind: 'tools',
      calls: [
        { name: 'a', arguments: '{"s":"x; y"}' },
        { name: 'b', arguments: '[1,2]' },
        { name: 'c', arguments: '{}' },
      ],
    });
  });

  it('rejects broken tool scripts', () => {
    expect(parseScript('/tool a {not json').kind).toBe('invalid');
    expect(parseScript('/tool a {} ; b {}').kind).toBe('invalid');
    expect(parseScript('/tools').kind).toBe('invalid');
  });
});

describe('splitWords', () => {
  it('keeps trailing whitespace with each word so tokens concatenate to the input', () => {
    expect(splitWords('You said: hi')).toEqual(['You ', 'said: ', 'hi']);
    for (const s of ['  lead', 'a  b\n\tc ', ' ', '', 'one']) expect(splitWords(s).join('')).toBe(s);
    expect(splitWords('')).toEqual([]);
  });
});

describe('countWords', () => {
  it('counts whitespace-separated words', () => {
    expect(countWords('')).toBe(0);
    expect(countWords('  a b\n c\t')).toBe(3);
  });
});
