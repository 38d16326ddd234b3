import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/**
 * Paths pino blanks in every log line. Secrets have no business in logs; these catch them if a
 * future log call passes a whole config, request or message object by mistake.
 */
export const REDACT_PATHS = [
  'token',
  'password',
  'apiKey',
  'ticket',
  'authorization',
  '*.token',
  '*.password',
  '*.passwordHash',
  '*.apiKey',
  '*.ticket',
  '*.authorization',
  '*.headers',
  '*.env',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.llm.apiKey',
  'llm.apiKey',
];

/**
 * Log lines for people on a terminal, JSON lines for machines (a file, a pipe, a log collector);
 * SEMIBOT_LOG_FORMAT=json|pretty decides instead. Planes log JSON: their lines go through
 * `writeLogLine` so a terminal shows both sides of a turn alike.
 */
const pretty = (process.env.SEMIBOT_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
const PRETTY: PrettyOptions = { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true };
type PinoPretty = typeof import('pino-pretty');
// loaded only for a terminal: JSON output needs none of it
const prettyModule = (): PinoPretty => createRequire(import.meta.url)('pino-pretty') as PinoPretty;
let formatLine: ((line: string) => string) | null = null;

export function createLogger(level: string, service: string): Logger {
  const options = { level, base: { service }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return pretty ? pino(options, prettyModule().build({ ...PRETTY, sync: true })) : pino(options);
}

/** Writes a log line another process produced (a plane's JSON line) as this process's own would be. */
export function writeLogLine(line: string): void {
  if (!pretty) return void process.stdout.write(line + '\n');
  formatLine ??= prettyModule().prettyFactory(PRETTY);
  process.stdout.write(formatLine(line));
}
