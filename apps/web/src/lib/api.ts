/**
 * The one door to the HTTP API: JSON in and out, the bearer token from localStorage, and every
 * failure turned into an ApiError carrying the API's stable code so views can show and switch on it.
 */
const TOKEN_KEY = 'semibot.token';
export const API_BASE = '/api/v1';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

type Listener = (token: string | null) => void;
const listeners = new Set<Listener>();

export const tokenStore = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set(token: string | null) {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
    for (const l of listeners) l(token);
  },
  subscribe(l: Listener) {
    listeners.add(l);
    return () => void listeners.delete(l);
  },
};

export const authHeaders = (): Record<string, string> => {
  const t = tokenStore.get();
  return t ? { authorization: `Bearer ${t}` } : {};
};

export async function api<T>(method: string, path: string, body?: unknown, opts: { raw?: BodyInit; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders() };
  let payload: BodyInit | undefined = opts.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  } else if (opts.contentType) headers['content-type'] = opts.contentType;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, { method, headers, body: payload ?? null });
  } catch (err) {
    throw new ApiError(0, 'NETWORK_ERROR', `could not reach the server (${(err as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* a non-JSON body (a proxy's error page): reported below by status */
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; retryAfterMs?: number } } | null)?.error;
    // an expired or revoked token: sign out so the user lands on the sign-in page, not a broken view
    if (res.status === 401 && !path.startsWith('/auth/')) tokenStore.set(null);
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.retryAfterMs);
  }
  return parsed as T;
}

export const errorOf = (err: unknown): { code: string; message: string } =>
  err instanceof ApiError ? { code: err.code, message: err.message } : { code: 'CLIENT_ERROR', message: String((err as Error)?.message ?? err) };
