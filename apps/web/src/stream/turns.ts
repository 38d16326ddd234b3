import type { Message } from '../lib/types.js';
import type { RunError, RunView, StreamState } from './reducer.js';

/**
 * One exchange in the chat: the user's message and the answer to it. The stored history, the
 * messages this tab has just sent and the live stream each know part of it; this merges them.
 */
export type TurnStatus = 'sending' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface Turn {
  key: string;
  runId: string | null;
  userContent: string;
  answer: string;
  status: TurnStatus;
  run: RunView | null;
  error: RunError | { code: string; message: string } | null;
}

/** A message sent from this tab that the stored history may not show yet. */
export interface PendingSend {
  localId: string;
  content: string;
  runId: string | null;
  messageId: string | null;
  /** the POST itself failed (e.g. VM_UNAVAILABLE): nothing was queued */
  error: { code: string; message: string } | null;
}

export function buildTurns(history: Message[], pending: PendingSend[], stream: StreamState): Turn[] {
  const turns: Turn[] = [];
  const answers = new Map<string, string>();
  for (const m of history) if (m.role === 'assistant' && m.runId) answers.set(m.runId, (answers.get(m.runId) ?? '') + m.content);
  const known = new Set<string>();

  const turnFor = (key: string, runId: string | null, userContent: string): Turn => {
    const run = runId ? (stream.runs[runId] ?? null) : null;
    const stored = runId ? answers.get(runId) : undefined;
    // A run streamed whole is shown as streamed (it equals the stored answer by contract). A run
    // with a stored answer that the stream still calls running is being replayed on (re)open: the
    // stored answer is shown until the replay reaches `done`, so old answers do not flicker. A run
    // joined mid-way shows its tail until the stored answer exists.
    const replaying = run?.phase === 'running' && stored !== undefined;
    const answer = run?.complete && !replaying ? run.text : (stored ?? run?.text ?? '');
    let status: TurnStatus;
    if (run) status = run.phase;
    else if (stored !== undefined) status = 'completed';
    else status = 'unknown'; // queued, or older than what the stream retained: the view asks GET /runs/:id
    return { key, runId, userContent, answer, status, run, error: run?.error ?? null };
  };

  for (const m of history) {
    if (m.role !== 'user') continue;
    known.add(m.id);
    turns.push(turnFor(m.id, m.runId, m.content));
  }
  for (const p of pending) {
    if (p.messageId && known.has(p.messageId)) continue;
    if (p.error) {
      turns.push({ key: p.localId, runId: null, userContent: p.content, answer: '', status: 'failed', run: null, error: p.error });
      continue;
    }
    if (!p.runId) {
      turns.push({ key: p.localId, runId: null, userContent: p.content, answer: '', status: 'sending', run: null, error: null });
      continue;
    }
    const t = turnFor(p.localId, p.runId, p.content);
    // we posted it and no event has come yet: it is waiting its turn
    turns.push(t.status === 'unknown' ? { ...t, status: 'queued' } : t);
  }
  return turns;
}

/** True while some turn may still produce output, i.e. the stop button means something. */
export const isBusy = (turns: Turn[]) => turns.some((t) => t.status === 'running' || t.status === 'queued' || t.status === 'sending');
