import { sql } from '../../db/sql.js';
import type { LedgerEntryRow, LedgerTransactionRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import type { TxCtx } from '../rpc/context.js';
import { minorOf } from './money.js';

/** Ledger accounts. Debits are positive, credits negative; the whole ledger always sums to zero. */
export const account = {
  /** Cash a driver carries (asset). */
  driverCash: (driverId: string) => `driver_cash:${driverId}`,
  /** What the platform owes a vendor for collected orders (liability: a credit balance). */
  vendorPayable: (vendorId: string) => `vendor_payable:${vendorId}`,
  /** Cash a vendor's staff took from drivers, still to be netted in a settlement (asset). */
  vendorCash: (vendorId: string) => `vendor_cash:${vendorId}`,
  platformCash: 'platform_cash',
  commission: 'platform_commission',
  deliveryFees: 'platform_delivery_fees',
  /** Shorts are debits (a loss), overs credits. */
  cashDifferences: 'cash_differences',
} as const;

export interface Posting {
  kind: 'CASH_COLLECTED' | 'CASH_HANDOVER' | 'SETTLEMENT_PAID' | 'REVERSAL';
  orderId?: string | null;
  actorId: string | null;
  idempotencyKey?: string | null;
  memo?: string | null;
}

/**
 * Posts one balanced, immutable transaction. Zero lines are dropped; an unbalanced set is a bug and fails
 * here, and the database checks the balance again at commit.
 */
export async function post(ctx: TxCtx, p: Posting, lines: Array<[account: string, amount: number]>): Promise<number> {
  const entries = lines.filter(([, amount]) => amount !== 0);
  if (entries.reduce((s, [, a]) => s + a, 0) !== 0) throw new Error(`unbalanced ledger posting: ${JSON.stringify(lines)}`);
  const accounts = entries.map(([a]) => a);
  const amounts = entries.map(([, amount]) => amount);
  // The transaction and its entries in one statement: the entries' foreign key is checked at its end, the transaction's row written by then.
  const [{ id }] = (await ctx.query<Pick<LedgerTransactionRow, 'id'>>(
    sql`
    WITH t AS (
      INSERT INTO ledger_transactions (kind, order_id, actor_id, idempotency_key, memo)
      VALUES (${p.kind}, ${p.orderId ?? null}, ${p.actorId}, ${p.idempotencyKey ?? null}, ${p.memo ?? null}) RETURNING id
    ), e AS (
      INSERT INTO ledger_entries (tx_id, account, amount) SELECT t.id, l.account, l.amount FROM t, unnest(${accounts}::text[], ${amounts}::bigint[]) AS l(account, amount)
    )
    SELECT id FROM t`.prepared(),
  )) as [Pick<LedgerTransactionRow, 'id'>];
  return id;
}

/** Balances of accounts (0 for one never posted to), optionally only transactions in [from, to). */
export async function balances(r: Reader, accounts: string[], range?: { from: string; to: string }): Promise<Map<string, number>> {
  const within = range ? sql`t.at >= ${range.from}::timestamptz AND t.at < ${range.to}::timestamptz` : sql`true`;
  const rows = await r.query<Pick<LedgerEntryRow, 'account'> & { balance: string }>(sql`
    SELECT e.account, sum(e.amount)::text AS balance FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
     WHERE e.account = ANY(${accounts}::text[]) AND ${within} GROUP BY e.account`);
  const out = new Map(accounts.map((a) => [a, 0]));
  for (const row of rows) out.set(row.account, minorOf(row.balance));
  return out;
}

/** Commission on a goods value: basis points, rounded half up to the minor unit (exact in integers). */
export function commissionOf(goods: number, bps: number): number {
  return Number((BigInt(goods) * BigInt(bps) + 5_000n) / 10_000n);
}
