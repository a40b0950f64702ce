import { randomInt } from 'node:crypto';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { rooms } from '../auth/actor.js';
import { AppError, forbidden } from '../errors.js';
import { loadOrder, toOrder } from '../orders/orders.read.js';
import { publishOrder, recordEvent, transition } from '../orders/workflow.js';
import { push } from '../outbox/outbox.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { assertCanCarry } from './drivers.service.js';

type StatusChange = ParsedInputOf<'delivery:status'>;

/** Expected arrival: now plus the zone's average trip over its last 50 deliveries of 30 days, or the configured default. */
const etaSql = (defaultMin: number) => `now() + coalesce(
  (SELECT avg(h.delivered_at - h.on_the_way_at) FROM (
     SELECT past.delivered_at, past.on_the_way_at FROM orders past
      WHERE past.zone_id = $3 AND past.delivered_at > now() - interval '30 days' AND past.on_the_way_at IS NOT NULL
      ORDER BY past.delivered_at DESC LIMIT 50) h),
  make_interval(mins => ${Math.trunc(defaultMin)}))`;

const REASSIGNABLE = ['ACCEPTED', 'PREPARING', 'FAILED'];

export async function assignDriver(ctx: Ctx, input: ParsedInputOf<'delivery:assign'>): Promise<ResultOf<'delivery:assign'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    const order = await loadOrder(tx, actor, input.orderId, true);
    if (!REASSIGNABLE.includes(order.status)) throw new AppError('INVALID_TRANSITION', `an order that is ${order.status} cannot be given to a driver`);
    if (order.driver_id === input.driverId) throw new AppError('CONFLICT', 'this driver already has this order');
    if (order.driver_id && !input.reason) throw new AppError('BAD_REQUEST', 'changing the driver needs a reason');
    await assertCanCarry(tx, input.driverId, order);
    const code = order.delivery_code ?? String(randomInt(0, 10_000)).padStart(4, '0');
    await tx.query(
      `UPDATE orders SET driver_id = $2, delivery_code = $4, eta_at = ${etaSql(ctx.deps.config.delivery.etaDefaultMin)}, updated_at = now() WHERE id = $1`,
      [order.id, input.driverId, order.zone_id, code],
    );
    const reason = order.driver_id ? `driver changed: ${input.reason}` : (input.reason ?? 'driver assigned');
    await recordEvent(tx, order.id, order.status, actor.userId, reason);
    // The driver who lost the order hears of it too; from now on it is out of their reach.
    if (order.driver_id) await push(ctx.deps, tx, [rooms.driver(order.driver_id)], 'order:updated', toOrder({ ...order, driver_id: input.driverId }));
    const updated = await publishOrder(tx, order.id);
    await push(ctx.deps, tx, [rooms.driver(input.driverId)], 'delivery:assigned', updated);
    return updated;
  });
}

/** Four digits are few: after this many wrong codes on one order, only the vendor's override confirms it. */
export const MAX_CODE_FAILURES = 5;

/**
 * Counts a wrong code in its own transaction, so the count survives the refusal; a right code is checked
 * again inside the transition, under the order's row lock.
 */
async function checkCode(ctx: Ctx, orderId: string, code: string): Promise<void> {
  const { userId } = actorOf(ctx);
  const [row] = await ctx.tx((tx) =>
    tx.query<{ failures: number; wrong: boolean }>(
      `UPDATE orders SET code_failures = code_failures + (CASE WHEN delivery_code IS DISTINCT FROM $3 AND code_failures < $4 THEN 1 ELSE 0 END)
        WHERE id = $1 AND driver_id = $2 RETURNING code_failures AS failures, delivery_code IS DISTINCT FROM $3 AS wrong`,
      [orderId, userId, code, MAX_CODE_FAILURES],
    ),
  );
  if (!row) return; // not this driver's order: the transition answers NOT_FOUND
  if (row.failures >= MAX_CODE_FAILURES) throw forbidden('too many wrong codes for this order: the vendor confirms the delivery');
  if (row.wrong) throw forbidden('the confirmation code does not match; ask the shop, or the vendor to confirm');
}

/** One status report of the assigned driver; other drivers do not find the order. */
async function applyStatus(ctx: Ctx, s: StatusChange) {
  if (s.status === 'DELIVERED') await checkCode(ctx, s.orderId, s.code!);
  const eta = etaSql(ctx.deps.config.delivery.etaDefaultMin).replace('$3', 'orders.zone_id');
  return transition(ctx, s.orderId, s.status, {
    reason: s.reason,
    set: s.status === 'ON_THE_WAY' ? sql`on_the_way_at = now(), eta_at = ${sql.raw(eta)}` : s.status === 'DELIVERED' ? sql`delivered_at = now()` : undefined,
    guard: (order) => {
      if (s.status === 'DELIVERED' && order.delivery_code !== s.code) throw forbidden('the confirmation code does not match');
    },
  });
}

export const deliveryStatus = (ctx: Ctx, input: ParsedInputOf<'delivery:status'>): Promise<ResultOf<'delivery:status'>> => applyStatus(ctx, input);

export async function bulkStatus(ctx: Ctx, { items }: ParsedInputOf<'delivery:bulk-status'>): Promise<ResultOf<'delivery:bulk-status'>> {
  const out: ResultOf<'delivery:bulk-status'>['items'] = [];
  for (const item of items) {
    try {
      out.push({ orderId: item.orderId, ok: true, order: await applyStatus(ctx, item) });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push({ orderId: item.orderId, ok: false, error: { code: err.code, message: err.message } });
    }
  }
  return { items: out };
}

export const confirmOverride = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'delivery:confirm-override'>): Promise<ResultOf<'delivery:confirm-override'>> =>
  transition(ctx, orderId, 'DELIVERED', { reason: `confirmed without the code: ${reason}`, set: sql`delivered_at = now()`, audit: 'DELIVERY_OVERRIDE' });

export async function deliveryCode(ctx: Ctx, { orderId }: ParsedInputOf<'delivery:code'>): Promise<ResultOf<'delivery:code'>> {
  const order = await ctx.read((r) => loadOrder(r, actorOf(ctx), orderId));
  if (!order.delivery_code || !['ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'FAILED'].includes(order.status)) {
    throw new AppError('CONFLICT', 'this order has no delivery under way');
  }
  return { orderId, code: order.delivery_code };
}

/** Stores the position; forwards it only if the last forward is older than the interval, so a chatty app cannot flood shops. */
export async function reportLocation(ctx: Ctx, { lat, lng }: ParsedInputOf<'delivery:location'>): Promise<ResultOf<'delivery:location'>> {
  const { userId } = actorOf(ctx);
  const targets = await ctx.tx(async (tx) => {
    const [due] = await tx.query<{ due: boolean }>(
      `INSERT INTO driver_locations (user_id, lat, lng, forwarded_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (user_id) DO UPDATE SET lat = EXCLUDED.lat, lng = EXCLUDED.lng, at = now(),
         forwarded_at = CASE WHEN driver_locations.forwarded_at IS NULL OR driver_locations.forwarded_at <= now() - make_interval(secs => $4)
                             THEN now() ELSE driver_locations.forwarded_at END
       RETURNING forwarded_at = now() AS due`,
      [userId, lat, lng, ctx.deps.config.delivery.locationIntervalS],
    );
    if (!due?.due) return null;
    return tx.query<{ id: string; shop_id: string; vendor_id: string }>(
      `SELECT id, shop_id, vendor_id FROM orders WHERE driver_id = $1 AND status = 'ON_THE_WAY'`,
      [userId],
    );
  });
  if (!targets) return { forwarded: false };
  const at = new Date().toISOString();
  for (const o of targets)
    ctx.deps.io.to([rooms.shop(o.shop_id), rooms.vendor(o.vendor_id)]).emit('driver:location', { orderId: o.id, driverId: userId, lat, lng, at });
  return { forwarded: true };
}
