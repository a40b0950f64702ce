import { z } from 'zod';
import { errors, type DetailsOf, type ErrorCode, type WireError } from '../protocol/errors.js';

type ServerCode = Exclude<ErrorCode, 'INTERNAL'>;
/** The details argument: required where every form of the code carries details, else optional. */
type DetailsArg<C extends ServerCode> = undefined extends DetailsOf<C> ? [details?: DetailsOf<C>] : [details: DetailsOf<C>];

/**
 * An expected failure: its code, message and details go to the client as they are. The details are
 * type-checked against the code's schema in protocol/errors.ts, and checked again at run time when
 * `VALIDATE_RESULTS` is on.
 */
export class AppError<C extends ServerCode = ServerCode> extends Error {
  override name = 'AppError';
  readonly details: DetailsOf<C>;
  constructor(
    readonly code: C,
    message: string,
    ...[details]: DetailsArg<C>
  ) {
    super(message);
    this.details = details as DetailsOf<C>;
  }

  /** The error as it travels. */
  toWire(): WireError {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } as WireError;
  }
}

/** Null when `err.details` is what protocol/errors.ts promises for its code; otherwise what is wrong with them. */
export function detailsMismatch(err: AppError): string | null {
  const checked = errors[err.code].details.safeParse(err.details);
  return checked.success ? null : z.prettifyError(checked.error);
}

/** A caller whose session ended after its socket was bound (logout, revocation, account disabled). */
export const sessionEnded = () => new AppError('UNAUTHENTICATED', 'this session has ended; sign in again');

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (why = 'not allowed') => new AppError('FORBIDDEN', why);
