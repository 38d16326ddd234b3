import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

/** Every control has a visible <label> tied to it, so tests and screen readers find it by name. */
export const controlClass =
  'block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-zinc-900 shadow-sm ring-1 ring-inset ring-zinc-300 placeholder:text-zinc-400 focus:ring-2 focus:ring-inset focus:ring-indigo-500 focus:outline-none dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700';

interface Wrap {
  label: string;
  hint?: ReactNode;
  error?: string | null;
}

function Frame({ id, label, hint, error, children }: Wrap & { id: string; children: ReactNode }) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      {children}
      {hint && !error && <p className="text-xs text-zinc-500 dark:text-zinc-400">{hint}</p>}
      {error && (
        <p className="text-xs text-red-600 dark:text-red-400" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function TextField({ label, hint, error, ...rest }: Wrap & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error ?? null}>
      <input id={id} className={controlClass} aria-invalid={error ? true : undefined} {...rest} />
    </Frame>
  );
}

export function TextAreaField({ label, hint, error, ...rest }: Wrap & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error ?? null}>
      <textarea id={id} className={`${controlClass} font-mono leading-relaxed`} {...rest} />
    </Frame>
  );
}

export function SelectField({ label, hint, error, children, ...rest }: Wrap & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error ?? null}>
      <select id={id} className={controlClass} {...rest}>
        {children}
      </select>
    </Frame>
  );
}
