import { createHash } from 'node:crypto';
import { sql } from '../../db/sql.js';
import type { IdempotencyKeyRow } from '../../db/tables.js';
import { AppError } from '../errors.js';
import type { Ctx, TxCtx } from './context.js';

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
export async function once(
  ctx: Ctx,
  userId: string,
  event: string,
  input: { idempotencyKey: string },
  run: (ctx: TxCtx) => Promise<unknown>,
): Promise<unknown> {
  const hash = createHash('sha256').update(canonical({ event, input })).digest('hex');
  const key = sql`user_id = ${userId} AND key = ${input.idempotencyKey}`;
  const claim = sql`
      INSERT INTO idempotency_keys (user_id, key, event, request_hash, result) VALUES (${userId}, ${input.idempotencyKey}, ${event}, ${hash}, 'null')
      ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`.prepared();
  // The claim goes in one round trip with the session check, and `run` starts only once it is answered.
  return ctx.txAfter(claim, async (ctx, claimed) => {
    if (claimed.length === 0) {
      const [row] = await ctx.query<Pick<IdempotencyKeyRow, 'request_hash' | 'result'>>(sql`SELECT request_hash, result FROM idempotency_keys WHERE ${key}`);
      if (!row || row.request_hash !== hash) {
        throw new AppError('IDEMPOTENCY_MISMATCH', 'this idempotency key was used with a different input');
      }
      return row.result;
    }
    const result = await run(ctx);
    // Written with the transaction's other held writes, just before COMMIT.
    const write = sql`UPDATE idempotency_keys SET result = ${JSON.stringify(result ?? null)} WHERE ${key}`;
    ctx.hold(() => ({ write }));
    return result;
  });
}

/** Keys are kept for at least a day; older ones are swept. */
export async function sweepIdempotencyKeys(ctx: Pick<Ctx, 'deps'>): Promise<number> {
  const rows = await ctx.deps.db.query<{ n: number }>(
    sql`WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < now() - interval '48 hours' RETURNING 1) SELECT count(*)::int AS n FROM gone`,
  );
  return rows[0]?.n ?? 0;
}
