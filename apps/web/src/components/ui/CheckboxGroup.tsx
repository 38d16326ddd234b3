import { useId } from 'react';

/** A multi-select as a labelled group of checkboxes: keyboard-usable and unambiguous to screen readers. */
export function CheckboxGroup({
  legend,
  options,
  value,
  onChange,
  empty,
}: {
  legend: string;
  options: { value: string; label: string; description?: string }[];
  value: string[];
  onChange: (v: string[]) => void;
  empty: string;
}) {
  const base = useId();
  const toggle = (v: string) => onChange(value.includes(v) ? value.filter((x) => x !== v) : [...value, v]);
  return (
    <fieldset className="space-y-1.5">
      <legend className="mb-1.5 block text-sm font-medium text-zinc-700 dark:text-zinc-300">{legend}</legend>
      {options.length === 0 ? (
        <p className="rounded-md border border-dashed border-zinc-300 px-3 py-2 text-xs text-zinc-500 dark:border-zinc-700">{empty}</p>
      ) : (
        <div className="max-h-44 space-y-1 overflow-y-auto rounded-md border border-zinc-200 p-1.5 dark:border-zinc-800">
          {options.map((o, i) => (
            <label key={o.value} htmlFor={`${base}-${i}`} className="flex cursor-pointer items-start gap-2.5 rounded px-2 py-1.5 hover:bg-zinc-50 dark:hover:bg-zinc-800/60">
              <input
                id={`${base}-${i}`}
                type="checkbox"
                className="mt-0.5 size-4 rounded border-zinc-300 accent-indigo-600"
                checked={value.includes(o.value)}
                onChange={() => toggle(o.value)}
              />
              <span className="min-w-0">
                <span className="block text-sm text-zinc-800 dark:text-zinc-200">{o.label}</span>
                {o.description && <span className="block truncate text-xs text-zinc-500">{o.description}</span>}
              </span>
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}
