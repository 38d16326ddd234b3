/**
 * The mock model is scripted by the last user message. This module turns that text into a
 * `Script`; it is pure so the grammar can be unit-tested without a server.
 *
 * Grammar (the directive must be the first thing in the message):
 *   (no directive)              echo `You said: <content>`
 *   /echo <text>                reply exactly <text>
 *   /slow <N> <D>               N tokens `tok1 `, `tok2 `, ... D ms apart
 *   /ts <N> <D>                 N tokens D ms apart, each `<emit wall-clock µs> `
 *   /fail <status>              HTTP error with an OpenAI-style error body
 *   /fail_mid <N>               N tokens, then the socket is destroyed
 *   /tool <name> <json>         one tool call (then `Tool result: ...` once a tool message exists)
 *   /tools <n1> <j1> ; <n2> <j2>  parallel tool calls
 *   /hang                       headers, then nothing until the client goes away
 * Unknown `/words` are treated as plain text (echo), so a demo user typing a path is not an error.
 */

export interface ScriptedToolCall {
  name: string;
  /** The JSON arguments exactly as written in the script (validated, not re-serialised). */
  arguments: string;
}

export type Script =
  | { kind: 'echo'; text: string }
  | { kind: 'slow'; count: number; delayMs: number }
  | { kind: 'ts'; count: number; delayMs: number }
  | { kind: 'fail'; status: number }
  | { kind: 'fail_mid'; count: number }
  | { kind: 'tools'; calls: ScriptedToolCall[] }
  | { kind: 'hang' }
  /** A known directive with unusable arguments; the server answers 400 with `message`. */
  | { kind: 'invalid'; message: string };

/** Guards the server against a script asking for an absurd amount of output. */
export const MAX_TOKENS = 1_000_000;

export function parseScript(content: string): Script {
  if (!content.startsWith('/')) return { kind: 'echo', text: `You said: ${content}` };
  const m = /^\/([a-z_]+)(?:[ \t]+|(?=\n)|$)/.exec(content);
  if (!m) return { kind: 'echo', text: `You said: ${content}` };
  const directive = m[1];
  const rest = content.slice(m[0].length);
  // Numeric directives only look at the first line; /echo and /tool(s) take the rest verbatim.
  const args = (rest.split('\n', 1)[0] ?? '').trim().split(/\s+/).filter(Boolean);
  switch (directive) {
    case 'echo':
      // `/echo\ntext` means the text on the following lines.
      return { kind: 'echo', text: rest.startsWith('\n') ? rest.slice(1) : rest };
    case 'slow':
    case 'ts': {
      const count = parseCount(args[0]);
      const delayMs = args[1] === undefined ? 0 : Number(args[1]);
      if (count === null || !Number.isFinite(delayMs) || delayMs < 0) {
        return invalid(`/${directive} expects <count> <delayMs>, got "${args.join(' ')}"`);
      }
      return { kind: directive, count, delayMs };
    }
    case 'fail': {
      const status = Number(args[0] ?? 500);
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        return invalid(`/fail expects an HTTP status 400-599, got "${args[0]}"`);
      }
      return { kind: 'fail', status };
    }
    case 'fail_mid': {
      const count = parseCount(args[0] ?? '0');
      if (count === null) return invalid(`/fail_mid expects <count>, got "${args[0]}"`);
      return { kind: 'fail_mid', count };
    }
    case 'tool':
    case 'tools':
      return parseToolCalls(rest, directive === 'tools');
    case 'hang':
      return { kind: 'hang' };
    default:
      return { kind: 'echo', text: `You said: ${content}` };
  }
}

/**
 * Splits text into stream tokens: each word with the whitespace that follows it, so the
 * concatenation of the tokens is exactly the input. Leading whitespace sticks to the first token.
 */
export function splitWords(text: string): string[] {
  const words = text.match(/\S+\s*/g);
  if (!words) return text ? [text] : [];
  const lead = text.length - text.trimStart().length;
  if (lead > 0) words[0] = text.slice(0, lead) + words[0];
  return words;
}

/** Rough token count of a prompt: whitespace-separated words, which is all the mock needs. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

function parseCount(s: string | undefined): number | null {
  const n = Number(s);
  return s !== undefined && Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS ? n : null;
}

function invalid(message: string): Script {
  return { kind: 'invalid', message };
}

/**
 * `<name> <json> [; <name> <json> ...]`. JSON may itself contain `;`, so a segment ends at the
 * first `;` (or end of input) where the text before it parses as JSON — no naive split.
 */
function parseToolCalls(input: string, multiple: boolean): Script {
  const calls: ScriptedToolCall[] = [];
  let rest = input.trim();
  while (rest.length > 0) {
    const nameMatch = /^([A-Za-z0-9_.-]+)\s*/.exec(rest);
    if (!nameMatch) return invalid(`tool name expected at "${rest.slice(0, 40)}"`);
    const name = nameMatch[1]!;
    rest = rest.slice(nameMatch[0].length);
    let args: string | null = null;
    let end = -1;
    for (let at = rest.indexOf(';'); ; at = rest.indexOf(';', at + 1)) {
      const cut = at === -1 ? rest.length : at;
      const candidate = rest.slice(0, cut).trim();
      if (candidate === '' || isJson(candidate)) {
        args = candidate === '' ? '{}' : candidate;
        end = cut;
        break;
      }
      if (at === -1) break;
    }
    if (args === null) return invalid(`arguments of tool "${name}" are not valid JSON`);
    calls.push({ name, arguments: args });
    rest = rest.slice(end + 1).trim();
    if (!multiple && rest.length > 0) return invalid('/tool takes one call; use /tools a {} ; b {}');
  }
  if (calls.length === 0) return invalid(`/${multiple ? 'tools' : 'tool'} expects <name> <json-args>`);
  return { kind: 'tools', calls };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
