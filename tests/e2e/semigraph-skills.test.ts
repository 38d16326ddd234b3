import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, sendAndStream, startPlatform, textOf, waitFor, type Platform } from './harness.js';
import { agentWithSession, framesOf, metric, newSession, skillMd, tarOf, uploadArchive, zipOf } from './semigraph-helpers.js';

/**
 * Skills (AgentSkills folders with SKILL.md) end to end: uploaded as JSON, .tar.gz or .zip, fetched
 * by the plane once (`get_skill_package`) and then served from its cache, left out (and reported)
 * when a required binary or env var is missing, and refused at upload when a path could escape.
 */
const greetFiles = [
  { path: 'SKILL.md', content: skillMd('name: greet\ndescription: Greets someone by name', '# Greet\nRun scripts/hi.sh NAME.\n') },
  // prints the greeting, then the name of the directory the plane runs it from (the content hash)
  { path: 'scripts/hi.sh', content: '#!/bin/sh\necho "Hello, $1!"\nbasename "$SKILL_DIR"\n', executable: true },
];
const useGreet = '/tool use_skill {"skill":"greet","script":"scripts/hi.sh","args":["Bob"]}';
const fetches = (p: Platform) => metric(p, 'semibot_plane_requests_total', { method: 'get_skill_package' });

describe('SemiGraph skills', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const postSkill = (token: string, body: unknown) => p.api('POST', '/skills', { token, body });
  let greetId = '';
  let greetOwner = '';

  it('JSON upload; use_skill runs the script (skill_call → skill_result); a second session uses the cached copy (one get_skill_package); a new version is fetched', async () => {
    const { token } = await p.user();
    const up = await postSkill(token, { files: greetFiles });
    expect(up.status).toBe(201);
    greetId = up.body.id;
    expect(up.body).toMatchObject({ name: 'greet', description: 'Greets someone by name', requires: { bins: [], env: [] } });
    expect(up.body.hash).toMatch(/^[0-9a-f]{64}$/);
    const detail = await p.api('GET', `/skills/${up.body.id}`, { token });
    expect(detail.body.files.map((f: any) => [f.path, f.executable])).toEqual([
      ['SKILL.md', false],
      ['scripts/hi.sh', true],
    ]);
    expect((await p.api('GET', '/skills', { token })).body.data.map((s: any) => s.id)).toEqual([up.body.id]);

    const before = await fetches(p);
    const { agentId, sessionId } = await agentWithSession(p, token, { skillIds: [up.body.id] });
    const expectedOut = `Hello, Bob!\n${up.body.hash}\n`;
    const first = await sendAndStream(p, token, sessionId, useGreet);
    expect(first.at(-1)!.data.status).toBe('completed');
    const [call] = framesOf(first, 'skill_call');
    const results = framesOf(first, 'skill_result');
    expect(call!.data).toMatchObject({ name: 'use_skill', args: { skill: 'greet', script: 'scripts/hi.sh', args: ['Bob'] } });
    expect(results).toHaveLength(1);
    expect(results[0]!.data).toMatchObject({ callId: call!.data.callId, isError: false, result: { exitCode: 0, stdout: expectedOut, timedOut: false } });
    expect(textOf(first)).toBe(`Tool result: ${expectedOut}`);
    expect(await fetches(p)).toBe(before + 1);

    // another session of the same user (same plane): served from the plane's cache
    const second = await sendAndStream(p, token, await newSession(p, token, agentId), useGreet);
    expect(framesOf(second, 'skill_result')[0]!.data).toMatchObject({ isError: false, result: { stdout: expectedOut } });
    expect(textOf(second)).toBe(`Tool result: ${expectedOut}`);
    expect(await fetches(p)).toBe(before + 1);

    const audit = await waitFor(async () => {
      const r = await p.api('GET', `/audit?runId=${first[0]!.data.runId}`, { token });
      return r.body.data.length ? r.body.data : null;
    });
    expect(audit.map((a: any) => [a.action, a.target, a.details.isError])).toEqual([['skill_call', 'use_skill', false]]);

    // a new version (new content, new hash) under the same name is fetched, not served stale
    expect((await postSkill(token, { files: greetFiles })).status).toBe(409);
    expect((await p.api('DELETE', `/skills/${up.body.id}`, { token })).status).toBe(204);
    const v2 = await postSkill(token, { files: [greetFiles[0], { ...greetFiles[1]!, content: '#!/bin/sh\necho "Hi again, $1"\n' }] });
    expect(v2.status).toBe(201);
    expect(v2.body.hash).not.toBe(up.body.hash);
    [greetId, greetOwner] = [v2.body.id, token]; // live: the next test tries it from another org
    expect((await p.api('PATCH', `/agents/${agentId}`, { token, body: { skillIds: [v2.body.id] } })).status).toBe(200);
    const third = await sendAndStream(p, token, await newSession(p, token, agentId), useGreet);
    expect(textOf(third)).toBe('Tool result: Hi again, Bob\n');
    expect(await fetches(p)).toBe(before + 2);
  });

  it('another org can neither see, delete nor use a skill, even by id', async () => {
    expect(greetId).not.toBe(''); // from the first test
    expect((await p.api('GET', `/skills/${greetId}`, { token: greetOwner })).status).toBe(200); // live for its owner
    const { token } = await p.user();
    expect((await p.api('GET', '/skills', { token })).body.data).toEqual([]);
    expect((await p.api('GET', `/skills/${greetId}`, { token })).status).toBe(404);
    expect((await p.api('DELETE', `/skills/${greetId}`, { token })).status).toBe(404);
    const { sessionId } = await agentWithSession(p, token, { skillIds: [greetId] });
    const before = await fetches(p);
    const frames = await sendAndStream(p, token, sessionId, useGreet);
    expect(framesOf(frames, 'tool_result').map((f) => f.data.result)).toEqual(['unknown tool: use_skill']);
    expect(await fetches(p)).toBe(before);
  });

  it('a .tar.gz (made by tar, one top folder) and a .zip upload keep paths and executable bits, and run', async () => {
    const { token } = await p.user();
    const dir = mkdtempSync(path.join(tmpdir(), 'semibot-skill-'));
    try {
      mkdirSync(path.join(dir, 'weather/scripts'), { recursive: true });
      writeFileSync(path.join(dir, 'weather/SKILL.md'), skillMd('name: weather\ndescription: Forecasts'));
      writeFileSync(path.join(dir, 'weather/scripts/forecast'), '#!/bin/sh\necho "sunny in $1"\n');
      chmodSync(path.join(dir, 'weather/scripts/forecast'), 0o755);
      const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, 'weather']);
      const t = await uploadArchive(p, token, tgz, 'application/gzip');
      expect(t.status).toBe(201);
      expect(t.body).toMatchObject({ name: 'weather', description: 'Forecasts' });
      const tDetail = await p.api('GET', `/skills/${t.body.id}`, { token });
      expect(tDetail.body.files.map((f: any) => [f.path, f.executable])).toEqual([
        ['SKILL.md', false],
        ['scripts/forecast', true],
      ]);

      const zip = zipOf([
        { name: 'SKILL.md', content: skillMd('name: shout\ndescription: Upper-cases') },
        { name: 'scripts/', type: 'dir' },
        { name: 'scripts/shout', content: '#!/bin/sh\necho "$1" | tr a-z A-Z\n', mode: 0o755 },
      ]);
      const z = await uploadArchive(p, token, zip, 'application/zip');
      expect(z.status).toBe(201);
      const zDetail = await p.api('GET', `/skills/${z.body.id}`, { token });
      expect(zDetail.body.files.map((f: any) => [f.path, f.executable])).toEqual([
        ['SKILL.md', false],
        ['scripts/shout', true],
      ]);

      // both run straight from their executable bit (no interpreter for extension-less scripts)
      const { sessionId } = await agentWithSession(p, token, { skillIds: [t.body.id, z.body.id] });
      const frames = await sendAndStream(
        p,
        token,
        sessionId,
        '/tools use_skill {"skill":"weather","script":"scripts/forecast","args":["Oslo"]} ; use_skill {"skill":"shout","script":"scripts/shout","args":["quiet please"]}',
      );
      expect(frames.at(-1)!.data.status).toBe('completed');
      // the two calls run in parallel: their results may arrive in either order
      const results = framesOf(frames, 'skill_result').map((f) => [f.data.isError, (f.data.result as any).stdout]);
      expect(results).toHaveLength(2);
      expect(results).toEqual(expect.arrayContaining([
        [false, 'sunny in Oslo\n'],
        [false, 'QUIET PLEASE\n'],
      ]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a skill whose binary or env var is missing is left out, reported as a failed plan_step, and never fetched', async () => {
    const { token } = await p.user();
    const needs = await postSkill(token, {
      files: [
        {
          path: 'SKILL.md',
          content: skillMd('name: needs-bin\ndescription: Needs a tool\nrequires:\n  bins: [definitely-not-installed-bin, sh]\n  env: [SEMIBOT_E2E_SURELY_UNSET]'),
        },
      ],
    });
    expect(needs.status).toBe(201);
    expect(needs.body.requires).toEqual({ bins: ['definitely-not-installed-bin', 'sh'], env: ['SEMIBOT_E2E_SURELY_UNSET'] });
    const greet = await postSkill(token, { files: greetFiles });
    const before = await fetches(p);
    const leftOut = {
      stepId: 'skill:needs-bin',
      status: 'failed',
      title: 'Skill needs-bin left out: missing binary definitely-not-installed-bin, env SEMIBOT_E2E_SURELY_UNSET',
    };

    // alone: no use_skill tool at all
    const alone = await agentWithSession(p, token, { skillIds: [needs.body.id] });
    const a = await sendAndStream(p, token, alone.sessionId, '/tool use_skill {"skill":"needs-bin"}');
    expect(a.at(-1)!.data.status).toBe('completed');
    expect(framesOf(a, 'plan_step').filter((f) => f.data.status === 'failed').map((f) => f.data)).toEqual([expect.objectContaining(leftOut)]);
    expect(framesOf(a, 'skill_call')).toEqual([]);
    expect(framesOf(a, 'tool_result').map((f) => [f.data.result, f.data.isError])).toEqual([['unknown tool: use_skill', true]]);
    expect(textOf(a)).toBe('Tool result: unknown tool: use_skill');

    // beside a usable skill: use_skill exists but does not know it
    const both = await agentWithSession(p, token, { skillIds: [needs.body.id, greet.body.id] });
    const b = await sendAndStream(p, token, both.sessionId, '/tool use_skill {"skill":"needs-bin"}');
    expect(framesOf(b, 'plan_step').filter((f) => f.data.status === 'failed').map((f) => f.data)).toEqual([expect.objectContaining(leftOut)]);
    expect(framesOf(b, 'skill_result').map((f) => [f.data.result, f.data.isError])).toEqual([['unknown skill: needs-bin', true]]);
    expect(await fetches(p)).toBe(before);
  });

  describe('uploads that could escape the skill folder, or are not skills, get 400 VALIDATION_ERROR and store nothing', () => {
    let token: string;
    beforeAll(async () => {
      ({ token } = await p.user());
    });
    const skill = { path: 'SKILL.md', content: skillMd('name: bad\ndescription: Bad') };
    const expect400 = (r: { status: number; body: any }, message: string | RegExp) => {
      expect([r.status, r.body?.error?.code]).toEqual([400, 'VALIDATION_ERROR']);
      expect(r.body.error.message).toMatch(message);
    };

    it.each(['../x', '/etc/passwd', 'a/../../b', 'scripts/../../x', 'a\\..\\b', './SKILL.md'])('JSON file path %s', async (bad) => {
      expect400(await postSkill(token, { files: [skill, { path: bad, content: 'x' }] }), bad.replace(/\\/g, '\\\\'));
    });

    it('tar entries: ../evil (plain and gzipped), a symlink, an absolute name', async () => {
      const evil = tarOf([{ name: 'SKILL.md', content: skill.content }, { name: '../evil', content: 'x' }]);
      expect400(await uploadArchive(p, token, evil, 'application/x-tar'), '../evil');
      expect400(await uploadArchive(p, token, gzipSync(evil), 'application/gzip'), '../evil');
      const link = tarOf([{ name: 'SKILL.md', content: skill.content }, { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]);
      expect400(await uploadArchive(p, token, link, 'application/x-tar'), 'archive entry passwd: symlink entries');
      const abs = tarOf([{ name: 'SKILL.md', content: skill.content }, { name: '/tmp/abs', content: 'x' }]);
      expect400(await uploadArchive(p, token, abs, 'application/x-tar'), '/tmp/abs');
    });

    it('zip entries: ../evil and a symlink', async () => {
      const evil = zipOf([{ name: 'SKILL.md', content: skill.content }, { name: '../evil', content: 'x' }]);
      expect400(await uploadArchive(p, token, evil, 'application/zip'), '../evil');
      const link = zipOf([{ name: 'SKILL.md', content: skill.content }, { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]);
      expect400(await uploadArchive(p, token, link, 'application/zip'), 'archive entry passwd: links');
    });

    it('not an archive, a truncated gzip, a gzip bomb', async () => {
      expect400(await uploadArchive(p, token, Buffer.from('this is not a zip'), 'application/zip'), 'not a valid zip archive');
      const truncated = gzipSync(tarOf([{ name: 'SKILL.md', content: skill.content }])).subarray(0, 40);
      expect400(await uploadArchive(p, token, truncated, 'application/gzip'), 'not a valid gzip archive');
      // a gzip bomb: 11 MiB of zeros, some KB on the wire, over the unpacked limit
      expect400(await uploadArchive(p, token, gzipSync(Buffer.alloc(11 * 1024 * 1024)), 'application/gzip'), 'not a valid gzip archive');
    });

    it('missing SKILL.md, and bad frontmatter', async () => {
      expect400(await postSkill(token, { files: [{ path: 'README.md', content: '# hi' }] }), 'SKILL.md is missing');
      const md = (content: string) => postSkill(token, { files: [{ path: 'SKILL.md', content }] });
      expect400(await md('# no frontmatter at all\n'), 'must start with YAML frontmatter');
      expect400(await md('---\nname: [unclosed\n---\n'), 'frontmatter is not valid YAML');
      expect400(await md('---\nname: nodesc\n---\n'), '`description`');
      expect400(await md('---\ndescription: no name\n---\n'), '`name`');
      expect400(await md('---\nname: ../../up\ndescription: d\n---\n'), 'skill name');
      expect400(await md('---\nname: r\ndescription: d\nrequires: {bins: sh}\n---\n'), 'requires.bins');
      expect400(await postSkill(token, { files: [] }), /files/);
    });

    it('nothing was stored', async () => {
      expect((await p.api('GET', '/skills', { token })).body.data).toEqual([]);
    });
  });
});
