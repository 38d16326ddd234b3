import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Upload } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import { keys } from '../../lib/queries.js';
import type { Skill } from '../../lib/types.js';
import { Button } from '../../components/ui/Button.js';
import { Card } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { TextAreaField, TextField } from '../../components/ui/Field.js';
import { skillMarkdown, uploadFor, type SkillUpload } from './upload.js';

/** Two ways in: upload a package (JSON, SKILL.md, .zip, .tar, .tar.gz), or write a small skill inline. */
export function SkillCreateCard() {
  const qc = useQueryClient();
  const fileRef = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [instructions, setInstructions] = useState('');
  const [readError, setReadError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (u: SkillUpload) => (u.raw ? api<Skill>('POST', '/skills', undefined, { raw: u.raw, contentType: u.contentType! }) : api<Skill>('POST', '/skills', u.body)),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.skills });
      setName('');
      setDescription('');
      setInstructions('');
      if (fileRef.current) fileRef.current.value = '';
    },
  });
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setReadError(null);
    try {
      create.mutate(await uploadFor(file));
    } catch (err) {
      setReadError(`${file.name} is not a JSON skill package: ${(err as Error).message}`);
    }
  };
  const onWrite = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ body: { files: [{ path: 'SKILL.md', content: skillMarkdown(name, description, instructions) }] } });
  };
  return (
    <Card className="grid gap-6 p-5 md:grid-cols-2">
      <div>
        <h2 className="text-sm font-medium">Upload a package</h2>
        <p className="mt-1 text-xs text-zinc-500">A JSON package <code className="font-mono">{'{name?, files: [{path, content}]}'}</code>, a SKILL.md, or a .zip / .tar / .tar.gz archive.</p>
        <label className="mt-3 flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border border-dashed border-zinc-300 px-4 py-6 text-sm text-zinc-500 hover:border-indigo-400 hover:text-indigo-600 focus-within:ring-2 focus-within:ring-indigo-500 dark:border-zinc-700">
          <Upload className="size-5" aria-hidden />
          <span>Choose a skill file</span>
          <input ref={fileRef} type="file" className="sr-only" aria-label="Skill file" accept=".json,.md,.zip,.tar,.gz,.tgz" onChange={(e) => void onFile(e.target.files?.[0])} />
        </label>
      </div>
      <form onSubmit={onWrite} className="space-y-3" aria-label="Write a skill">
        <h2 className="text-sm font-medium">Or write one</h2>
        <div className="grid gap-3 sm:grid-cols-2">
          <TextField label="Skill name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="summarise" />
          <TextField label="Description" required value={description} onChange={(e) => setDescription(e.target.value)} placeholder="When to use it" />
        </div>
        <TextAreaField label="Instructions" rows={3} required value={instructions} onChange={(e) => setInstructions(e.target.value)} />
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Add skill
          </Button>
        </div>
      </form>
      {(create.error || readError) && (
        <div className="md:col-span-2">
          <ErrorNotice error={readError ? { code: 'INVALID_FILE', message: readError } : errorOf(create.error)} />
        </div>
      )}
    </Card>
  );
}
