import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, errorOf } from '../../lib/api.js';
import type { UsageRow, UsageSummary } from '../../lib/types.js';
import { fmtNumber } from '../../lib/format.js';
import { Card, EmptyState, PageHeader } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { TextField } from '../../components/ui/Field.js';
import { daysBetween, defaultRange, exclusiveEnd } from './dateRange.js';
import { UsageChart } from './UsageChart.js';

function useUsage(groupBy: 'day' | 'model', from: string, to: string) {
  return useQuery({
    queryKey: ['usage', groupBy, from, to],
    queryFn: () => api<UsageSummary>('GET', `/usage?groupBy=${groupBy}&from=${from}&to=${exclusiveEnd(to)}`),
    enabled: from <= to,
  });
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <Card className="p-4">
      <p className="text-xs font-medium text-zinc-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold tracking-tight tabular-nums" aria-label={label}>
        {fmtNumber(value)}
      </p>
    </Card>
  );
}

export function UsagePage() {
  const [range, setRange] = useState(defaultRange);
  const byDay = useUsage('day', range.from, range.to);
  const byModel = useUsage('model', range.from, range.to);
  const rows = byModel.data?.data ?? [];
  const total = rows.reduce((t, r) => ({ in: t.in + r.tokensIn, out: t.out + r.tokensOut, calls: t.calls + r.calls }), { in: 0, out: 0, calls: 0 });
  const dayRows: UsageRow[] = daysBetween(range.from, range.to).map(
    (key) => byDay.data?.data.find((r) => r.key === key) ?? { key, tokensIn: 0, tokensOut: 0, calls: 0, latencyMsAvg: null },
  );
  const error = byDay.error ?? byModel.error;
  return (
    <div className="mx-auto max-w-5xl p-6 lg:p-8">
      <PageHeader
        title="Usage"
        description="Model tokens used by your organisation's agents (UTC days)."
        actions={
          <div className="flex items-end gap-2">
            <TextField label="From" type="date" value={range.from} max={range.to} onChange={(e) => e.target.value && setRange((r) => ({ ...r, from: e.target.value }))} />
            <TextField label="To" type="date" value={range.to} min={range.from} onChange={(e) => e.target.value && setRange((r) => ({ ...r, to: e.target.value }))} />
          </div>
        }
      />
      {error && <ErrorNotice error={errorOf(error)} onRetry={() => (void byDay.refetch(), void byModel.refetch())} />}
      <div className="mb-6 grid gap-4 sm:grid-cols-3">
        <Stat label="Input tokens" value={total.in} />
        <Stat label="Output tokens" value={total.out} />
        <Stat label="Model calls" value={total.calls} />
      </div>
      <div className="grid gap-6 lg:grid-cols-5">
        <Card className="p-5 lg:col-span-3">
          <h2 className="mb-3 text-sm font-medium">Tokens per day</h2>
          <UsageChart rows={dayRows} label="Tokens per day" />
        </Card>
        <Card className="p-5 lg:col-span-2">
          <h2 className="mb-3 text-sm font-medium">Tokens per model</h2>
          {rows.length ? <UsageChart rows={rows} label="Tokens per model" horizontal /> : <EmptyState title="No usage in this range" />}
        </Card>
      </div>
      {rows.length > 0 && (
        <Card className="mt-6 overflow-hidden">
          <table className="w-full text-left text-sm" aria-label="Usage per model">
            <thead className="bg-zinc-50 text-xs text-zinc-500 dark:bg-zinc-900/60">
              <tr>
                {['Model', 'Calls', 'Input tokens', 'Output tokens', 'Avg latency'].map((h) => (
                  <th key={h} scope="col" className="px-4 py-2 font-medium">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {rows.map((r) => (
                <tr key={r.key}>
                  <td className="px-4 py-2 font-mono text-xs">{r.key}</td>
                  <td className="px-4 py-2 tabular-nums">{fmtNumber(r.calls)}</td>
                  <td className="px-4 py-2 tabular-nums">{fmtNumber(r.tokensIn)}</td>
                  <td className="px-4 py-2 tabular-nums">{fmtNumber(r.tokensOut)}</td>
                  <td className="px-4 py-2 tabular-nums">{r.latencyMsAvg === null ? '—' : `${r.latencyMsAvg} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}
