import { createHash } from 'node:crypto';
import type { Tx } from '../../db/tx.js';
import { AppError } from '../errors.js';
import type { Ctx } from './context.js';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Runs `run` at most once per (user, key). The key row is inserted in the same transaction as the
 * work: a racing twin blocks on the uncommitted row, then replays the committed result (or runs,
 * if the first rolled back). Failures roll back with the work, so only successes are remembered.
 */
export async function once(ctx: Ctx, userId: string, event: string, input: { idempotencyKey: string }, run: (tx: Tx) => Promise<unknown>): Promise<unknown> {
  const hash = createHash('sha256').update(canonical({ event, input })).digest('hex');
  return ctx.tx(async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys (user_id, key, event, request_hash, result) VALUES ($1, $2, $3, $4, 'null')
       ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`,
      [userId, input.idempotencyKey, event, hash],
    );
    if (claimed.length === 0) {
      const [row] = await tx.query<{ request_hash: string; result: unknown }>(
        'SELECT request_hash, result FROM idempotency_keys WHERE user_id = $1 AND key = $2',
        [userId, input.idempotencyKey],
      );
      if (!row || row.request_hash !== hash) {
        throw new AppError('IDEMPOTENCY_MISMATCH', 'this idempotency key was used with a different input');
      }
      return row.result;
    }
    const result = await run(tx);
    await tx.query('UPDATE idempotency_keys SET result = $3 WHERE user_id = $1 AND key = $2', [userId, input.idempotencyKey, JSON.stringify(result ?? null)]);
    return result;
  });
}

/** Keys are kept for at least a day; older ones are swept. */
export async function sweepIdempotencyKeys(ctx: Pick<Ctx, 'deps'>): Promise<number> {
  const rows = await ctx.deps.db.query<{ n: number }>(
    `WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < now() - interval '48 hours' RETURNING 1) SELECT count(*)::int AS n FROM gone`,
  );
  return rows[0]?.n ?? 0;
}
