import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, errorOf } from '../../lib/api.js';
import { keys } from '../../lib/queries.js';
import type { McpServer } from '../../lib/types.js';
import { Button } from '../../components/ui/Button.js';
import { Card } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { SelectField, TextAreaField, TextField } from '../../components/ui/Field.js';
import { parseLines, splitArgs } from './kv.js';

/**
 * Create or edit an MCP server. Env values and headers are write-only (the API masks them), so on
 * edit those boxes start empty and are sent only if the user typed into them — PATCH keeps the rest.
 */
export function McpForm({ server, onDone }: { server: McpServer | null; onDone: () => void }) {
  const [name, setName] = useState(server?.name ?? '');
  const [transport, setTransport] = useState<McpServer['transport']>(server?.transport ?? 'stdio');
  const [command, setCommand] = useState(server?.command ?? '');
  const [args, setArgs] = useState((server?.args ?? []).join('\n'));
  const [url, setUrl] = useState(server?.url ?? '');
  const [env, setEnv] = useState<string | null>(null);
  const [headers, setHeaders] = useState<string | null>(null);
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { name, transport };
      if (transport === 'stdio') Object.assign(body, { command, args: splitArgs(args) });
      else body.url = url;
      if (env !== null) body.env = parseLines(env, '=');
      if (headers !== null) body.headers = parseLines(headers, ':');
      return server ? api<McpServer>('PATCH', `/mcp-servers/${server.id}`, body) : api<McpServer>('POST', '/mcp-servers', body);
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.mcp });
      onDone();
    },
  });
  const masked = (r: Record<string, string> | undefined) => (r && Object.keys(r).length ? `set: ${Object.keys(r).join(', ')} — type to replace` : undefined);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Card className="mb-6 p-5">
      <form onSubmit={onSubmit} className="space-y-4" aria-label={server ? `Edit ${server.name}` : 'Add MCP server'}>
        <h2 className="text-sm font-medium">{server ? `Edit ${server.name}` : 'Add an MCP server'}</h2>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Server name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="everything" />
          <SelectField label="Transport" value={transport} onChange={(e) => setTransport(e.target.value as McpServer['transport'])}>
            <option value="stdio">stdio (runs on the execution plane)</option>
            <option value="streamable_http">Streamable HTTP (called by the control plane)</option>
          </SelectField>
        </div>
        {transport === 'stdio' ? (
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="Command" required value={command} onChange={(e) => setCommand(e.target.value)} placeholder="npx" />
            <TextAreaField label="Arguments" hint="One per line." rows={3} value={args} onChange={(e) => setArgs(e.target.value)} />
            <TextAreaField label="Environment" hint={masked(server?.env) ?? 'KEY=value, one per line.'} rows={3} value={env ?? ''} onChange={(e) => setEnv(e.target.value)} />
          </div>
        ) : (
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="URL" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://mcp.example.com/mcp" />
            <TextAreaField label="Headers" hint={masked(server?.headers) ?? 'Name: value, one per line. Kept in the control plane only.'} rows={3} value={headers ?? ''} onChange={(e) => setHeaders(e.target.value)} />
          </div>
        )}
        {save.error && <ErrorNotice error={errorOf(save.error)} />}
        <div className="flex justify-end gap-2">
          <Button onClick={onDone}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending}>
            {server ? 'Save server' : 'Add server'}
          </Button>
        </div>
      </form>
    </Card>
  );
}
