import type { Tx } from '../../db/tx.js';
import type { Reader } from '../../db/tx.js';
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
export async function post(tx: Tx, p: Posting, lines: Array<[account: string, amount: number]>): Promise<number> {
  const entries = lines.filter(([, amount]) => amount !== 0);
  if (entries.reduce((s, [, a]) => s + a, 0) !== 0) throw new Error(`unbalanced ledger posting: ${JSON.stringify(lines)}`);
  const [{ id }] = (await tx.query<{ id: number }>(
    'INSERT INTO ledger_transactions (kind, order_id, actor_id, idempotency_key, memo) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [p.kind, p.orderId ?? null, p.actorId, p.idempotencyKey ?? null, p.memo ?? null],
  )) as [{ id: number }];
  await tx.query('INSERT INTO ledger_entries (tx_id, account, amount) SELECT $1, unnest($2::text[]), unnest($3::bigint[])', [
    id,
    entries.map(([a]) => a),
    entries.map(([, amount]) => amount),
  ]);
  return id;
}

/** Balances of accounts (0 for one never posted to), optionally only transactions in [from, to). */
export async function balances(r: Reader, accounts: string[], range?: { from: string; to: string }): Promise<Map<string, number>> {
  const rows = await r.query<{ account: string; balance: string }>(
    `SELECT e.account, sum(e.amount)::text AS balance FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
      WHERE e.account = ANY($1::text[]) AND ($2::timestamptz IS NULL OR t.at >= $2) AND ($3::timestamptz IS NULL OR t.at < $3) GROUP BY e.account`,
    [accounts, range?.from ?? null, range?.to ?? null],
  );
  const out = new Map(accounts.map((a) => [a, 0]));
  for (const row of rows) out.set(row.account, minorOf(row.balance));
  return out;
}

/** Commission on a goods value: basis points, rounded half up to the minor unit (exact in integers). */
export function commissionOf(goods: number, bps: number): number {
  return Number((BigInt(goods) * BigInt(bps) + 5_000n) / 10_000n);
}
