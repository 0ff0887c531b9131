import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** Paths never written to logs, wherever they appear in a log object. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.api_key',
  '*.redisUrl',
];

/**
 * JSON logs with the fields our dashboards and runbooks rely on: `service`, `role`, `event`,
 * and `request_id`/`job_id`/`stage` on every line where they exist (children carry them).
 */
export function createLogger(options: {
  level: string;
  role: string;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'doc-transcribe', role: options.role, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/** `redis://user:secret@host:6379/2` → `redis://host:6379/2`: safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable url>';
  }
}

/** Error fields for a log line: type, code and message, never the whole object graph. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { err: { type: error.name, message: error.message, code, stack: error.stack } };
  }
  return { err: { message: String(error) } };
}
