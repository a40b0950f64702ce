import type { ErrorCode } from '../protocol/errors.js';

/** An expected failure: its code and message go to the client as they are. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: Exclude<ErrorCode, 'INTERNAL'>,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (why = 'not allowed') => new AppError('FORBIDDEN', why);
