import { useState, type FormEvent } from 'react';
import { RuntimeOptions } from '../../components/RuntimeOptions.js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import type { AgentCreateBody, RuntimeType, VmMode } from '@semibot/protocol';
import { api, errorOf } from '../../lib/api.js';
import { keys, useMcpServers, useSkills } from '../../lib/queries.js';
import { VM_MODE_OPTIONS, type Agent } from '../../lib/types.js';
import { Button } from '../../components/ui/Button.js';
import { Card } from '../../components/ui/Card.js';
import { CheckboxGroup } from '../../components/ui/CheckboxGroup.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { SelectField, TextAreaField, TextField } from '../../components/ui/Field.js';

type Draft = Omit<AgentCreateBody, 'openclawConfig'>;

const blank: Draft = {
  name: '',
  systemPrompt: 'You are a helpful assistant.',
  model: null,
  runtimeType: null,
  defaultVmMode: null,
  skillIds: [],
  mcpServerIds: [],
};

export function AgentForm({ agent }: { agent: Agent | null }) {
  const [draft, setDraft] = useState<Draft>(() =>
    agent
      ? { name: agent.name, systemPrompt: agent.systemPrompt, model: agent.model, runtimeType: agent.runtimeType, defaultVmMode: agent.defaultVmMode, skillIds: agent.skillIds, mcpServerIds: agent.mcpServerIds }
      : blank,
  );
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const skills = useSkills();
  const mcp = useMcpServers();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const save = useMutation({
    mutationFn: () => (agent ? api<Agent>('PATCH', `/agents/${agent.id}`, draft) : api<Agent>('POST', '/agents', draft)),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: keys.agents });
      qc.setQueryData(['agent', saved.id], saved);
      navigate(agent ? '/agents' : `/chat/${saved.id}`);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={onSubmit} aria-label={agent ? 'Edit agent' : 'Create agent'}>
      <Card className="space-y-5 p-5">
        <TextField label="Name" required maxLength={200} value={draft.name} onChange={(e) => set('name', e.target.value)} placeholder="Research assistant" />
        <TextAreaField label="System prompt" rows={6} value={draft.systemPrompt} onChange={(e) => set('systemPrompt', e.target.value)} />
        <div className="grid gap-5 sm:grid-cols-3">
          <TextField
            label="Model"
            value={draft.model ?? ''}
            onChange={(e) => set('model', e.target.value.trim() ? e.target.value : null)}
            placeholder="platform default"
            hint="Leave empty for the platform's model."
          />
          <SelectField
            label="Runtime"
            value={draft.runtimeType ?? ''}
            onChange={(e) => set('runtimeType', (e.target.value || null) as RuntimeType | null)}
            hint="A session can still choose its own."
          >
            <option value="">Inherit (your default)</option>
            <RuntimeOptions />
          </SelectField>
          <SelectField
            label="VM mode"
            value={draft.defaultVmMode ?? ''}
            onChange={(e) => set('defaultVmMode', (e.target.value || null) as VmMode | null)}
            hint="Where this agent's execution plane runs."
          >
            <option value="">Inherit (org default)</option>
            {VM_MODE_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </SelectField>
        </div>
        <div className="grid gap-5 sm:grid-cols-2">
          <CheckboxGroup
            legend="Skills"
            value={draft.skillIds}
            onChange={(v) => set('skillIds', v)}
            options={(skills.data ?? []).map((s) => ({ value: s.id, label: s.name, description: s.description }))}
            empty="No skills uploaded yet — add them on the Skills page."
          />
          <CheckboxGroup
            legend="MCP servers"
            value={draft.mcpServerIds}
            onChange={(v) => set('mcpServerIds', v)}
            options={(mcp.data ?? []).map((s) => ({ value: s.id, label: s.name, description: s.transport === 'stdio' ? (s.command ?? '') : (s.url ?? '') }))}
            empty="No MCP servers configured — add them on the MCP servers page."
          />
        </div>
        {save.error && <ErrorNotice error={errorOf(save.error)} />}
        <div className="flex justify-end gap-2 border-t border-zinc-100 pt-4 dark:border-zinc-800">
          <Button onClick={() => navigate('/agents')}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending || !draft.name.trim()}>
            {save.isPending ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
          </Button>
        </div>
      </Card>
    </form>
  );
}
