import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Properties of database errors that hold a statement's bound values or quote them (TypeORM's
 * QueryFailedError copies the driver's error onto itself, `detail` repeats a conflicting key):
 * passwords' hashes, tokens and personal data must never reach a log.
 */
const BOUND_VALUES = ['parameters', 'driverError', 'detail', 'where'];

function scrub(value: unknown, depth = 0): unknown {
  if (!value || typeof value !== 'object' || depth > 5) return value;
  const record = value as Record<string, unknown>;
  for (const key of BOUND_VALUES) delete record[key];
  if ('cause' in record) record.cause = scrub(record.cause, depth + 1);
  if (Array.isArray(record.aggregateErrors)) record.aggregateErrors = record.aggregateErrors.map((e) => scrub(e, depth + 1));
  return record;
}

/** pino's error serializer, less every property that can carry SQL-bound values. */
export function safeErr(err: unknown): unknown {
  return scrub(err instanceof Error ? pino.stdSerializers.err(err) : err);
}

/** The logger with the safe error serializer, whoever made it (tests pass their own). */
export function withSafeErrors(log: Logger): Logger {
  return log.child({}, { serializers: { err: safeErr } });
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    serializers: { err: safeErr },
    redact: { paths: ['password', '*.password', '*.newPassword', '*.currentPassword', '*.refreshToken', '*.token'], censor: '[hidden]' },
  });
}
