import type { OrderStatus, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { addLine, changeCart, shopOf } from '../cart/cart.service.js';
import { RULE_COLUMNS } from '../cart/pricing.js';
import { categoryPaths } from '../catalog/categories.service.js';
import { getProduct } from '../catalog/products.service.js';
import { moveStock } from '../catalog/stock.service.js';
import { AppError } from '../errors.js';
import { sumMinor, timesMinor } from '../finance/money.js';
import { afterCursor, page } from '../pagination.js';
import { discountOf, type PromotionRule } from '../promotions/rules.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { assertTransition, type Transitions } from '../transitions.js';
import { noticeReduced } from './notices.js';
import { ORDER_SELECT, loadOrder, orderScope, toOrder, type LoadedOrder } from './orders.read.js';
import { cancelGuard, publishOrder, recordEvent, transition } from './workflow.js';

export async function listOrders(ctx: Ctx, input: ParsedInputOf<'orders:list'>): Promise<ResultOf<'orders:list'>> {
  const where = sql.and([
    orderScope(actorOf(ctx)),
    ...(input.status ? [sql`o.status = ${input.status}`] : []),
    ...(input.from ? [sql`o.created_at >= ${input.from}`] : []),
    ...(input.to ? [sql`o.created_at < ${input.to}`] : []),
    ...(input.shopId ? [sql`o.shop_id = ${input.shopId}`] : []),
    ...(input.vendorId ? [sql`o.vendor_id = ${input.vendorId}`] : []),
    ...(input.zoneId ? [sql`o.zone_id = ${input.zoneId}`] : []),
    afterCursor(input.cursor, [
      [sql`o.created_at`, 'timestamptz'],
      [sql`o.id`, 'uuid'],
    ]),
  ]);
  const rows = await ctx.query<LoadedOrder>(sql`${ORDER_SELECT} WHERE ${where} ORDER BY o.created_at DESC, o.id DESC LIMIT ${input.limit + 1}`);
  return page(rows, input.limit, toOrder, (o) => [o.created_key, o.id]);
}

export const getOrder = async (ctx: Ctx, { id }: ParsedInputOf<'orders:get'>): Promise<ResultOf<'orders:get'>> =>
  toOrder(await loadOrder(ctx, actorOf(ctx), id));

export const acceptOrder = (ctx: Ctx, { orderId }: ParsedInputOf<'order:accept'>) => transition(ctx, orderId, 'ACCEPTED', { set: sql`accepted_at = now()` });
export const prepareOrder = (ctx: Ctx, { orderId }: ParsedInputOf<'order:prepare'>) => transition(ctx, orderId, 'PREPARING');
export const rejectOrder = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'order:reject'>) => transition(ctx, orderId, 'REJECTED', { reason });
export const cancelOrder = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'order:cancel'>) =>
  transition(ctx, orderId, 'CANCELLED', { reason, guard: cancelGuard });

/** Quantities change in place, a step from PENDING to PENDING on the timeline: once accepted, the order is what the vendor agreed to. */
const REDUCE_TRANSITIONS = {
  PENDING: ['PENDING'],
  ACCEPTED: [],
  PREPARING: [],
  ON_THE_WAY: [],
  FAILED: [],
  DELIVERED: [],
  REJECTED: [],
  CANCELLED: [],
  EXPIRED: [],
} as const satisfies Transitions<OrderStatus>;

/** The order's own promotion on what is left, never more than it gave at checkout. */
async function discountLeft(ctx: TxCtx, order: LoadedOrder, quantities: Map<string, number>): Promise<number> {
  if (!order.promotion_id) return 0;
  const [rule] = await ctx.query<PromotionRule>(sql`SELECT ${RULE_COLUMNS} FROM promotions WHERE id = ${order.promotion_id}`);
  const paths = await categoryPaths(
    ctx,
    order.items.map((i) => i.categoryId),
  );
  const lines = order.items.map((i) => ({
    productId: i.productId,
    categoryPath: paths.get(i.categoryId) ?? [],
    unitPrice: i.unitPrice,
    quantity: quantities.get(i.productId)!,
  }));
  return Math.min(order.discount_minor, discountOf(rule!, lines));
}

/**
 * Partial fulfilment before accepting: quantities only go down, the stock comes back, and the discount is
 * recomputed with the order's own promotion on what is left (never more than it was).
 */
export async function reduceOrder(ctx: Ctx, input: ParsedInputOf<'order:reduce'>): Promise<ResultOf<'order:reduce'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const order = await loadOrder(ctx, actor, input.orderId, true);
    assertTransition(REDUCE_TRANSITIONS, 'order', order.status, 'PENDING');
    const next = new Map(order.items.map((i) => [i.productId, i.quantity]));
    for (const { productId, quantity } of input.items) {
      const current = next.get(productId);
      if (current === undefined) throw new AppError('BAD_REQUEST', `product ${productId} is not on this order`);
      if (quantity > current) throw new AppError('BAD_REQUEST', `quantities can only go down (${productId}: ${current})`);
      next.set(productId, quantity);
    }
    if ([...next.values()].every((q) => q === 0)) throw new AppError('BAD_REQUEST', 'nothing would be left: reject the order instead');
    const moves = order.items
      .filter((i) => next.get(i.productId)! < i.quantity)
      .map((i) => ({ productId: i.productId, delta: i.quantity - next.get(i.productId)!, reason: 'ORDER_REDUCED', actorId: actor.userId, ref: order.id }));
    if (moves.length === 0) throw new AppError('BAD_REQUEST', 'no quantity changes');
    await moveStock(ctx, moves);
    await ctx.query(
      sql`UPDATE order_items i SET quantity = l.quantity FROM unnest(${[...next.keys()]}::uuid[], ${[...next.values()]}::int[]) AS l(product_id, quantity)
           WHERE i.order_id = ${order.id} AND i.product_id = l.product_id`,
    );
    const subtotal = sumMinor(order.items.map((i) => timesMinor(i.unitPrice, next.get(i.productId)!)));
    const discount = await discountLeft(ctx, order, next);
    if (order.promotion_id) await ctx.query(sql`UPDATE promotion_redemptions SET discount_minor = ${discount} WHERE order_id = ${order.id}`);
    await ctx.query(
      sql`UPDATE orders SET subtotal_minor = ${subtotal}, discount_minor = ${discount}, total_minor = ${subtotal}::bigint - ${discount}::bigint + delivery_fee_minor,
                            updated_at = now() WHERE id = ${order.id}`,
    );
    // The items changed above, so the pushed order is read again rather than built from the loaded one.
    await recordEvent(ctx, order, 'PENDING', actor.userId, `quantities reduced: ${input.reason}`);
    const published = await publishOrder(ctx, order.id);
    await noticeReduced(ctx, order, published, input.reason);
    return published;
  });
}

/** Puts an old order's items back in the cart where they can still be ordered; the rest are named. */
export async function reorder(ctx: Ctx, { orderId }: ParsedInputOf<'order:reorder'>): Promise<ResultOf<'order:reorder'>> {
  shopOf(ctx);
  const order = await loadOrder(ctx, actorOf(ctx), orderId);
  const skipped: Array<{ productId: string; reason: string }> = [];
  const available: Array<{ productId: string; quantity: number }> = [];
  for (const item of order.items.filter((i) => i.orderedQuantity > 0)) {
    try {
      const product = await getProduct(ctx, { id: item.productId });
      if (product.stock <= 0) skipped.push({ productId: item.productId, reason: 'out of stock' });
      else available.push({ productId: item.productId, quantity: Math.min(item.orderedQuantity, product.stock) });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      skipped.push({ productId: item.productId, reason: 'no longer sold' });
    }
  }
  const cart = await changeCart(ctx, async (ctx, shopId) => {
    // A product taken away meanwhile is no longer sold either.
    for (const a of available) if (!(await addLine(ctx, shopId, a.productId, a.quantity))) skipped.push({ productId: a.productId, reason: 'no longer sold' });
  });
  return { cart, skipped };
}
