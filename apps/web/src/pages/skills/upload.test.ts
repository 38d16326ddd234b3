import { describe, expect, it } from 'vitest';
import { archiveType, skillMarkdown } from './upload.js';

describe('skill uploads', () => {
  it('maps archive names to the content types POST /skills accepts', () => {
    expect(['s.zip', 's.tar.gz', 'S.TGZ', 's.tar', 's.json'].map(archiveType)).toEqual(['application/zip', 'application/gzip', 'application/gzip', 'application/x-tar', null]);
  });
  it('writes SKILL.md frontmatter with quoted values', () => {
    expect(skillMarkdown('greet', 'says: "hi"', '  Say hi.\n')).toBe('---\nname: "greet"\ndescription: "says: \\"hi\\""\n---\n\nSay hi.\n');
  });
});
