import { useEffect, useRef } from 'react';
import { MessagesSquare } from 'lucide-react';
import { errorOf } from '../../lib/api.js';
import { EmptyState } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { Composer } from './Composer.js';
import { PlaneNotice } from './PlaneNotice.js';
import { TurnView } from './TurnView.js';
import { useChat } from './useChat.js';

/** One open session: the turns, the notices and the composer. Keyed by session id by its parent. */
export function ChatSession({ sessionId }: { sessionId: string }) {
  const chat = useChat(sessionId);
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  // Follow the conversation as it grows (streamed text, process views, replayed history) unless the
  // reader scrolled up to read something earlier. Watching the content's size catches every cause.
  useEffect(() => {
    const el = scroller.current;
    if (!el || !content.current) return;
    const follow = () => {
      if (pinned.current) el.scrollTop = el.scrollHeight;
    };
    const ro = new ResizeObserver(follow);
    ro.observe(content.current);
    follow();
    return () => ro.disconnect();
  }, []);
  const cancelError = chat.cancel.error && errorOf(chat.cancel.error);
  return (
    <div className="flex h-full min-h-0 flex-col">
      <div
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
        className="min-h-0 flex-1 overflow-y-auto"
      >
        <div ref={content} className="mx-auto max-w-3xl space-y-8 px-6 py-8">
          {chat.history.error && <ErrorNotice error={errorOf(chat.history.error)} onRetry={() => void chat.history.refetch()} />}
          {chat.history.isSuccess && chat.turns.length === 0 && (
            <EmptyState icon={<MessagesSquare className="size-8" />} title="Start the conversation">
              Answers stream in as they are written. Try <code className="font-mono">/slow 30 60</code> with the mock model.
            </EmptyState>
          )}
          {chat.turns.map((t, i) => (
            <TurnView key={t.key} turn={t} index={i} onRetry={chat.retry} />
          ))}
        </div>
      </div>
      <div className="mx-auto w-full max-w-3xl space-y-2 px-6 pb-5">
        <PlaneNotice busy={chat.busy} stream={chat.status} />
        {cancelError && cancelError.code !== 'NOT_RUNNING' && <ErrorNotice error={cancelError} onRetry={() => chat.cancel.mutate()} />}
        <Composer busy={chat.busy} stopping={chat.cancel.isPending} onSend={(text) => void chat.send(text)} onStop={() => chat.cancel.mutate()} />
      </div>
    </div>
  );
}
