import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Tool, ToolContext } from '../../tools/tool.js';

/** A turn running in OpenClaw whose tools (skills, memory, MCP servers) the proxy serves. */
export interface ProxiedTurn {
  sessionId: string;
  tools: readonly Tool[];
  ctx: ToolContext;
}

/** how long a call waits for OpenClaw's `tool` start event that tells whose call it is */
const ATTRIBUTION_WAIT_MS = 5_000;

/**
 * Our tools, served to the plane's OpenClaw gateway as one streamable-HTTP MCP server on loopback
 * (bearer-token protected). The calls are carried out here, exactly as for SemiGraph: skills from
 * the plane's skill cache, long-term memory and remote MCP servers through the control plane.
 *
 * OpenClaw's MCP config is per gateway, not per session, and its calls carry no session: a call is
 * attributed to the turn whose OpenClaw `tool` start event has the same tool and arguments (the
 * bridge reports those through `expect`), or to the only running turn that has the tool at all.
 */
export class ToolProxy {
  readonly token = randomBytes(24).toString('base64url');
  private readonly turns = new Set<ProxiedTurn>();
  private readonly expected: Array<{ turn: ProxiedTurn; name: string; args: string }> = [];
  private readonly waiters = new Set<() => void>();
  private server: HttpServer | null = null;
  private url: Promise<string> | null = null;

  /** The MCP endpoint, listening once asked for. */
  endpoint(): Promise<string> {
    return (this.url ??= this.listen());
  }

  begin(turn: ProxiedTurn): () => void {
    this.turns.add(turn);
    return () => {
      this.turns.delete(turn);
      for (let i = this.expected.length - 1; i >= 0; i--) if (this.expected[i]!.turn === turn) this.expected.splice(i, 1);
    };
  }

  /** OpenClaw announced a call of one of our tools in this turn. */
  expect(turn: ProxiedTurn, name: string, args: unknown): void {
    this.expected.push({ turn, name, args: stableJson(args) });
    for (const w of this.waiters) w();
  }

  private async listen(): Promise<string> {
    const [{ Server }, { StreamableHTTPServerTransport }, types] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/index.js'),
      import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
      import('@modelcontextprotocol/sdk/types.js'),
    ]);
    const mcpServer = () => {
      const s = new Server({ name: 'semibot-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
      s.setRequestHandler(types.ListToolsRequestSchema, async () => {
        const seen = new Map<string, Tool>();
        for (const t of this.turns) for (const tool of t.tools) if (!seen.has(tool.spec.name)) seen.set(tool.spec.name, tool);
        return {
          tools: [...seen.values()].map((t) => ({
            name: t.spec.name,
            description: t.spec.description,
            inputSchema: t.spec.parameters as { type: 'object'; properties?: Record<string, unknown> },
          })),
        };
      });
      s.setRequestHandler(types.CallToolRequestSchema, async (req) => {
        const args = (req.params.arguments ?? {}) as Record<string, unknown>;
        const turn = await this.attribute(req.params.name, args);
        const tool = turn?.tools.find((t) => t.spec.name === req.params.name);
        if (!turn || !tool) {
          return { content: [{ type: 'text' as const, text: `tool ${req.params.name} is not available to this agent` }], isError: true };
        }
        try {
          const out = await tool.execute(args, turn.ctx);
          return { content: [{ type: 'text' as const, text: out.content }], isError: out.isError === true };
        } catch (err) {
          return { content: [{ type: 'text' as const, text: `tool failed: ${(err as Error).message}` }], isError: true };
        }
      });
      return s;
    };
    const server = createServer((req, res) => {
      if (!this.authorized(req)) return void res.writeHead(401).end();
      void (async () => {
        // stateless: one server and transport per request, nothing to expire or leak
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        const s = mcpServer();
        res.on('close', () => void transport.close().then(() => s.close()));
        await s.connect(transport);
        await transport.handleRequest(req, res, await readJson(req));
      })().catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
  }

  private authorized(req: IncomingMessage): boolean {
    const given = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${this.token}`);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async attribute(name: string, args: Record<string, unknown>): Promise<ProxiedTurn | undefined> {
    const key = stableJson(args);
    const deadline = performance.now() + ATTRIBUTION_WAIT_MS;
    for (;;) {
      const i = this.expected.findIndex((e) => e.name === name && e.args === key);
      if (i >= 0) return this.expected.splice(i, 1)[0]!.turn;
      const having = [...this.turns].filter((t) => t.tools.some((x) => x.spec.name === name));
      if (having.length <= 1) return having[0];
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      // several turns have this tool: wait for the start event that says whose call it is
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(null)));
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (req.method !== 'POST') return resolve(undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** JSON with sorted keys, so the same arguments compare equal whatever order they were built in. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
