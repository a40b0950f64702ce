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

/** A caller whose session ended after its socket was bound (logout, revocation, account disabled). */
export const sessionEnded = () => new AppError('UNAUTHENTICATED', 'this session has ended; sign in again');

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (why = 'not allowed') => new AppError('FORBIDDEN', why);
