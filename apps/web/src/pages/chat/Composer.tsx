import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { ArrowUp, Square } from 'lucide-react';
import { Button } from '../../components/ui/Button.js';

/**
 * Enter sends, Shift+Enter breaks the line. Sending while a turn runs is allowed: the message
 * queues behind it. The stop button cancels the running turn.
 */
export function Composer({ onSend, onStop, busy, stopping }: { onSend: (text: string) => void; onStop: () => void; busy: boolean; stopping: boolean }) {
  const [text, setText] = useState('');
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const content = text.trim();
    if (!content) return;
    onSend(content);
    setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) submit(e);
  };
  return (
    <form onSubmit={submit} className="rounded-2xl border border-zinc-200 bg-white p-2 shadow-sm focus-within:ring-2 focus-within:ring-indigo-500 dark:border-zinc-800 dark:bg-zinc-900">
      <label htmlFor="composer" className="sr-only">
        Message
      </label>
      <textarea
        id="composer"
        rows={2}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        placeholder={busy ? 'Type to queue another message…' : 'Message the agent…  (Enter to send, Shift+Enter for a new line)'}
        className="block max-h-48 min-h-[3rem] w-full resize-y border-0 bg-transparent px-2 py-1.5 text-sm focus:outline-none"
      />
      <div className="flex items-center justify-end gap-2">
        {busy && (
          <Button size="sm" variant="secondary" onClick={onStop} disabled={stopping} aria-label="Stop">
            <Square className="size-3 fill-current" aria-hidden /> Stop
          </Button>
        )}
        <Button size="sm" type="submit" variant="primary" disabled={!text.trim()} aria-label="Send">
          <ArrowUp className="size-3.5" aria-hidden /> Send
        </Button>
      </div>
    </form>
  );
}
