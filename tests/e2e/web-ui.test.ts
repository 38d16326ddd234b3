import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { cleanupHome, startPlatform, waitFor, type Platform } from './harness.js';
import { lastEventIdOf, launchChromium, screenshotDir, startCutProxy, type Browser, type CutProxy } from './browser.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The web console in real Chromium against the real control plane (which serves it at `/`):
 * sign-up, an agent, a chat whose answer streams in word by word, survives a cut stream without
 * duplicating a word, stops on demand, and shows up on the usage page. Every page is screenshot.
 */
const slow = (n: number) => Array.from({ length: n }, (_, i) => `tok${i + 1}`).join(' ');
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('web console in Chromium', () => {
  let p: Platform;
  let proxy: CutProxy;
  let b: Browser;
  let page: Page;
  const shots: string[] = [];
  const shot = async (name: string) => shots.push(await b.shot(name));
  const turn = (n: number) => page.getByRole('article', { name: `Turn ${n}` });
  const answerOf = (t: Locator) => t.getByTestId('answer');
  const statusOf = (t: Locator) => t.getAttribute('data-status');
  const composer = () => page.getByRole('textbox', { name: 'Message' });
  /**
   * Fills a field and checks that it kept the value: right after sign-up the page can re-render
   * once more (its data arriving on a loaded machine) and drop what was typed into the first
   * render — a user would see it and type again; so does this.
   */
  const fillKept = async (field: Locator, value: string) => {
    await waitFor(async () => {
      if ((await field.inputValue()) !== value) await field.fill(value);
      await new Promise((r) => setTimeout(r, 50));
      return (await field.inputValue()) === value;
    });
  };
  const send = async (text: string) => {
    await composer().fill(text);
    await composer().press('Enter');
  };
  const waitStatus = async (t: Locator, status: string, timeoutMs = 30_000) =>
    waitFor(async () => (await statusOf(t)) === status, timeoutMs);
  const api = async (path: string) => {
    const token = (await page.evaluate("localStorage.getItem('semibot.token')")) as string | null;
    return (await p.api('GET', path, { token: token! })).body;
  };
  const sessionId = () => new URL(page.url()).pathname.split('/')[3]!;
  const email = `web${Date.now()}@example.com`;

  let launchError: Error | null = null;
  beforeAll(async () => {
    p = await startPlatform();
    proxy = await startCutProxy(p.url);
    try {
      b = await launchChromium();
      page = b.page;
    } catch (err) {
      launchError = err as Error;
    }
  }, 60_000);
  // no browser: every test fails with the reason (a skipped browser suite would look green)
  beforeEach(() => {
    if (launchError) throw launchError;
  });
  afterAll(async () => {
    await b?.close();
    await proxy?.close();
    await p?.stop();
    if (p) cleanupHome(p);
    if (shots.length) console.log(`web UI screenshots (${shots.length}) in ${screenshotDir}`);
  });

  it('shows a wrong password inline with its code', async () => {
    await page.goto(`${proxy.url}/signin`);
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('INVALID_CREDENTIALS');
    await shot('01-sign-in-error');
  });

  it('signs up, creates an agent and streams an answer word by word', async () => {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/agents/new');
    await fillKept(page.getByLabel('Name', { exact: true }), 'Web helper');
    await fillKept(page.getByLabel('System prompt'), 'You are concise.');
    await fillKept(page.getByLabel('Name', { exact: true }), 'Web helper'); // still there
    await page.getByLabel('Runtime').selectOption('semigraph');
    await shot('02-agent-new');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/\/chat\/[0-9a-f-]+$/);
    await page.getByRole('button', { name: 'New session' }).click();
    await page.waitForURL(/\/chat\/[0-9a-f-]+\/[0-9a-f-]+$/);

    await send('/slow 30 60');
    const answer = answerOf(turn(1));
    // sample the visible answer while it streams: it must grow through many intermediate lengths
    const lengths: number[] = [];
    let midShot = false;
    await waitFor(async () => {
      const text = norm((await answer.textContent()) ?? '');
      if (text.length !== lengths.at(-1)) lengths.push(text.length);
      if (!midShot && text.includes('tok12')) (midShot = true), await shot('03-chat-streaming');
      return (await statusOf(turn(1))) === 'completed';
    }, 40_000, 40);
    expect(norm((await answer.textContent()) ?? '')).toBe(slow(30));
    const growing = lengths.filter((l) => l > 0 && l < slow(30).length);
    expect(growing.length, `visible lengths seen: ${lengths.join(',')}`).toBeGreaterThanOrEqual(5);
    expect(lengths).toEqual([...lengths].sort((x, y) => x - y));
  }, 90_000);

  it('resumes a cut stream with Last-Event-ID and shows the stored answer exactly, no word twice', async () => {
    const before = proxy.eventsRequests.length;
    await send('/slow 40 60');
    const t = turn(2);
    await waitFor(async () => ((await answerOf(t).textContent()) ?? '').includes('tok8'), 20_000, 20);
    expect(proxy.cutEventStreams()).toBeGreaterThan(0);
    await waitStatus(t, 'completed');

    const resumes = proxy.eventsRequests.slice(before).map(lastEventIdOf);
    expect(resumes.some((id) => id !== null && id > 0), `event requests after the cut: ${resumes.join(',')}`).toBe(true);
    const visible = norm((await answerOf(t).textContent()) ?? '');
    expect(visible).toBe(slow(40));
    const history = (await api(`/sessions/${sessionId()}/messages`)).data as { role: string; content: string }[];
    const stored = history.filter((m) => m.role === 'assistant').at(-1)!.content;
    expect(visible).toBe(norm(stored));
    const words = visible.split(' ');
    expect(new Set(words).size).toBe(words.length);
  }, 60_000);

  it('queues a second message behind a long answer, then the stop button cancels the long one', async () => {
    await send('/slow 400 50');
    const long = turn(3);
    await waitFor(async () => ((await answerOf(long).textContent()) ?? '').includes('tok5'), 20_000, 20);
    await send('/echo after the stop');
    const queued = turn(4);
    await waitStatus(queued, 'queued', 10_000);
    expect(await queued.getByText('Queued').count()).toBe(1);
    await shot('04-chat-queued');

    await page.getByRole('button', { name: 'Stop' }).click();
    await waitStatus(long, 'cancelled');
    expect(await long.getByText('Stopped').count()).toBe(1);
    const partial = norm((await answerOf(long).textContent()) ?? '');
    expect(slow(400).startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(slow(400).length);
    await waitStatus(queued, 'completed');
    expect(norm((await answerOf(queued).textContent()) ?? '')).toBe('after the stop');
    await page.getByRole('button', { name: /Process/ }).first().click();
    await shot('05-chat');
  }, 60_000);

  it('shows a failed turn with its error code and retries it', async () => {
    await send('/fail 503');
    const failed = turn(5);
    await waitStatus(failed, 'failed');
    const alert = failed.getByRole('alert');
    expect(await alert.textContent()).toContain('LLM_ERROR');
    await failed.getByRole('button', { name: 'Retry message' }).click();
    await waitStatus(turn(6), 'failed');
    expect(await turn(6).getByRole('alert').textContent()).toContain('LLM_ERROR');
  }, 60_000);

  it('shows the turns on the usage page', async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.waitForURL('**/usage');
    const calls = page.getByLabel('Model calls', { exact: true });
    // usage reports travel from the plane asynchronously: reload until the finished turns are in,
    // then the page must agree with the API
    let shown = 0;
    await waitFor(async () => {
      shown = Number(((await calls.textContent()) ?? '0').replace(/\D/g, ''));
      if (shown >= 3) return true;
      await page.reload();
      return false;
    }, 20_000, 500).catch(() => {
      throw new Error(`usage page shows ${shown} model calls, expected the 3 completed turns`);
    });
    const byModel = (await api('/usage?groupBy=model')).data as { calls: number }[];
    expect(shown).toBe(byModel.reduce((n, r) => n + r.calls, 0));
    expect(await page.getByRole('table', { name: 'Usage per model' }).getByText('mock-1').count()).toBe(1);
    expect(await page.getByRole('figure', { name: 'Tokens per day' }).locator('.recharts-bar-rectangle').count()).toBeGreaterThan(0);
    await shot('06-usage');
  }, 40_000);

  it('shows the execution plane, rebootstraps it, and connects the user\'s own machine with the command it shows', async () => {
    await page.getByRole('link', { name: 'Execution plane', exact: true }).click();
    await page.waitForURL('**/plane');
    await waitFor(async () => (await page.getByTestId('plane-state').textContent()) === 'ready');
    const details = page.getByRole('definition');
    expect(await details.first().textContent()).toBe('process');
    expect(await page.getByTestId('connect-command').count()).toBe(0); // only for VM mode local
    await shot('07-plane');
    await page.getByRole('button', { name: 'Rebootstrap' }).click();
    await waitFor(async () => (await page.getByRole('button', { name: 'Rebootstrap' }).isEnabled()) && (await page.getByTestId('plane-state').textContent()) === 'ready', 30_000);

    // "my own machine": the panel shows the exact command, with a key made for it; run as shown, it connects
    // the choice shows once the server has it (the radio follows GET /vm/status)
    await page.getByLabel('My own machine (semibot-runtime connect)').click();
    await page.getByRole('button', { name: 'Create a key for this machine' }).click();
    await waitFor(async () => /--api-key sbk_\S+$/.test((await page.getByTestId('connect-command').textContent()) ?? ''));
    const command = (await page.getByTestId('connect-command').textContent())!;
    expect(command).toMatch(new RegExp(`^npx semibot-runtime connect --server ${proxy.url.replace(/[.:/]/g, '\\$&')} --api-key sbk_`));
    const [npx, ...rest] = command.split(' ');
    const machine = spawn(npx!, [...rest, '--home', mkdtempSync(path.join(tmpdir(), 'semibot-machine-'))], { cwd: root, stdio: 'ignore' });
    try {
      await page.getByText('Your machine is connected.').waitFor({ timeout: 30_000 });
      expect(await details.first().textContent()).toBe('local');
      await shot('07b-connect-machine');
    } finally {
      machine.kill('SIGKILL');
    }
    await page.getByLabel('Here (a process beside the control plane)').click();
    await waitFor(async () => (await page.getByTestId('connect-command').count()) === 0);

    // the user's link of the runtime type chain: set, shown resolved, cleared
    const resolvedRuntime = page.getByTestId('resolved-runtime');
    expect(await resolvedRuntime.textContent()).toContain("semigraph (from the default's setting)");
    await page.getByLabel('Runtime', { exact: true }).selectOption('openclaw');
    await waitFor(async () => ((await resolvedRuntime.textContent()) ?? '').includes("openclaw (from the user's setting)"));
    await page.getByLabel('Runtime', { exact: true }).selectOption('');
    await waitFor(async () => ((await resolvedRuntime.textContent()) ?? '').includes("semigraph (from the default's setting)"));
    // the org's link (the user owns their org), and the modes this deployment cannot run, greyed
    await page.getByLabel('Org runtime').selectOption('openclaw');
    await waitFor(async () => ((await resolvedRuntime.textContent()) ?? '').includes("openclaw (from the org's setting)"));
    await page.getByLabel('Org runtime').selectOption('');
    await waitFor(async () => ((await resolvedRuntime.textContent()) ?? '').includes("semigraph (from the default's setting)"));
    expect(await page.getByLabel('A microVM of my own (QEMU)').isDisabled()).toBe(true);
    expect(await page.getByLabel('Here (a process beside the control plane)').isDisabled()).toBe(false);
  }, 90_000);

  it('manages agents, skills, MCP servers and memories, in light and dark; signs out and in', async () => {
    await page.goto(`${proxy.url}/agents`); // a deep link: served by the SPA fallback
    await page.getByRole('list', { name: 'Agents' }).getByText('Web helper').waitFor();
    await shot('08-agents');

    await page.getByRole('link', { name: 'Skills' }).click();
    await page.getByLabel('Skill name').fill('greet');
    await page.getByLabel('Description').fill('Greets people by name');
    await page.getByLabel('Instructions').fill('Say hello to the user by name.');
    await page.getByRole('button', { name: 'Add skill' }).click();
    await page.getByRole('list', { name: 'Skills' }).getByRole('heading', { name: 'greet' }).waitFor();
    await shot('09-skills');

    await page.getByRole('link', { name: 'MCP servers' }).click();
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.getByLabel('Server name').fill('everything');
    await page.getByLabel('Command').fill('npx');
    await page.getByLabel('Arguments').fill('-y\n@modelcontextprotocol/server-everything');
    await page.getByLabel('Environment').fill('API_TOKEN=hunter2-value');
    await page.getByRole('button', { name: 'Add server' }).last().click();
    const servers = page.getByRole('list', { name: 'MCP servers' });
    await servers.getByText('everything').first().waitFor();
    const listed = (await servers.textContent()) ?? '';
    expect(listed).toContain('API_TOKEN'); // write-only: names shown, values never
    expect(listed).not.toContain('hunter2-value');
    await shot('10-mcp');

    await page.getByRole('link', { name: 'Memories' }).click();
    await page.getByLabel('New memory').fill('The user prefers dark roast coffee.');
    await page.getByRole('button', { name: 'Save memory' }).click();
    await page.getByText('The user prefers dark roast coffee.').waitFor();
    await page.getByRole('searchbox', { name: 'Search memories' }).fill('coffee');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('list', { name: 'Search results' }).getByText('dark roast').waitFor();
    await shot('11-memories');

    // the agent form lists the new skill and server for selection
    await page.goto(`${proxy.url}/agents`);
    await page.getByRole('link', { name: 'Edit Web helper' }).click();
    await page.getByRole('group', { name: 'Skills' }).getByLabel('greet').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL('**/agents');
    await page.getByText('1 skills').waitFor();

    await page.getByRole('button', { name: 'Dark theme' }).click();
    expect(await page.evaluate("document.documentElement.classList.contains('dark')")).toBe(true);
    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await page.getByRole('navigation', { name: 'Sessions' }).getByRole('link').first().click();
    await turn(1).waitFor();
    await shot('12-chat-dark');

    // sign out, then back in: the same account and its agent
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    expect(await page.evaluate("localStorage.getItem('semibot.token')")).toBeNull();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/agents');
    await page.getByRole('list', { name: 'Agents' }).getByText('Web helper').waitFor();
  }, 60_000);
});
