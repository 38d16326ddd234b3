import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Logger } from 'pino';
import type { McpCallResult, McpToolInfo } from '@semibot/protocol';
import type { McpServer } from '../store/mcp-servers.js';

const CALL_TIMEOUT_MS = 120_000;

/**
 * Calls streamable-HTTP MCP servers on behalf of execution planes, so the servers' URLs and
 * credentials (headers) stay in the control plane. One client per server configuration.
 */
export class RemoteMcp {
  private readonly clients = new Map<string, Promise<Client>>();
  calls = 0;

  constructor(private readonly logger: Logger) {}

  private client(server: McpServer): Promise<Client> {
    const key = `${server.id}@${server.updatedAt}`;
    let c = this.clients.get(key);
    if (!c) {
      c = (async () => {
        // loaded on first use: most control planes never call a remote MCP server, and the SDK
        // costs ~100 ms of start-up
        const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
          import('@modelcontextprotocol/sdk/client/index.js'),
          import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
        ]);
        const client = new Client({ name: 'semibot-control-plane', version: '0.1.0' });
        const transport = new StreamableHTTPClientTransport(new URL(server.url!), { requestInit: { headers: server.headers } });
        await client.connect(transport, { timeout: 30_000 });
        return client;
      })();
      c.catch((err) => {
        this.logger.warn({ err: (err as Error).message, server: server.name }, 'remote MCP server unreachable');
        this.clients.delete(key);
      });
      this.clients.set(key, c);
    }
    return c;
  }

  /**
   * Runs `fn` on the server's client. A failure drops that client, so the next use connects afresh:
   * a server that restarted has lost its MCP sessions and would refuse the old one forever.
   */
  private async use<T>(server: McpServer, fn: (client: Client) => Promise<T>): Promise<T> {
    const pending = this.client(server);
    const client = await pending;
    try {
      return await fn(client);
    } catch (err) {
      const key = `${server.id}@${server.updatedAt}`;
      if (this.clients.get(key) === pending) {
        this.clients.delete(key);
        void client.close().catch(() => {});
      }
      throw err;
    }
  }

  async listTools(server: McpServer): Promise<McpToolInfo[]> {
    // read-only, so tried once more on a fresh connection (after a server restart, say)
    const list = () => this.use(server, (c) => c.listTools());
    const { tools } = await list().catch(list);
    return tools.map((t) => ({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema }));
  }

  async call(server: McpServer, tool: string, args: Record<string, unknown>): Promise<McpCallResult> {
    this.calls++;
    // not retried: the tool may have acted before the failure
    const r = await this.use(server, (c) => c.callTool({ name: tool, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS }));
    return { content: r.content ?? r.toolResult, isError: r.isError === true };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map(async (c) => (await c.catch(() => null))?.close()));
    this.clients.clear();
  }
}
