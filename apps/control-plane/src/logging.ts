import pino, { type Logger } from 'pino';

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

export function createLogger(level: string, service: string): Logger {
  return pino({ level, base: { service }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
