import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Real Chromium for the web UI tests: Debian's package, driven by playwright-core (no downloaded browser). */
export const CHROMIUM = process.env.SEMIBOT_CHROMIUM ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../', import.meta.url));
export const screenshotDir = path.join(root, 'test-results/screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** saves a full-page PNG under test-results/screenshots and returns its path */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  // a missing browser must fail the suite loudly, never skip it
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (or set SEMIBOT_CHROMIUM)`);
  }
  if (!existsSync(path.join(root, 'apps/web/dist/index.html'))) {
    throw new Error('apps/web/dist is missing: run `npm run build` (npm test does) before the browser tests');
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'semibot-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 820 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  mkdirSync(screenshotDir, { recursive: true });
  return {
    context,
    page,
    async shot(name) {
      const file = path.join(screenshotDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy between the browser and the control plane that can cut the session event streams
 * passing through it, as a dropped connection or a restarted load balancer would — from the
 * browser's side indistinguishable from the server going away mid-answer. It also records the
 * request head of every GET …/events, so a test can see the Last-Event-ID the page resumed with.
 */
export interface CutProxy {
  url: string;
  eventsRequests: string[];
  /** destroys every connection that carries an event stream; returns how many */
  cutEventStreams(): number;
  close(): Promise<void>;
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; events: boolean }>();
  const eventsRequests: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    const pair = { client, upstream, events: false };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      if (/^GET \S*\/sessions\/[^/\s]+\/events\S* HTTP/.test(head)) {
        pair.events = true;
        eventsRequests.push(head.split('\r\n\r\n')[0]!);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    eventsRequests,
    cutEventStreams() {
      let n = 0;
      for (const p of pairs) {
        if (!p.events) continue;
        p.client.destroy();
        p.upstream.destroy();
        n++;
      }
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) (p.client.destroy(), p.upstream.destroy());
        server.close(() => resolve());
      }),
  };
}

/** The Last-Event-ID header of a recorded request head, or null. */
export const lastEventIdOf = (head: string) => {
  const m = /^last-event-id:\s*(\d+)/im.exec(head);
  return m ? Number(m[1]) : null;
};
