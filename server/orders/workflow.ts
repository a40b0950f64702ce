import type { Order, OrderStatus } from '../../protocol/ordering.js';
import { sql, type Sql } from '../../db/sql.js';
import { audit, type AuditAction } from '../audit.js';
import { forbidden } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import { lockProducts } from '../catalog/product-locks.js';
import { moveStock } from '../catalog/stock.service.js';
import { assertTransition, type Transitions } from '../transitions.js';
import { noticeStatus } from './notices.js';
import { SYSTEM, loadOrder, orderRooms, toOrder, type LoadedOrder } from './orders.read.js';

/** The contract's order life; anything else answers INVALID_TRANSITION. */
export const ORDER_TRANSITIONS = {
  PENDING: ['ACCEPTED', 'REJECTED', 'CANCELLED', 'EXPIRED'],
  ACCEPTED: ['PREPARING', 'CANCELLED'],
  PREPARING: ['ON_THE_WAY', 'CANCELLED'],
  ON_THE_WAY: ['DELIVERED', 'FAILED'],
  FAILED: ['ON_THE_WAY', 'CANCELLED'],
  DELIVERED: [],
  REJECTED: [],
  CANCELLED: [],
  EXPIRED: [],
} as const satisfies Transitions<OrderStatus>;

/** Statuses that give the stock back and release the promotion use. */
const RESTOCKING: readonly OrderStatus[] = ['REJECTED', 'CANCELLED', 'EXPIRED'];

/** Reloads the order the caller has just changed (and so reached), tells its rooms, and answers it. */
export async function publishOrder(ctx: TxCtx, id: string): Promise<Order> {
  const row = await loadOrder(ctx, SYSTEM, id);
  const order = toOrder(row);
  await tell(ctx, orderRooms(row), 'order:updated', order);
  return order;
}

/** The columns of an order that a step's UPDATE may set and the pushed order shows. */
type Changed = Pick<LoadedOrder, 'status' | 'driver_id' | 'delivery_code' | 'eta_at' | 'delivered_at'>;

/**
 * Writes a timeline entry; `change`, the order's UPDATE that the entry records, goes in the same statement (one round
 * trip). Answers the order as it stands after both, built from `order` (loaded and locked in this transaction, so
 * nothing else changed it meanwhile) and what the statement returned, with the entry's own time: no reload.
 */
export async function recordEvent(
  ctx: TxCtx,
  order: LoadedOrder,
  status: OrderStatus,
  actorId: string | null,
  reason: string | null,
  change?: Sql,
): Promise<LoadedOrder> {
  const [row] = await ctx.query<{ at: string; changed: Changed | null }>(
    sql`${change ? sql`WITH changed AS (${change} RETURNING status, driver_id, delivery_code, eta_at, delivered_at) ` : sql.empty}INSERT INTO order_events (order_id, status, actor_id, reason) VALUES (${order.id}, ${status}, ${actorId}, ${reason})
        RETURNING at, ${change ? sql`(SELECT row_to_json(changed) FROM changed)` : sql`NULL::json`} AS changed`.prepared(),
  );
  return { ...order, ...row!.changed, timeline: [...order.timeline, { status, at: row!.at, by: actorId, reason }] };
}

/** Tells the order's rooms of an order the caller has just changed and built (recordEvent), and answers it. */
export async function publishBuilt(ctx: TxCtx, row: LoadedOrder): Promise<Order> {
  const order = toOrder(row);
  await tell(ctx, orderRooms(row), 'order:updated', order);
  return order;
}

/**
 * Gives back the promotion use the order took and the stock of every unit still on it. The promotion first: a checkout
 * locks its promotions before its products, and locks taken the other way round here would deadlock with it.
 */
async function restock(ctx: TxCtx, order: LoadedOrder, reason: string, actorId: string | null): Promise<void> {
  const [released] = await ctx.query<{ promotion_id: string }>(
    sql`UPDATE promotion_redemptions SET released_at = now() WHERE order_id = ${order.id} AND released_at IS NULL RETURNING promotion_id`,
  );
  if (released) await ctx.query(sql`UPDATE promotions SET used_count = used_count - 1 WHERE id = ${released.promotion_id}`);
  const moves = order.items.filter((i) => i.quantity > 0).map((i) => ({ productId: i.productId, delta: i.quantity, reason, actorId, ref: order.id }));
  await moveStock(ctx, moves, { sold: true });
}

/**
 * Locks what ending these orders unfulfilled gives back, all of it at once: their promotions, then their products,
 * each in id order, as a checkout takes them. A transaction that ends several orders calls it first; restocking them
 * one by one would hold one order's products while waiting for the next one's promotion or products, and deadlock
 * with a checkout holding those.
 */
export async function lockRestock(ctx: TxCtx, orderIds: string[]): Promise<void> {
  await ctx.query(
    sql`SELECT 1 FROM promotions WHERE id IN (SELECT promotion_id FROM promotion_redemptions WHERE order_id = ANY(${orderIds}::uuid[]) AND released_at IS NULL)
         ORDER BY id FOR UPDATE`,
  );
  await lockProducts(ctx, sql`p.id IN (SELECT product_id FROM order_items WHERE order_id = ANY(${orderIds}::uuid[]) AND quantity > 0)`);
}

/**
 * Moves an order to `to` in one transaction: the row locked, the step checked against the table, who may take it
 * checked by `guard`, the timeline written, stock restored when the order ends unfulfilled, and the change pushed.
 * `set` adds assignments of the step's own columns (`sql\`accepted_at = now()\``).
 */
export async function transition(ctx: Ctx, orderId: string, to: OrderStatus, opts: StepOptions = {}): Promise<Order> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => moveOrder(ctx, await loadOrder(ctx, actor, orderId, true), to, actor, opts));
}

interface StepOptions {
  reason?: string;
  guard?: (order: LoadedOrder, actor: Actor) => void;
  set?: Sql;
  audit?: AuditAction;
}

/** The step itself, on an order the caller has loaded and locked: taken by a person, or by the platform (a deadline). */
export async function moveOrder(ctx: TxCtx, order: LoadedOrder, to: OrderStatus, by: Actor | typeof SYSTEM, opts: StepOptions = {}): Promise<Order> {
  assertTransition(ORDER_TRANSITIONS, 'order', order.status, to);
  if (by !== SYSTEM) opts.guard?.(order, by);
  const actorId = by === SYSTEM ? null : by.userId;
  const change = sql`UPDATE orders SET status = ${to}, updated_at = now()${opts.set ? sql`, ${opts.set}` : sql.empty} WHERE id = ${order.id}`;
  const after = await recordEvent(ctx, order, to, actorId, opts.reason ?? null, change);
  if (RESTOCKING.includes(to)) await restock(ctx, order, `ORDER_${to}`, actorId);
  if (opts.audit) await audit(ctx, opts.audit, { type: 'order', id: order.id }, { from: order.status, to, reason: opts.reason ?? null });
  const published = await publishBuilt(ctx, after);
  await noticeStatus(ctx, order, published, opts.reason ?? null);
  return published;
}

/** A shop cancels only while the vendor has not accepted; staff and admins until it leaves the vendor. */
export function cancelGuard(order: LoadedOrder, actor: Actor): void {
  if (actor.role === 'SHOP_OWNER' && order.status !== 'PENDING') throw forbidden('a shop may cancel only a PENDING order; ask the vendor');
}
