import { describe, expect, it } from 'vitest';
import { checkSkillPath, parseSkillPackage } from './package.js';

const md = (front: string) => Buffer.from(`---\n${front}\n---\n# Instructions\n`);
const file = (path: string, content: Buffer | string = 'x', executable = false) => ({
  path,
  content: Buffer.isBuffer(content) ? content : Buffer.from(content),
  executable,
});

describe('skill packages', () => {
  it.each(['../x', '/etc/passwd', 'a/../../b', 'a/./b', 'a//b', 'C:/x', 'a\\b', ''])('refuses the path %j', (p) => {
    expect(() => checkSkillPath(p)).toThrow(/not allowed/);
  });

  it('accepts ordinary nested paths', () => {
    expect(checkSkillPath('scripts/run.py')).toBe('scripts/run.py');
    expect(checkSkillPath('dir/')).toBe('dir');
  });

  it('reads the frontmatter, strips a single top folder and hashes content deterministically', () => {
    const a = parseSkillPackage([
      file('greet/SKILL.md', md('name: greet\ndescription: Greets\nrequires:\n  bins: [sh]\n  env: [HOME]')),
      file('greet/scripts/hi.sh', 'echo hi', true),
    ]);
    expect(a).toMatchObject({ name: 'greet', description: 'Greets', requires: { bins: ['sh'], env: ['HOME'] } });
    expect(a.files.map((f) => f.path).sort()).toEqual(['SKILL.md', 'scripts/hi.sh']);
    const b = parseSkillPackage([file('scripts/hi.sh', 'echo hi', true), file('SKILL.md', md('name: greet\ndescription: Greets\nrequires:\n  bins: [sh]\n  env: [HOME]'))]);
    expect(b.hash).toBe(a.hash);
    const c = parseSkillPackage([file('scripts/hi.sh', 'echo bye', true), file('SKILL.md', md('name: greet\ndescription: Greets\nrequires:\n  bins: [sh]\n  env: [HOME]'))]);
    expect(c.hash).not.toBe(a.hash);
  });

  it('refuses packages without SKILL.md, without frontmatter, with bad fields or duplicates', () => {
    expect(() => parseSkillPackage([file('README.md')])).toThrow(/SKILL.md is missing/);
    expect(() => parseSkillPackage([file('SKILL.md', '# no frontmatter')])).toThrow(/frontmatter/);
    expect(() => parseSkillPackage([file('SKILL.md', md('name: x'))])).toThrow(/description/);
    expect(() => parseSkillPackage([file('SKILL.md', md('name: "bad name!"\ndescription: d'))])).toThrow(/skill name/);
    expect(() => parseSkillPackage([file('SKILL.md', md('name: x\ndescription: d\nrequires: {bins: 3}'))])).toThrow(/requires.bins/);
    expect(() => parseSkillPackage([file('SKILL.md', md('name: x\ndescription: d')), file('SKILL.md')])).toThrow(/duplicate/);
  });
});
