/** What the bridge tells OpenClaw: where to listen, which model to call, which tools to load. */
export interface GatewayConfigInput {
  port: number;
  token: string;
  /** OpenClaw's default workspace (per-session work directories are passed per turn as `cwd`) */
  workspace: string;
  llm: { baseUrl: string; apiKey: string; model: string };
  /** the plane's tool proxy (skills, long-term memory, MCP servers), a streamable-HTTP MCP server */
  toolProxy?: { url: string; token: string };
}

/** The provider id our models appear under inside OpenClaw (`semibot/<model>`). */
export const PROVIDER = 'semibot';
/** The MCP server name of the tool proxy; OpenClaw names its tools `semibot__<tool>`. */
export const TOOL_SERVER = 'semibot';

/**
 * openclaw.json for a gateway that belongs to one plane: loopback only, token auth, and nothing
 * that reaches out on its own (updates, discovery, telemetry, plugins, catalogue refresh) — the
 * plane may have no internet at all, and a tenant's gateway must not announce itself on the LAN.
 */
export function gatewayConfig(i: GatewayConfigInput): Record<string, unknown> {
  const models = [{ id: i.llm.model, name: i.llm.model, contextWindow: 128_000, maxTokens: 8_192 }];
  return {
    gateway: { mode: 'local', port: i.port, bind: 'loopback', auth: { mode: 'token', token: i.token } },
    discovery: { mdns: { mode: 'off' } },
    update: { checkOnStart: false },
    plugins: { enabled: false },
    models: {
      mode: 'merge',
      providers: { [PROVIDER]: { baseUrl: i.llm.baseUrl, apiKey: i.llm.apiKey, api: 'openai-completions', models } },
    },
    // `coding`: files, exec, web and sessions, and (implicitly) the MCP servers below; no tool search,
    // so the model is given our tools directly instead of having to look them up
    tools: { profile: 'coding', toolSearch: false },
    agents: { defaults: { model: { primary: `${PROVIDER}/${i.llm.model}` }, workspace: i.workspace } },
    ...(i.toolProxy
      ? {
          mcp: {
            servers: {
              [TOOL_SERVER]: {
                url: i.toolProxy.url,
                transport: 'streamable-http',
                headers: { authorization: `Bearer ${i.toolProxy.token}` },
              },
            },
          },
        }
      : {}),
  };
}

/** The environment switches that keep OpenClaw offline, quiet and inside its state directory. */
export function gatewayEnv(home: string, stateDir: string, configPath: string): Record<string, string> {
  return {
    HOME: home,
    OPENCLAW_HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_OFFLINE: '1',
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_SKIP_CHANNELS: '1',
    OPENCLAW_SKIP_CRON: '1',
    // the plane supervises the gateway; a gateway that respawns itself would escape that
    OPENCLAW_NO_RESPAWN: '1',
    DO_NOT_TRACK: '1',
    CLAWHUB_DISABLE_TELEMETRY: '1',
    NO_COLOR: '1',
  };
}
