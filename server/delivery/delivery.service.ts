import { randomInt } from 'node:crypto';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Order, OrderStatus } from '../../protocol/ordering.js';
import { sql, type Sql } from '../../db/sql.js';
import type { OrderRow } from '../../db/tables.js';
import { rooms } from '../auth/actor.js';
import { AppError, forbidden } from '../errors.js';
import { noticeAssigned } from '../orders/notices.js';
import { loadOrder, toOrder } from '../orders/orders.read.js';
import { ORDER_TRANSITIONS, moveOrder, publishBuilt, recordEvent, transition } from '../orders/workflow.js';
import { tell } from '../outbox/outbox.js';
import { assertTransition } from '../transitions.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { canCarry, UNDER_WAY } from './drivers.service.js';

type StatusChange = ParsedInputOf<'delivery:status'>;

/**
 * Expected arrival for an order of the zone `zone` (an SQL expression): now plus the zone's average trip over its
 * last 50 deliveries of 30 days, or `defaultMin` minutes when it has none.
 */
const etaAt = (zone: Sql, defaultMin: number) => sql`now() + coalesce(
  (SELECT avg(h.delivered_at - h.on_the_way_at) FROM (
     SELECT past.delivered_at, past.on_the_way_at FROM orders past
      WHERE past.zone_id = ${zone} AND past.delivered_at > now() - interval '30 days' AND past.on_the_way_at IS NOT NULL
      ORDER BY past.delivered_at DESC LIMIT 50) h),
  make_interval(mins => ${Math.trunc(defaultMin)}::int))`;

/** Statuses in which an order may be given to a driver, or to another one. */
const ASSIGNABLE: readonly OrderStatus[] = ['ACCEPTED', 'PREPARING', 'FAILED'];

/** Giving a driver is no status change, but only an order not yet (or no longer) on its way can be given. */
function assertAssignable(order: { status: OrderStatus }): void {
  if (!ASSIGNABLE.includes(order.status))
    throw new AppError('INVALID_TRANSITION', `an order that is ${order.status} cannot be given to a driver`, {
      status: order.status,
      allowed: [...ASSIGNABLE],
    });
}

export async function assignDriver(ctx: Ctx, input: ParsedInputOf<'delivery:assign'>): Promise<ResultOf<'delivery:assign'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const [order, carries] = await Promise.all([loadOrder(ctx, actor, input.orderId, true), canCarry(ctx, input.driverId, input.orderId)]);
    assertAssignable(order);
    if (order.driver_id === input.driverId) throw new AppError('CONFLICT', 'this driver already has this order');
    if (order.driver_id && !input.reason) throw new AppError('BAD_REQUEST', 'changing the driver needs a reason');
    if (!carries) throw new AppError('CONFLICT', 'this driver cannot take this order: not available, not working in its zone, or in another fleet');
    const code = order.delivery_code ?? String(randomInt(0, 10_000)).padStart(4, '0');
    const eta = etaAt(sql`${order.zone_id}::uuid`, ctx.deps.config.delivery.etaDefaultMin);
    const change = sql`UPDATE orders SET driver_id = ${input.driverId}, delivery_code = ${code}, eta_at = ${eta}, updated_at = now() WHERE id = ${order.id}`;
    const reason = order.driver_id ? `driver changed: ${input.reason}` : (input.reason ?? 'driver assigned');
    const after = await recordEvent(ctx, order, order.status, actor.userId, reason, change);
    // The driver who lost the order hears of it too; from now on it is out of their reach.
    if (order.driver_id) await tell(ctx, [rooms.driver(order.driver_id)], 'order:updated', toOrder({ ...order, driver_id: input.driverId }));
    const updated = await publishBuilt(ctx, after);
    await tell(ctx, [rooms.driver(input.driverId)], 'delivery:assigned', updated);
    await noticeAssigned(ctx, order, updated, order.driver_id, input.reason ?? null);
    return updated;
  });
}

/** Four digits are few: after this many wrong codes on one order, only the vendor's override confirms it. */
export const MAX_CODE_FAILURES = 5;

const tooManyWrongCodes = () => forbidden('too many wrong codes for this order: the vendor confirms the delivery');

/**
 * DELIVERED with the shop's code, checked under the order's lock. A wrong one is counted in the same transaction,
 * which commits (the count must survive the refusal) before the refusal is answered: tries at once wait for each
 * other's lock, so each sees the count the ones before it left, and at most MAX_CODE_FAILURES are ever weighed.
 */
async function deliver(ctx: Ctx, s: StatusChange): Promise<Order> {
  const actor = actorOf(ctx);
  const outcome = await ctx.tx(async (ctx): Promise<Order | AppError> => {
    const order = await loadOrder(ctx, actor, s.orderId, true);
    assertTransition(ORDER_TRANSITIONS, 'order', order.status, 'DELIVERED');
    if (order.code_failures >= MAX_CODE_FAILURES) throw tooManyWrongCodes();
    if (order.delivery_code !== s.code) {
      const [row] = await ctx.query<{ failures: number }>(
        sql`UPDATE orders SET code_failures = code_failures + 1 WHERE id = ${order.id} RETURNING code_failures AS failures`.prepared(),
      );
      return row!.failures >= MAX_CODE_FAILURES
        ? tooManyWrongCodes()
        : forbidden('the confirmation code does not match; ask the shop, or the vendor to confirm');
    }
    return moveOrder(ctx, order, 'DELIVERED', actor, { reason: s.reason, set: sql`delivered_at = now()` });
  });
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}

/** One status report of the assigned driver; other drivers do not find the order. */
async function applyStatus(ctx: Ctx, s: StatusChange): Promise<Order> {
  if (s.status === 'DELIVERED') return deliver(ctx, s);
  const eta = etaAt(sql`orders.zone_id`, ctx.deps.config.delivery.etaDefaultMin);
  return transition(ctx, s.orderId, s.status, { reason: s.reason, set: s.status === 'ON_THE_WAY' ? sql`on_the_way_at = now(), eta_at = ${eta}` : undefined });
}

export const deliveryStatus = (ctx: Ctx, input: ParsedInputOf<'delivery:status'>): Promise<ResultOf<'delivery:status'>> => applyStatus(ctx, input);

export async function bulkStatus(ctx: Ctx, { items }: ParsedInputOf<'delivery:bulk-status'>): Promise<ResultOf<'delivery:bulk-status'>> {
  const out: ResultOf<'delivery:bulk-status'>['items'] = [];
  for (const item of items) {
    try {
      out.push({ orderId: item.orderId, ok: true, order: await applyStatus(ctx, item) });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push({ orderId: item.orderId, ok: false, error: err.toWire() });
    }
  }
  return { items: out };
}

export const confirmOverride = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'delivery:confirm-override'>): Promise<ResultOf<'delivery:confirm-override'>> =>
  transition(ctx, orderId, 'DELIVERED', { reason: `confirmed without the code: ${reason}`, set: sql`delivered_at = now()`, audit: 'DELIVERY_OVERRIDE' });

export async function deliveryCode(ctx: Ctx, { orderId }: ParsedInputOf<'delivery:code'>): Promise<ResultOf<'delivery:code'>> {
  const order = await loadOrder(ctx, actorOf(ctx), orderId);
  if (!order.delivery_code || !(UNDER_WAY as readonly OrderStatus[]).includes(order.status)) {
    throw new AppError('CONFLICT', 'this order has no delivery under way');
  }
  return { orderId, code: order.delivery_code };
}

/** Stores the position; forwards it only if the last forward is older than the interval, so a chatty app cannot flood shops. */
export async function reportLocation(ctx: Ctx, { lat, lng }: ParsedInputOf<'delivery:location'>): Promise<ResultOf<'delivery:location'>> {
  const { userId } = actorOf(ctx);
  const intervalS = ctx.deps.config.delivery.locationIntervalS;
  return ctx.tx(async (ctx) => {
    const [due] = await ctx.query<{ due: boolean }>(sql`
      INSERT INTO driver_locations (user_id, lat, lng, forwarded_at) VALUES (${userId}, ${lat}, ${lng}, now())
      ON CONFLICT (user_id) DO UPDATE SET lat = EXCLUDED.lat, lng = EXCLUDED.lng, at = now(),
        forwarded_at = CASE WHEN driver_locations.forwarded_at IS NULL OR driver_locations.forwarded_at <= now() - make_interval(secs => ${intervalS})
                            THEN now() ELSE driver_locations.forwarded_at END
      RETURNING forwarded_at = now() AS due`);
    if (!due?.due) return { forwarded: false };
    const targets = await ctx.query<Pick<OrderRow, 'id' | 'shop_id' | 'vendor_id'>>(
      sql`SELECT id, shop_id, vendor_id FROM orders WHERE driver_id = ${userId} AND status = 'ON_THE_WAY'`,
    );
    const at = new Date().toISOString();
    for (const o of targets)
      await tell(ctx, [rooms.shop(o.shop_id), rooms.vendor(o.vendor_id)], 'driver:location', { orderId: o.id, driverId: userId, lat, lng, at });
    return { forwarded: true };
  });
}
