import { AlertTriangle, RotateCcw } from 'lucide-react';
import { Button } from './Button.js';

/** An API error as the user sees it: the stable code (searchable, quotable), the message, a retry. */
export function ErrorNotice({ error, onRetry, retryLabel = 'Retry' }: { error: { code: string; message: string }; onRetry?: () => void; retryLabel?: string }) {
  return (
    <div role="alert" className="flex items-start gap-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2.5 text-sm dark:border-red-900 dark:bg-red-950/60">
      <AlertTriangle className="mt-0.5 size-4 shrink-0 text-red-600 dark:text-red-400" aria-hidden />
      <div className="min-w-0 flex-1">
        <code className="rounded bg-red-100 px-1.5 py-0.5 font-mono text-xs font-semibold text-red-800 dark:bg-red-900/60 dark:text-red-200">{error.code}</code>
        <span className="ml-2 text-red-800 dark:text-red-200">{error.message}</span>
      </div>
      {onRetry && (
        <Button size="sm" variant="secondary" onClick={onRetry}>
          <RotateCcw className="size-3.5" aria-hidden />
          {retryLabel}
        </Button>
      )}
    </div>
  );
}
