import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { CashCollection } from '../../protocol/finance.js';
import type { OrderStatus } from '../../protocol/ordering.js';
import { sql } from '../../db/sql.js';
import type { CashCollectionRow, CashHandoverRow, UserRow } from '../../db/tables.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { assertInZones, refuseZoneLimited } from '../auth/zone-scope.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { notify, vendorManagers } from '../notifications/notify.js';
import { formatMoney } from '../notifications/templates.js';
import { loadOrder } from '../orders/orders.read.js';
import { tell } from '../outbox/outbox.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { isAdmin } from '../auth/zone-scope.js';
import { account, balances, commissionOf, post } from './ledger.js';
import { minorOf, sumMinor } from './money.js';

const toCollection = (c: CashCollectionRow): CashCollection => ({
  id: c.id,
  orderId: c.order_id,
  driverId: c.driver_id,
  expected: c.expected_minor,
  collected: c.collected_minor,
  difference: c.collected_minor - c.expected_minor,
  reason: c.reason,
  at: new Date(c.at).toISOString(),
});

/**
 * What a driver may book for an order: the total, give or take `bps` basis points of it (rounded down, so a
 * tolerance of 0 accepts exactly the total). Anything further off is refused rather than booked, so a slip of
 * the finger cannot put a fortune or a whole order's shortage on the books.
 */
export function cashRange(expectedMinor: number, bps: number): { expectedMinor: number; minMinor: number; maxMinor: number } {
  const slack = Number((BigInt(expectedMinor) * BigInt(bps)) / 10_000n);
  return { expectedMinor, minMinor: Math.max(expectedMinor - slack, 0), maxMinor: expectedMinor + slack };
}

/** Cash is booked only for a delivered order: before that it is not owed, and a failed or cancelled one owes none. */
function assertCollectable(order: { status: OrderStatus }): void {
  if (order.status !== 'DELIVERED')
    throw new AppError('INVALID_TRANSITION', `cash is collected for a DELIVERED order; this one is ${order.status}`, {
      status: order.status,
      allowed: ['DELIVERED'],
    });
}

/**
 * The driver's cash for a delivered order, posted in one balanced transaction: the cash in the driver's hands,
 * the vendor's share owed to it, the platform's commission (rate snapshotted on the order) and delivery fee,
 * and any short or over as a cash difference.
 */
export async function collectCash(ctx: Ctx, input: ParsedInputOf<'cash:collect'>): Promise<ResultOf<'cash:collect'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    // The order and whether its cash is booked, in one round trip; the booking is looked at only once the order is found.
    const [order, [done]] = await Promise.all([
      loadOrder(ctx, actor, input.orderId, true),
      ctx.query(sql`SELECT 1 FROM cash_collections WHERE order_id = ${input.orderId}`.prepared()),
    ]);
    assertCollectable(order);
    if (done) throw new AppError('CONFLICT', 'the cash for this order is already recorded');
    const range = cashRange(order.total_minor, ctx.deps.config.cashToleranceBps);
    if (input.amount < range.minMinor || input.amount > range.maxMinor)
      throw new AppError('AMOUNT_OUT_OF_RANGE', `collected ${input.amount} but the order is ${order.total_minor}: recount the cash`, range);
    const difference = input.amount - order.total_minor;
    if (difference !== 0 && !input.reason) throw new AppError('BAD_REQUEST', `collected ${input.amount} but the order is ${order.total_minor}: give a reason`);
    const goods = order.subtotal_minor - order.discount_minor;
    const commission = commissionOf(goods, order.commission_bps);
    // Who hears of it, and the driver's name they see, read in the posting's round trip: neither depends on it.
    const [txId, [driver], managers] = await Promise.all([
      post(ctx, { kind: 'CASH_COLLECTED', orderId: order.id, actorId: actor.userId, idempotencyKey: input.idempotencyKey, memo: input.reason }, [
        [account.driverCash(actor.userId), input.amount],
        [account.vendorPayable(order.vendor_id), -(goods - commission)],
        [account.commission, -commission],
        [account.deliveryFees, -order.delivery_fee_minor],
        [account.cashDifferences, -difference],
      ]),
      ctx.query<Pick<UserRow, 'name'>>(sql`SELECT name FROM users WHERE id = ${actor.userId}`.prepared()),
      vendorManagers(ctx, order.vendor_id),
    ]);
    const [row] = await ctx.query<CashCollectionRow>(
      sql`
      INSERT INTO cash_collections (order_id, driver_id, expected_minor, collected_minor, reason, ledger_tx)
      VALUES (${order.id}, ${actor.userId}, ${order.total_minor}, ${input.amount}, ${input.reason ?? null}, ${txId}) RETURNING *`.prepared(),
    );
    const collection = toCollection(row!);
    await tell(ctx, [rooms.vendor(order.vendor_id), ...adminRooms([order.zone_id])], 'cash:collected', collection);
    await notify(ctx, {
      kind: 'cash.collected',
      userIds: managers,
      vars: { number: order.number, driver: driver!.name, amount: formatMoney(input.amount, order.currency) },
      link: { type: 'order', id: order.id },
    });
    return collection;
  });
}

/**
 * Cash passes from a driver to vendor staff (into that vendor's till, netted at settlement) or to an admin acting
 * as the platform's cashier. The driver's row is locked, so two handovers at once cannot spend the same cash.
 */
export async function handOver(ctx: Ctx, input: ParsedInputOf<'cash:handover'>): Promise<ResultOf<'cash:handover'>> {
  const actor = actorOf(ctx);
  const vendorId = isAdmin(actor.role) ? null : actor.vendorId;
  return ctx.tx(async (ctx) => {
    const [driver] = await ctx.query<Pick<UserRow, 'vendor_id'>>(
      sql`SELECT vendor_id FROM users WHERE id = ${input.driverId} AND role = 'DRIVER' AND deleted_at IS NULL FOR UPDATE`,
    );
    if (!driver) throw notFound('driver');
    await assertInZones(ctx, actor, 'driver', input.driverId);
    if (vendorId && driver.vendor_id && driver.vendor_id !== vendorId) throw forbidden('this driver works in another vendor’s fleet');
    const held = (await balances(ctx, [account.driverCash(input.driverId)])).get(account.driverCash(input.driverId))!;
    if (input.amount > held) throw new AppError('CONFLICT', `the driver holds ${held}`, { held });
    const txId = await post(ctx, { kind: 'CASH_HANDOVER', actorId: actor.userId, idempotencyKey: input.idempotencyKey, memo: input.note }, [
      [vendorId ? account.vendorCash(vendorId) : account.platformCash, input.amount],
      [account.driverCash(input.driverId), -input.amount],
    ]);
    const [row] = await ctx.query<Pick<CashHandoverRow, 'id' | 'at'>>(sql`
      INSERT INTO cash_handovers (driver_id, amount_minor, received_by, vendor_id, note, ledger_tx)
      VALUES (${input.driverId}, ${input.amount}, ${actor.userId}, ${vendorId}, ${input.note ?? null}, ${txId}) RETURNING id, at`);
    return {
      id: row!.id,
      driverId: input.driverId,
      amount: input.amount,
      receivedBy: actor.userId,
      vendorId,
      remaining: held - input.amount,
      at: new Date(row!.at).toISOString(),
    };
  });
}

/**
 * Drivers holding cash, how much, and since when: the oldest collection not covered by handovers
 * (first in, first out), found where the running total of collections passes what was handed over.
 */
export async function pendingCash(ctx: Ctx): Promise<ResultOf<'finance:pending-cash'>> {
  refuseZoneLimited(actorOf(ctx), 'read the cash every driver holds');
  const rows = await ctx.query<{ driver_id: string; name: UserRow['name']; amount: string; since: Date }>(
    sql`WITH held AS (
         SELECT substr(account, 13)::uuid AS driver_id, sum(amount) AS amount FROM ledger_entries
          WHERE account LIKE 'driver_cash:%' GROUP BY account HAVING sum(amount) > 0),
       handed AS (SELECT driver_id, sum(amount_minor) AS amount FROM cash_handovers WHERE driver_id IN (SELECT driver_id FROM held) GROUP BY driver_id),
       running AS (
         SELECT driver_id, at, sum(collected_minor) OVER (PARTITION BY driver_id ORDER BY at, id) AS upto FROM cash_collections
          WHERE driver_id IN (SELECT driver_id FROM held))
       SELECT held.driver_id, u.name, held.amount::text AS amount,
              coalesce((SELECT min(at) FROM running WHERE running.driver_id = held.driver_id AND running.upto > coalesce(handed.amount, 0)),
                       (SELECT max(at) FROM running WHERE running.driver_id = held.driver_id)) AS since
         FROM held JOIN users u ON u.id = held.driver_id LEFT JOIN handed ON handed.driver_id = held.driver_id
        ORDER BY held.amount DESC, held.driver_id`,
  );
  const items = rows.map((h) => ({ driverId: h.driver_id, name: h.name, amount: minorOf(h.amount), since: new Date(h.since).toISOString() }));
  return { items, total: sumMinor(items.map((i) => i.amount)) };
}
