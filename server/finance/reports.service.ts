import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { refuseZoneLimited } from '../auth/zone-scope.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { account, balances } from './ledger.js';
import { minorOf, sumMinor } from './money.js';
import { assertFinanceReach } from './settlements.service.js';

export async function vendorBalance(ctx: Ctx, { vendorId }: ParsedInputOf<'finance:vendor-balance'>): Promise<ResultOf<'finance:vendor-balance'>> {
  await assertFinanceReach(ctx, actorOf(ctx), vendorId);
  const b = await balances(ctx, [account.vendorPayable(vendorId), account.vendorCash(vendorId)]);
  const payable = -b.get(account.vendorPayable(vendorId))!;
  const cashHeld = b.get(account.vendorCash(vendorId))!;
  return { vendorId, payable, cashHeld, net: minorOf(payable - cashHeld) };
}

/** Revenue accounts carry credit (negative) balances; reported here as positive earnings. */
export async function platformEarnings(ctx: Ctx, range: ParsedInputOf<'finance:platform-earnings'>): Promise<ResultOf<'finance:platform-earnings'>> {
  refuseZoneLimited(actorOf(ctx), 'read the platform’s earnings');
  const b = await balances(ctx, [account.commission, account.deliveryFees, account.cashDifferences], range);
  const commission = -b.get(account.commission)!;
  const deliveryFees = -b.get(account.deliveryFees)!;
  const cashDifferences = -b.get(account.cashDifferences)!;
  return { from: range.from, to: range.to, commission, deliveryFees, cashDifferences, total: sumMinor([commission, deliveryFees, cashDifferences]) };
}

export async function cashFlow(ctx: Ctx, range: ParsedInputOf<'finance:cash-flow'>): Promise<ResultOf<'finance:cash-flow'>> {
  refuseZoneLimited(actorOf(ctx), 'read the platform’s cash flow');
  const [row] = await ctx.query<{ collected: string; to_vendors: string; to_platform: string; paid: string }>(sql`
    SELECT coalesce(sum(e.amount) FILTER (WHERE t.kind = 'CASH_COLLECTED' AND e.account LIKE 'driver_cash:%'), 0)::text AS collected,
           coalesce(sum(e.amount) FILTER (WHERE t.kind = 'CASH_HANDOVER' AND e.account LIKE 'vendor_cash:%'), 0)::text AS to_vendors,
           coalesce(sum(e.amount) FILTER (WHERE t.kind = 'CASH_HANDOVER' AND e.account = ${account.platformCash}), 0)::text AS to_platform,
           coalesce(-sum(e.amount) FILTER (WHERE t.kind = 'SETTLEMENT_PAID' AND e.account = ${account.platformCash}), 0)::text AS paid
      FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id WHERE t.at >= ${range.from}::timestamptz AND t.at < ${range.to}::timestamptz`);
  return {
    from: range.from,
    to: range.to,
    collected: minorOf(row!.collected),
    toVendors: minorOf(row!.to_vendors),
    toPlatform: minorOf(row!.to_platform),
    paidToVendors: minorOf(row!.paid),
  };
}
