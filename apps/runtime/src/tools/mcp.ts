import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpCallResult, McpServerSpec, McpToolInfo } from '@semibot/protocol';
import type { PlaneServices } from '../adapter.js';
import { toolName, type Tool } from './tool.js';

type StdioSpec = Extract<McpServerSpec, { transport: 'stdio' }>;

/**
 * MCP servers for this plane. stdio servers are spawned here (one process per distinct config,
 * shared by the plane's sessions, kept until the plane stops); streamable_http servers are called
 * by the control plane on the plane's behalf, so their URL and credentials never reach the plane.
 */
export class McpHub {
  private readonly clients = new Map<string, Promise<{ client: Client; tools: McpToolInfo[] }>>();

  constructor(private readonly services: PlaneServices) {}

  /** Tools of all the given servers, as model-facing tools. A server that fails is reported, not fatal. */
  async toolsFor(servers: readonly McpServerSpec[]): Promise<{ tools: Tool[]; failures: string[] }> {
    const tools: Tool[] = [];
    const failures: string[] = [];
    await Promise.all(
      servers.map(async (server) => {
        try {
          tools.push(...(server.transport === 'stdio' ? await this.stdioTools(server) : await this.remoteTools(server)));
        } catch (err) {
          failures.push(`${server.name}: ${(err as Error).message}`);
        }
      }),
    );
    return { tools, failures };
  }

  private async stdioTools(server: StdioSpec): Promise<Tool[]> {
    const { tools } = await this.connect(server);
    return tools.map((t) =>
      mcpTool(server, t, async (args, signal) => {
        const call = async () => {
          // the client of the moment: a server that died since the tools were listed is started again
          const { client } = await this.connect(server);
          return client.callTool({ name: t.name, arguments: args }, undefined, { signal, timeout: 120_000 });
        };
        let r;
        try {
          r = await call();
        } catch (err) {
          // the server died after this turn listed its tools and before its exit was seen: nothing was
          // sent, so calling once more (on a server started again) cannot run the tool twice
          if (!/Not connected/.test((err as Error).message)) throw err;
          r = await call();
        }
        return { content: r.content ?? r.toolResult, isError: r.isError === true };
      }),
    );
  }

  private connect(server: StdioSpec) {
    const key = createHash('sha256').update(JSON.stringify([server.command, server.args, server.env])).digest('hex');
    let entry = this.clients.get(key);
    if (!entry) {
      entry = (async () => {
        // the SDK loads when an agent first uses a stdio server, not at every plane's start
        const [{ Client }, { StdioClientTransport, getDefaultEnvironment }] = await Promise.all([
          import('@modelcontextprotocol/sdk/client/index.js'),
          import('@modelcontextprotocol/sdk/client/stdio.js'),
        ]);
        const client = new Client({ name: 'semibot-runtime', version: '0.1.0' });
        const transport = new StdioClientTransport({
          command: server.command,
          args: server.args,
          env: { ...getDefaultEnvironment(), ...server.env },
          stderr: 'ignore',
        });
        await client.connect(transport, { timeout: 30_000 });
        // a server that exits (crash, OOM) is started again on next use instead of staying "Not connected"
        client.onclose = () => {
          if (this.clients.get(key) === entry) this.clients.delete(key);
        };
        const listed = await client.listTools();
        return { client, tools: listed.tools.map((t) => ({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema })) };
      })();
      // a server that failed to start is tried again next time instead of staying broken
      entry.catch(() => this.clients.delete(key));
      this.clients.set(key, entry);
    }
    return entry;
  }

  private async remoteTools(server: McpServerSpec): Promise<Tool[]> {
    const { tools } = await this.services.request<{ tools: McpToolInfo[] }>('mcp_list_tools', { serverId: server.id });
    return tools.map((t) =>
      mcpTool(server, t, (args) => this.services.request<McpCallResult>('mcp_call', { serverId: server.id, tool: t.name, args })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map(async (p) => (await p.catch(() => null))?.client.close()));
    this.clients.clear();
  }
}

function mcpTool(
  server: McpServerSpec,
  info: McpToolInfo,
  call: (args: Record<string, unknown>, signal: AbortSignal) => Promise<McpCallResult>,
): Tool {
  return {
    kind: 'mcp',
    server: server.name,
    spec: {
      name: toolName('mcp', server.name, info.name),
      description: `[MCP ${server.name}] ${info.description}`.slice(0, 1024),
      parameters: info.inputSchema,
    },
    async execute(args, ctx) {
      const r = await call(args, ctx.signal);
      return { content: textOf(r.content), isError: r.isError, display: r.content };
    },
  };
}

/** MCP content blocks → text for the model (non-text blocks are summarised, not dropped silently). */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return JSON.stringify(content);
  return content
    .map((c: { type?: string; text?: string; mimeType?: string }) =>
      c.type === 'text' ? (c.text ?? '') : `[${c.type ?? 'content'}${c.mimeType ? ` ${c.mimeType}` : ''}]`,
    )
    .join('\n');
}
