import { useCallback, useMemo, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, errorOf } from '../../lib/api.js';
import { keys } from '../../lib/queries.js';
import type { Message } from '../../lib/types.js';
import { buildTurns, isBusy, type PendingSend, type Turn } from '../../stream/turns.js';
import { useSessionStream } from './useSessionStream.js';

// crypto.randomUUID exists only in secure contexts; a console opened over plain http on a LAN
// address still needs unique idempotency keys
const newKey = () => globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/**
 * A chat session's state: stored history + what this tab sent + the live stream, merged into turns.
 * Messages go out on the 202 path with an idempotency key (a retried POST cannot double-send); the
 * answer arrives on the session stream, which also carries runs queued behind each other.
 */
export function useChat(sessionId: string) {
  const history = useQuery({
    queryKey: keys.messages(sessionId),
    queryFn: async () => (await api<{ data: Message[] }>('GET', `/sessions/${sessionId}/messages`)).data,
  });
  const { state, status } = useSessionStream(sessionId);
  const [pending, setPending] = useState<PendingSend[]>([]);
  const patch = (localId: string, p: Partial<PendingSend>) => setPending((all) => all.map((x) => (x.localId === localId ? { ...x, ...p } : x)));

  const send = useCallback(
    async (content: string) => {
      const localId = newKey();
      setPending((all) => [...all, { localId, content, runId: null, messageId: null, error: null }]);
      try {
        const r = await api<{ runId: string; messageId: string }>('POST', `/sessions/${sessionId}/messages`, { content, idempotencyKey: localId });
        patch(localId, { runId: r.runId, messageId: r.messageId });
      } catch (err) {
        patch(localId, { error: errorOf(err) });
      }
    },
    [sessionId],
  );

  /** Sends the turn's question again as a new message; a failed POST's placeholder is replaced. */
  const retry = useCallback(
    (turn: Turn) => {
      setPending((all) => all.filter((p) => p.localId !== turn.key));
      void send(turn.userContent);
    },
    [send],
  );

  const cancel = useMutation({
    mutationFn: () => api('POST', `/sessions/${sessionId}/cancel`),
  });

  const turns = useMemo(() => buildTurns(history.data ?? [], pending, state), [history.data, pending, state]);
  return { history, turns, busy: isBusy(turns), send, retry, cancel, status };
}
