import type { LlmMessage, LlmToolCall } from '@semibot/llm';

/** The nodes of the SemiGraph: plan → act → observe → (plan | respond) → done. */
export type GraphNode = 'plan' | 'act' | 'observe' | 'respond' | 'done';

export interface ToolResult {
  callId: string;
  name: string;
  content: string;
  isError: boolean;
}

/** Everything a turn needs to continue after a restart: checkpointed after every node. */
export interface GraphState {
  version: 1;
  sessionId: string;
  runId: string;
  /** the node to run next */
  node: GraphNode;
  /** completed plan → act → observe rounds */
  step: number;
  /** the turn's working transcript: system, history, user, assistant tool calls, tool results */
  messages: LlmMessage[];
  pending: LlmToolCall[];
  results: ToolResult[];
  /** all answer text streamed so far in this turn, across steps */
  answer: string;
  /** number of `text` events emitted so far; lets a resumed turn skip what the client already has */
  textEvents: number;
  /**
   * How many leading `messages` are the session's before this turn (system prompt and history):
   * checkpoints leave them out and a resume puts them back, so a checkpoint holds the turn's own
   * work whatever the session's length.
   */
  priorMessages?: number;
}

export function initialState(input: { sessionId: string; runId: string; messages: LlmMessage[]; priorMessages?: number }): GraphState {
  return { version: 1, node: 'plan', step: 0, pending: [], results: [], answer: '', textEvents: 0, ...input };
}
