import type { AgentCreateBody, RegisterBody, SessionCreateBody } from '@semibot/protocol';

/** Setup calls through the public REST API (never timed: only the streams are measured). */

export interface Bearer {
  authorization: string;
}

export interface BenchUser {
  token: string;
  auth: Bearer;
  agentId: string;
}

let seq = 0;

export async function call<T>(base: string, method: string, path: string, body: unknown, auth?: Bearer): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A fresh user (own org, so own execution plane) with one agent. */
export async function newUser(base: string): Promise<BenchUser> {
  const reg: RegisterBody = { email: `bench-${process.pid}-${Date.now()}-${seq++}@example.com`, password: 'bench password 123' };
  const { token } = await call<{ token: string }>(base, 'POST', '/auth/register', reg);
  const auth = { authorization: `Bearer ${token}` };
  const agent: Pick<AgentCreateBody, 'name' | 'systemPrompt'> = { name: 'bench agent', systemPrompt: 'You are a benchmark agent.' };
  const { id } = await call<{ id: string }>(base, 'POST', '/agents', agent, auth);
  return { token, auth, agentId: id };
}

/** `count` sessions of the user's agent, created `parallel` at a time. */
export async function newSessions(base: string, user: BenchUser, count: number, parallel = 8): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const body: SessionCreateBody = { agentId: user.agentId };
      ids[i] = (await call<{ id: string }>(base, 'POST', '/sessions', body, user.auth)).id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return ids;
}
