import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { logRedaction, redactChildBindings } from '@semibot/telemetry';

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

export function createLogger(level: string, service: string, destination?: NodeJS.WritableStream): Logger {
  // secrets are blanked in every line (@semibot/telemetry's redactSecrets says which)
  const options = { level, base: { service }, formatters: logRedaction };
  const stream = destination ?? (pretty ? prettyModule().build({ ...PRETTY, sync: true }) : undefined);
  return redactChildBindings(stream ? pino(options, stream) : pino(options));
}

/** Writes a log line another process produced (a plane's JSON line) as this process's own would be. */
export function writeLogLine(line: string): void {
  if (!pretty) return void process.stdout.write(line + '\n');
  formatLine ??= prettyModule().prettyFactory(PRETTY);
  process.stdout.write(formatLine(line));
}
