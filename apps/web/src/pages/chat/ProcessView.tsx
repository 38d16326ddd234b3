import { useState } from 'react';
import { CheckCircle2, ChevronRight, CircleDashed, ListChecks, Plug, RotateCcw, Sparkles, Wrench, XCircle } from 'lucide-react';
import type { ProcessStep, StepKind } from '../../stream/reducer.js';
import { fmtValue } from '../../lib/format.js';

const kindIcon: Record<StepKind, typeof Wrench> = { plan: ListChecks, tool: Wrench, skill: Sparkles, mcp: Plug, restart: RotateCcw };
const kindLabel: Record<StepKind, string> = { plan: 'Step', tool: 'Tool', skill: 'Skill', mcp: 'MCP', restart: 'Resume' };

function StatusIcon({ status }: { status: ProcessStep['status'] }) {
  if (status === 'done') return <CheckCircle2 className="size-3.5 text-emerald-500" aria-label="done" />;
  if (status === 'failed') return <XCircle className="size-3.5 text-red-500" aria-label="failed" />;
  return <CircleDashed className="size-3.5 animate-spin text-amber-500" aria-label="running" />;
}

function StepRow({ step }: { step: ProcessStep }) {
  const [open, setOpen] = useState(false);
  const Icon = kindIcon[step.kind];
  const hasDetail = step.args !== undefined || step.result !== undefined;
  return (
    <li className="rounded-md">
      <button
        type="button"
        disabled={!hasDetail}
        aria-expanded={hasDetail ? open : undefined}
        onClick={() => setOpen((o) => !o)}
        className="flex w-full items-center gap-2 rounded-md px-2 py-1 text-left text-xs hover:bg-zinc-100 disabled:cursor-default disabled:hover:bg-transparent dark:hover:bg-zinc-800"
      >
        <StatusIcon status={step.status} />
        <Icon className="size-3.5 text-zinc-400" aria-hidden />
        <span className="text-zinc-500">{kindLabel[step.kind]}</span>
        <span className="truncate font-mono text-zinc-800 dark:text-zinc-200">
          {step.server ? `${step.server} · ` : ''}
          {step.title}
        </span>
        {hasDetail && <ChevronRight className={`ml-auto size-3.5 text-zinc-400 transition-transform ${open ? 'rotate-90' : ''}`} aria-hidden />}
      </button>
      {open && (
        <div className="mt-1 mb-2 ml-7 space-y-1.5">
          {step.args !== undefined && <Detail label="Arguments" value={step.args} />}
          {step.result !== undefined && <Detail label={step.status === 'failed' ? 'Error' : 'Result'} value={step.result} />}
        </div>
      )}
    </li>
  );
}

function Detail({ label, value }: { label: string; value: unknown }) {
  return (
    <div>
      <p className="text-[11px] font-medium tracking-wide text-zinc-400 uppercase">{label}</p>
      <pre className="mt-0.5 max-h-48 overflow-auto rounded bg-zinc-100 p-2 font-mono text-[11px] whitespace-pre-wrap text-zinc-700 dark:bg-zinc-950 dark:text-zinc-300">{fmtValue(value)}</pre>
    </div>
  );
}

/** What the agent did on the way to its answer: collapsed to one line until asked for. */
export function ProcessView({ steps, running }: { steps: ProcessStep[]; running: boolean }) {
  const [open, setOpen] = useState(false);
  if (steps.length === 0) return null;
  const failed = steps.filter((s) => s.status === 'failed').length;
  const last = steps[steps.length - 1]!;
  return (
    <div className="mb-2 rounded-lg border border-zinc-200 bg-zinc-50/70 dark:border-zinc-800 dark:bg-zinc-900/50">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        className="flex w-full items-center gap-2 px-3 py-1.5 text-left text-xs text-zinc-600 dark:text-zinc-400"
      >
        <ChevronRight className={`size-3.5 transition-transform ${open ? 'rotate-90' : ''}`} aria-hidden />
        <span className="font-medium">Process</span>
        <span>
          · {steps.length} step{steps.length === 1 ? '' : 's'}
          {failed > 0 && <span className="text-red-600 dark:text-red-400"> · {failed} failed</span>}
        </span>
        {running && !open && <span className="ml-auto truncate font-mono text-zinc-500">{last.title}</span>}
      </button>
      {open && <ul className="space-y-0.5 px-1.5 pb-1.5">{steps.map((s) => <StepRow key={`${s.kind}:${s.key}`} step={s} />)}</ul>}
    </div>
  );
}
