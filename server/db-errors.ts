import { sql, type Sql } from '../db/sql.js';
import { codeOf, RERUN } from '../db/tx.js';
import { AppError } from './errors.js';

/** Runs a write and turns a unique or check violation into the coded error clients can act on. */
export async function mapConstraintErrors<T>(work: () => Promise<T>, conflictMessage: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (codeOf(err) === '23505') throw new AppError('CONFLICT', conflictMessage);
    if (codeOf(err) === '23514')
      throw new AppError('BAD_REQUEST', 'the change breaks a rule of the data', { constraint: (err as { constraint?: string }).constraint });
    throw err;
  }
}

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22: a malformed uuid or timestamp, a number out of
 * range, text too long, an invalid byte sequence) are caused by what the client sent, so they are
 * BAD_REQUEST, never INTERNAL. The message names only the class; the offending value is not echoed.
 */
export function dataError(err: unknown): AppError | null {
  const code = codeOf(err);
  if (typeof code !== 'string' || !/^22[0-9A-Z]{3}$/.test(code)) return null;
  return new AppError('BAD_REQUEST', 'a value in the input does not fit its field', { sqlState: code });
}

/** Checks a statement makes by failing with an SQLSTATE of Lilium's own (see `lilium_refuse`, migration 1764200700000). */
export const REFUSALS = {
  sessionEnded: { code: 'LL001', message: 'the session has ended' },
  rerun: RERUN,
} as const;
type Refusal = (typeof REFUSALS)[keyof typeof REFUSALS];

/**
 * 1 when `condition` holds, else the statement fails with `refusal`'s SQLSTATE: the statements sent behind it in the
 * same round trip are then skipped, and its caller tells the refusal from other failures with `isRefusal`.
 */
export const unlessRefused = (condition: Sql, refusal: Refusal): Sql =>
  sql`CASE WHEN ${condition} THEN 1 ELSE lilium_refuse(${sql.raw(`'${refusal.code}'`)}, ${sql.raw(`'${refusal.message}'`)}) END`;

export const isRefusal = (err: unknown, refusal: Refusal): boolean => codeOf(err) === refusal.code;
