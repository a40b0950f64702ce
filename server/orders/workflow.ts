import type { Order, OrderStatus } from '../../protocol/ordering.js';
import type { Tx } from '../../db/tx.js';
import { audit, type AuditAction } from '../audit.js';
import { AppError, forbidden } from '../errors.js';
import { push } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import { moveStock } from '../catalog/stock.service.js';
import { loadOrder, orderRooms, toOrder, type OrderRecord } from './orders.read.js';

/** The contract's order life; anything else answers INVALID_TRANSITION. */
export const ORDER_TRANSITIONS = {
  PENDING: ['ACCEPTED', 'REJECTED', 'CANCELLED'],
  ACCEPTED: ['PREPARING', 'CANCELLED'],
  PREPARING: ['ON_THE_WAY', 'CANCELLED'],
  ON_THE_WAY: ['DELIVERED', 'FAILED'],
  FAILED: ['ON_THE_WAY', 'CANCELLED'],
  DELIVERED: [],
  REJECTED: [],
  CANCELLED: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** Statuses that give the stock back and release the promotion use. */
const RESTOCKING: readonly OrderStatus[] = ['REJECTED', 'CANCELLED'];

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!(ORDER_TRANSITIONS[from] as readonly OrderStatus[]).includes(to)) {
    throw new AppError('INVALID_TRANSITION', `an order that is ${from} cannot become ${to}`, { from, to });
  }
}

/** Reloads the order, tells its rooms, and answers it. */
export async function publishOrder(ctx: Ctx, tx: Tx, actor: Actor, id: string): Promise<Order> {
  const order = await loadOrder(tx, actor, id);
  await push(ctx.deps, tx, orderRooms(order), 'order:updated', toOrder(order));
  return toOrder(order);
}

export async function recordEvent(tx: Tx, orderId: string, status: OrderStatus, actorId: string | null, reason: string | null): Promise<void> {
  await tx.query('INSERT INTO order_events (order_id, status, actor_id, reason) VALUES ($1, $2, $3, $4)', [orderId, status, actorId, reason]);
}

/** Gives back the stock of every unit still on the order and the promotion use it took. */
export async function restock(ctx: Ctx, tx: TxCtx, order: OrderRecord, reason: string, actorId: string): Promise<void> {
  const moves = order.items.filter((i) => i.quantity > 0).map((i) => ({ productId: i.productId, delta: i.quantity, reason, actorId, ref: order.id }));
  await moveStock(tx, moves);
  await tx.query('UPDATE products p SET sold_count = greatest(p.sold_count - i.quantity, 0) FROM order_items i WHERE i.order_id = $1 AND p.id = i.product_id', [
    order.id,
  ]);
  const [released] = await tx.query<{ promotion_id: string }>(
    'UPDATE promotion_redemptions SET released_at = now() WHERE order_id = $1 AND released_at IS NULL RETURNING promotion_id',
    [order.id],
  );
  if (released) await tx.query('UPDATE promotions SET used_count = used_count - 1 WHERE id = $1', [released.promotion_id]);
}

/**
 * Moves an order to `to` in one transaction: the row locked, the step checked against the table, who may take it
 * checked by `guard`, the timeline written, stock restored when the order ends unfulfilled, and the change pushed.
 */
export async function transition(
  ctx: Ctx,
  orderId: string,
  to: OrderStatus,
  opts: { reason?: string; guard?: (order: OrderRecord, actor: Actor) => void; set?: string; audit?: AuditAction } = {},
): Promise<Order> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    const order = await loadOrder(tx, actor, orderId, true);
    assertTransition(order.status, to);
    opts.guard?.(order, actor);
    await tx.query(`UPDATE orders SET status = $2, updated_at = now()${opts.set ? `, ${opts.set}` : ''} WHERE id = $1`, [orderId, to]);
    await recordEvent(tx, orderId, to, actor.userId, opts.reason ?? null);
    if (RESTOCKING.includes(to)) await restock(ctx, tx, order, `ORDER_${to}`, actor.userId);
    if (opts.audit) await audit(tx, opts.audit, { type: 'order', id: orderId }, { from: order.status, to, reason: opts.reason ?? null });
    return publishOrder(ctx, tx, actor, orderId);
  });
}

/** A shop cancels only while the vendor has not accepted; staff and admins until it leaves the vendor. */
export function cancelGuard(order: OrderRecord, actor: Actor): void {
  if (actor.role === 'SHOP_OWNER' && order.status !== 'PENDING') throw forbidden('a shop may cancel only a PENDING order; ask the vendor');
}
