/**
 * Turns what the user picked into a POST /skills request: a JSON package `{name?, files}` as is, a
 * lone SKILL.md wrapped into one, an archive sent raw with its content type.
 */
export interface SkillUpload {
  body?: unknown;
  raw?: Blob;
  contentType?: string;
}

export function archiveType(fileName: string): string | null {
  const n = fileName.toLowerCase();
  if (n.endsWith('.zip')) return 'application/zip';
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'application/gzip';
  if (n.endsWith('.tar')) return 'application/x-tar';
  return null;
}

export async function uploadFor(file: File): Promise<SkillUpload> {
  const type = archiveType(file.name);
  if (type) return { raw: file, contentType: type };
  const text = await file.text();
  if (file.name.toLowerCase().endsWith('.md')) return { body: { files: [{ path: 'SKILL.md', content: text }] } };
  return { body: JSON.parse(text) as unknown };
}

/** A SKILL.md from the inline form; YAML strings are JSON-quoted so any text is safe in them. */
export function skillMarkdown(name: string, description: string, instructions: string): string {
  return `---\nname: ${JSON.stringify(name)}\ndescription: ${JSON.stringify(description)}\n---\n\n${instructions.trim()}\n`;
}
