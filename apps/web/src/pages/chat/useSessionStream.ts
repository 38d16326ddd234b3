import { useEffect, useReducer, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { SseEvent } from '@semibot/protocol';
import { API_BASE, authHeaders } from '../../lib/api.js';
import { keys } from '../../lib/queries.js';
import { applyEvent, initialStreamState, type StreamState } from '../../stream/reducer.js';
import { SessionStream, type StreamStatus } from '../../stream/session-stream.js';

type Action = { reset: true } | { reset?: false; id: number | null; event: SseEvent };
const reduce = (s: StreamState, a: Action): StreamState => (a.reset ? initialStreamState : applyEvent(s, a.id, a.event));

/** The session's live event stream folded into run views, plus the connection's health for the UI. */
export function useSessionStream(sessionId: string): { state: StreamState; status: StreamStatus } {
  const [state, dispatch] = useReducer(reduce, initialStreamState);
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting', attempt: 0 });
  const qc = useQueryClient();
  useEffect(() => {
    dispatch({ reset: true });
    const stream = new SessionStream({
      url: `${API_BASE}/sessions/${sessionId}/events`,
      headers: authHeaders,
      onStatus: setStatus,
      onEvent: (id, event) => {
        dispatch({ id, event });
        // a run starting or ending changes the stored history (its user message, its answer), and
        // `resync` means events were lost: the stored messages are the truth to reload
        if (event.type === 'run' || event.type === 'done' || event.type === 'resync') {
          void qc.invalidateQueries({ queryKey: keys.messages(sessionId) });
          void qc.invalidateQueries({ queryKey: keys.vm });
        }
        if (event.type === 'done') void qc.invalidateQueries({ queryKey: ['usage'] });
      },
    }).start();
    return () => stream.close();
  }, [sessionId, qc]);
  return { state, status };
}
