/** What a secret is replaced by in a log line. */
export const REDACTED = '[redacted]';

/** Blanked where they are a log object's own keys. */
const TOP_LEVEL = new Set(['token', 'password', 'apiKey', 'ticket', 'authorization']);
/** Blanked one level down, under any key: a whole config, request, message or error logged by mistake. */
const NESTED = new Set(['token', 'password', 'passwordHash', 'apiKey', 'ticket', 'authorization', 'headers', 'env']);

/**
 * A log object with its secrets blanked; the object itself when it holds none (the usual case:
 * nothing is copied), else a copy, so the caller's object is never changed. Blanked: `token`,
 * `password`, `apiKey`, `ticket`, `authorization` at the top; under any top-level key also
 * `passwordHash`, `headers` (a request's, whole), `env` (a child process's) and `llm.apiKey`.
 *
 * Given to pino as its `bindings` and `log` formatters (`logRedaction`) in place of its `redact`
 * option. With wildcard paths that option parses every path again, character by character, for
 * every value it checks: a child logger with four bindings and one line from it cost 23.4–23.6 µs
 * and ~8–16 KB of garbage against 9.2–9.8 µs this way (microbenchmark, 2-core VM), and every turn
 * makes a child in the plane and two in the control plane.
 */
export function redactSecrets<T extends object>(o: T): T {
  let out: T | null = null;
  for (const key in o) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) continue;
    const value = (o as Record<string, unknown>)[key];
    const blanked = TOP_LEVEL.has(key) ? REDACTED : redactNested(value);
    if (blanked !== value) (out ??= copyOf(o))[key as keyof T] = blanked as T[keyof T];
  }
  return out ?? o;
}

function redactNested(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  let out: Record<string, unknown> | null = null;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const inner = (value as Record<string, unknown>)[key];
    let blanked = inner;
    if (NESTED.has(key)) blanked = REDACTED;
    else if (key === 'llm' && typeof inner === 'object' && inner !== null && Object.prototype.hasOwnProperty.call(inner, 'apiKey')) {
      blanked = copyOf(inner);
      (blanked as Record<string, unknown>).apiKey = REDACTED;
    }
    if (blanked !== inner) (out ??= copyOf(value as Record<string, unknown>))[key] = blanked;
  }
  return out ?? value;
}

/**
 * A shallow copy with the same prototype and every own property, non-enumerable ones included: an
 * Error keeps its class, `message` and `stack` for pino's error serializer. Copied properties are
 * plain writable values, so blanking one never trips over a getter or a frozen original.
 */
function copyOf<T extends object>(o: T): T {
  const copy = Object.create(Object.getPrototypeOf(o) as object | null) as T;
  for (const key of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key)!;
    Object.defineProperty(copy, key, { value: 'value' in d ? d.value : (o as Record<PropertyKey, unknown>)[key], enumerable: d.enumerable ?? false, writable: true, configurable: true });
  }
  return copy;
}

/** pino's `formatters` that blank secrets in every log object and in the root logger's bindings. */
export const logRedaction = { bindings: redactSecrets, log: redactSecrets } as const;

type ChildMaker = { child(bindings: object, options?: object): unknown };

/**
 * Blanks secrets in the bindings of every child of `logger` (and of theirs) too: pino runs its
 * `bindings` formatter for a child only when the child is given options, and that is how most
 * children are made. Children inherit this `child` from the logger.
 */
export function redactChildBindings<L extends ChildMaker>(logger: L): L {
  const child = logger.child;
  logger.child = function (this: L, bindings: object, options?: object) {
    return child.call(this, redactSecrets(bindings), options);
  };
  return logger;
}
