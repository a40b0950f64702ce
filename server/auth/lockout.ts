import type { Tx } from '../../db/tx.js';
import type { Config } from '../config.js';
import type { Reader } from '../rpc/context.js';

type Lockout = Config['lockout'];

/**
 * When the login (as typed) or the client address has `max` failures inside the window, answers
 * when the oldest of those leaves it; otherwise null. Counting by login rather than account means
 * an unknown login locks exactly like a real one, so lockout reveals nothing.
 */
export async function lockedUntil(r: Reader, lockout: Lockout, loginKey: string, address: string | null): Promise<Date | null> {
  const [row] = await r.query<{ until: Date | null }>(
    `SELECT greatest(
       (SELECT at FROM login_failures WHERE login_key = $1 AND at > now() - make_interval(secs => $3) ORDER BY at DESC OFFSET $4 - 1 LIMIT 1),
       (SELECT at FROM login_failures WHERE address = $2 AND at > now() - make_interval(secs => $3) ORDER BY at DESC OFFSET $4 - 1 LIMIT 1)
     ) + make_interval(secs => $3) AS until`,
    [loginKey, address, lockout.windowS, lockout.maxFailures],
  );
  return row?.until ? new Date(row.until) : null;
}

/** Records a failure; answers whether it is the one that locked the login or the address. */
export async function recordFailure(tx: Tx, lockout: Lockout, loginKey: string, address: string | null): Promise<boolean> {
  await tx.query('INSERT INTO login_failures (login_key, address) VALUES ($1, $2)', [loginKey, address]);
  return (await lockedUntil(tx, lockout, loginKey, address)) !== null;
}

export async function clearFailures(tx: Pick<Tx, 'query'>, loginKeys: string[]): Promise<void> {
  await tx.query('DELETE FROM login_failures WHERE login_key = ANY($1)', [loginKeys]);
}

/** The login keys an account can be typed as. */
export function loginKeysOf(user: { email: string | null; phone: string | null }): string[] {
  return [user.email?.toLowerCase(), user.phone].filter((k): k is string => !!k);
}
