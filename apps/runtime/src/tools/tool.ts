import type { LlmToolSpec } from '@semibot/llm';

/** How a tool shows up in the event stream: `tool_call`, `skill_call` or `mcp_call`. */
export type ToolKind = 'tool' | 'skill' | 'mcp';

export interface ToolContext {
  sessionId: string;
  runId: string;
  /** the session's working directory on the plane's disk */
  workDir: string;
  /** aborted on cancel: tools must stop (and kill their subprocesses) */
  signal: AbortSignal;
}

export interface ToolOutput {
  /** what the model reads next */
  content: string;
  isError?: boolean;
  /** what the client sees in the result event, when it differs from `content` */
  display?: unknown;
}

export interface Tool {
  spec: LlmToolSpec;
  kind: ToolKind;
  /** MCP server name, for `mcp_call` events */
  server?: string;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

/** Model-facing tool names must match ^[a-zA-Z0-9_-]{1,64}$ (OpenAI's and Anthropic's rule). */
export function toolName(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/[^a-zA-Z0-9_-]+/g, '_'))
    .join('__')
    .slice(0, 64);
}

/** Tool results are capped so one noisy tool cannot flood the context or the event stream. */
export const MAX_TOOL_OUTPUT_CHARS = 16_000;

export function capOutput(s: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}\n…[${s.length - max} more characters cut]`;
}
