import { sql } from '../../db/sql.js';
import type { LoginFailureRow } from '../../db/tables.js';
import { AppError } from '../errors.js';
import type { Ctx, TxCtx } from '../rpc/context.js';

/**
 * What failures are counted against: the account once the login resolves to one (whether typed as
 * email or phone), otherwise the login as typed, so an unknown login locks exactly like a real one.
 */
export function subjectOf(accountId: string | null, loginKey: string): string {
  return accountId ? accountSubject(accountId) : `login:${loginKey}`;
}

const accountSubject = (accountId: string) => `account:${accountId}`;

/** A reserved sign-in attempt: a failure row until the password proves right. */
export interface Attempt {
  id: LoginFailureRow['id'];
  /** This attempt takes the subject's last place: if it fails, it is the one that locks. */
  locks: boolean;
}

// Two-key advisory locks (this space, hash of the subject) never meet the one-key locks used elsewhere.
const ATTEMPT_LOCK_SPACE = 7462100;

/**
 * Reserves one attempt before the password is checked. The count and the insert run under a
 * transaction lock on the subject, so however many attempts arrive at once, on however many nodes,
 * at most `maxFailures` are ever checked per subject per window. The row counts as a failure from
 * the start: a right password deletes it, a wrong one (or a crash) leaves it.
 * LOCKED `{ retryAt, retryInS }` when the subject has no place left. RATE_LIMITED `{ retryInMs }`
 * when the client address has used its own, larger budget of failures: an address is only slowed
 * down, never locks an account that has no failures of its own (behind a proxy or a carrier's NAT,
 * many people share one address).
 */
export async function reserveAttempt(ctx: Ctx, subject: string): Promise<Attempt> {
  const { lockout } = ctx.deps.config;
  return ctx.tx(async (ctx) => {
    await ctx.query(sql`SELECT pg_advisory_xact_lock(${ATTEMPT_LOCK_SPACE}, hashtext(${subject}))`);
    const window = sql`make_interval(secs => ${lockout.windowS})`;
    const addressWindow = sql`make_interval(secs => ${lockout.addressWindowS})`;
    // An attempt still being checked is not yet a failure; one left pending for a minute (its node died) counts as one.
    const failed = sql`(NOT pending OR at < now() - interval '1 minute')`;
    const [row] = await ctx.query<{ locked_until: Date | null; slowed_until: Date | null; used: number }>(sql`
      SELECT (SELECT at FROM login_failures WHERE login_key = ${subject} AND at > now() - ${window} AND ${failed}
               ORDER BY at DESC OFFSET ${lockout.maxFailures} - 1 LIMIT 1) + ${window} AS locked_until,
             (SELECT at FROM login_failures WHERE address = ${ctx.clientAddress} AND at > now() - ${addressWindow} AND ${failed}
               ORDER BY at DESC OFFSET ${lockout.addressMaxFailures} - 1 LIMIT 1) + ${addressWindow} AS slowed_until,
             (SELECT count(*)::int FROM login_failures WHERE login_key = ${subject} AND at > now() - ${window}) AS used`);
    if (row!.locked_until) {
      const until = new Date(row!.locked_until);
      throw new AppError('LOCKED', 'too many failed logins; try again later or ask an admin to unlock the account', {
        retryAt: until.toISOString(),
        retryInS: Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000)),
      });
    }
    if (row!.slowed_until) {
      throw new AppError('RATE_LIMITED', 'too many failed logins from this address; slow down', {
        retryInMs: Math.max(1, new Date(row!.slowed_until).getTime() - Date.now()),
      });
    }
    // Failures and attempts being checked together stay within the limit, so concurrency buys no extra guesses;
    // a right password that finds the places taken by others being checked waits a moment rather than being locked out.
    if (row!.used >= lockout.maxFailures) {
      throw new AppError('RATE_LIMITED', 'another sign-in to this account is being checked; retry in a moment', { retryInMs: 1000 });
    }
    const [attempt] = await ctx.query<Pick<LoginFailureRow, 'id'>>(
      sql`INSERT INTO login_failures (login_key, address, pending) VALUES (${subject}, ${ctx.clientAddress}, true) RETURNING id`,
    );
    return { id: attempt!.id, locks: row!.used + 1 === lockout.maxFailures };
  });
}

/** The password was right (or never checked): the attempt is not a failure. */
export async function forgetAttempt(ctx: Ctx, attempt: Attempt): Promise<void> {
  await ctx.tx((ctx) => ctx.query(sql`DELETE FROM login_failures WHERE id = ${attempt.id}`));
}

/** Clears an account's failures (an admin's unlock, a password reset). */
export async function clearFailures(ctx: TxCtx, accountId: string): Promise<void> {
  await ctx.query(sql`DELETE FROM login_failures WHERE login_key = ${accountSubject(accountId)}`);
}
