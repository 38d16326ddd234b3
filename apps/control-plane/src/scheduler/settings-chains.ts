import type { RuntimeType, VmMode, VmStatus } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { runtimeTypeSettings, vmModeSettings } from '../store/users.js';

/** VM mode: the user's setting > the agent's > the org's > the deployment's default (SEMIBOT_VM_MODE). */
export async function resolveVmMode(q: Queryable, userId: string, agentId: string | null, fallback: VmMode): Promise<VmStatus['resolvedMode']> {
  const s = await vmModeSettings(q, userId, agentId);
  if (s.user) return { mode: s.user, from: 'user' };
  if (s.agent) return { mode: s.agent, from: 'agent' };
  if (s.org) return { mode: s.org, from: 'org' };
  return { mode: fallback, from: 'default' };
}

/**
 * Runtime type: the session's choice > the agent's > the user's > the org's > the deployment's
 * default (SEMIBOT_RUNTIME_TYPE). Deliveries walk the same chain in SQL (store/runs.ts); this is
 * the one that says where the answer came from, for GET /vm/status.
 */
export async function resolveRuntimeType(
  q: Queryable,
  at: { userId: string; agentId: string | null; sessionId: string | null },
  fallback: RuntimeType,
): Promise<VmStatus['resolvedRuntime']> {
  const s = await runtimeTypeSettings(q, at.userId, at.agentId, at.sessionId);
  for (const from of ['session', 'agent', 'user', 'org'] as const) {
    const type = s[from];
    if (type) return { type, from };
  }
  return { type: fallback, from: 'default' };
}

/**
 * Asks `probe` every 100 ms until it has an answer, `timeoutMs` passed or `stop()` says so: for
 * planes that dial in by themselves (a user's machine, the pool), where there is nothing to start.
 */
export async function pollFor<T>(probe: () => Promise<T | null> | T | null, timeoutMs: number, stop: () => boolean): Promise<T | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() >= until || stop()) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
