import { Monitor, Moon, Sun } from 'lucide-react';
import { useTheme, type ThemePref } from '../../lib/theme.js';

const options: { value: ThemePref; label: string; Icon: typeof Sun }[] = [
  { value: 'light', label: 'Light theme', Icon: Sun },
  { value: 'dark', label: 'Dark theme', Icon: Moon },
  { value: 'system', label: 'System theme', Icon: Monitor },
];

/** A three-way segmented control; each segment is a pressed/unpressed button with a name. */
export function ThemeToggle() {
  const [pref, setPref] = useTheme();
  return (
    <div role="group" aria-label="Theme" className="inline-flex rounded-md bg-zinc-100 p-0.5 dark:bg-zinc-800">
      {options.map(({ value, label, Icon }) => (
        <button
          key={value}
          type="button"
          aria-label={label}
          aria-pressed={pref === value}
          title={label}
          onClick={() => setPref(value)}
          className={`rounded p-1.5 transition-colors ${pref === value ? 'bg-white text-zinc-900 shadow-sm dark:bg-zinc-700 dark:text-zinc-50' : 'text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200'}`}
        >
          <Icon className="size-3.5" aria-hidden />
        </button>
      ))}
    </div>
  );
}
