import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageRow } from '../../lib/types.js';
import { fmtNumber } from '../../lib/format.js';

/** Stacked input/output tokens per key (day or model). Neutral axis colours read in light and dark. */
export function UsageChart({ rows, label, horizontal = false }: { rows: UsageRow[]; label: string; horizontal?: boolean }) {
  const axis = { stroke: '#a1a1aa', fontSize: 11, tickLine: false, axisLine: false } as const;
  return (
    <figure aria-label={label} className="h-64 w-full">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} layout={horizontal ? 'vertical' : 'horizontal'} margin={{ top: 8, right: 12, left: 0, bottom: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#71717a" strokeOpacity={0.2} vertical={horizontal} horizontal={!horizontal} />
          {horizontal ? (
            <>
              <XAxis type="number" {...axis} tickFormatter={fmtNumber} />
              <YAxis type="category" dataKey="key" width={110} {...axis} />
            </>
          ) : (
            <>
              <XAxis dataKey="key" {...axis} tickFormatter={(d: string) => d.slice(5)} />
              <YAxis {...axis} width={48} tickFormatter={fmtNumber} />
            </>
          )}
          <Tooltip
            cursor={{ fill: '#71717a', fillOpacity: 0.1 }}
            contentStyle={{ borderRadius: 8, border: '1px solid #3f3f46', background: '#18181b', color: '#fafafa', fontSize: 12 }}
            formatter={(v) => fmtNumber(Number(v))}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="tokensIn" name="Input tokens" stackId="t" fill="#6366f1" radius={horizontal ? 0 : [0, 0, 0, 0]} isAnimationActive={false} />
          <Bar dataKey="tokensOut" name="Output tokens" stackId="t" fill="#22c55e" radius={horizontal ? [0, 4, 4, 0] : [4, 4, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
