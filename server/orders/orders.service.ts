import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { addLine, changeCart, shopOf } from '../cart/cart.service.js';
import { categoryPaths } from '../catalog/categories.service.js';
import { getProduct } from '../catalog/products.service.js';
import { moveStock } from '../catalog/stock.service.js';
import { AppError } from '../errors.js';
import { decodeCursor, page } from '../pagination.js';
import { RULE_COLUMNS, discountOf, type PromotionRule } from '../promotions/rules.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { ORDER_SELECT, loadOrder, orderScope, toOrder, type OrderRecord } from './orders.read.js';
import { cancelGuard, publishOrder, recordEvent, transition } from './workflow.js';

export async function listOrders(ctx: Ctx, input: ParsedInputOf<'orders:list'>): Promise<ResultOf<'orders:list'>> {
  const actor = actorOf(ctx);
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const where = [orderScope(actor, bind)];
  if (input.status) where.push(`o.status = ${bind(input.status)}`);
  if (input.from) where.push(`o.created_at >= ${bind(input.from)}`);
  if (input.to) where.push(`o.created_at < ${bind(input.to)}`);
  if (input.shopId) where.push(`o.shop_id = ${bind(input.shopId)}`);
  if (input.vendorId) where.push(`o.vendor_id = ${bind(input.vendorId)}`);
  if (input.zoneId) where.push(`o.zone_id = ${bind(input.zoneId)}`);
  if (input.cursor) {
    const [at, id] = decodeCursor(input.cursor, ['timestamptz', 'uuid']);
    where.push(`(o.created_at, o.id) < (${bind(at)}::timestamptz, ${bind(id)}::uuid)`);
  }
  const rows = await ctx.read((r) =>
    r.query<OrderRecord>(`${ORDER_SELECT} WHERE ${where.join(' AND ')} ORDER BY o.created_at DESC, o.id DESC LIMIT ${bind(input.limit + 1)}`, params),
  );
  return page(rows, input.limit, toOrder, (o) => [o.created_key, o.id]);
}

export const getOrder = (ctx: Ctx, { id }: ParsedInputOf<'orders:get'>): Promise<ResultOf<'orders:get'>> =>
  ctx.read(async (r) => toOrder(await loadOrder(r, actorOf(ctx), id)));

export const acceptOrder = (ctx: Ctx, { orderId }: ParsedInputOf<'order:accept'>) => transition(ctx, orderId, 'ACCEPTED', { set: 'accepted_at = now()' });
export const prepareOrder = (ctx: Ctx, { orderId }: ParsedInputOf<'order:prepare'>) => transition(ctx, orderId, 'PREPARING');
export const rejectOrder = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'order:reject'>) => transition(ctx, orderId, 'REJECTED', { reason });
export const cancelOrder = (ctx: Ctx, { orderId, reason }: ParsedInputOf<'order:cancel'>) =>
  transition(ctx, orderId, 'CANCELLED', { reason, guard: cancelGuard });

/**
 * Partial fulfilment before accepting: quantities only go down, the stock comes back, and the discount is
 * recomputed with the order's own promotion on what is left (never more than it was).
 */
export async function reduceOrder(ctx: Ctx, input: ParsedInputOf<'order:reduce'>): Promise<ResultOf<'order:reduce'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    const order = await loadOrder(tx, actor, input.orderId, true);
    if (order.status !== 'PENDING') throw new AppError('INVALID_TRANSITION', `quantities change only while PENDING; the order is ${order.status}`);
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
    await moveStock(tx, moves);
    for (const [productId, quantity] of next) {
      await tx.query('UPDATE order_items SET quantity = $3 WHERE order_id = $1 AND product_id = $2', [order.id, productId, quantity]);
    }
    const lines = order.items.map((i) => ({ productId: i.productId, categoryPath: [], unitPrice: i.unitPrice, quantity: next.get(i.productId)! }));
    const subtotal = lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
    let discount = 0;
    if (order.promotion_id) {
      const [rule] = await tx.query<PromotionRule>(`SELECT ${RULE_COLUMNS} FROM promotions WHERE id = $1`, [order.promotion_id]);
      const paths = await categoryPaths(
        tx,
        order.items.map((i) => i.categoryId),
      );
      const withPaths = lines.map((l, k) => ({ ...l, categoryPath: paths.get(order.items[k]!.categoryId) ?? [] }));
      discount = Math.min(order.discount_minor, discountOf(rule!, withPaths));
      await tx.query('UPDATE promotion_redemptions SET discount_minor = $2 WHERE order_id = $1', [order.id, discount]);
    }
    await tx.query(
      'UPDATE orders SET subtotal_minor = $2, discount_minor = $3, total_minor = $2::bigint - $3::bigint + delivery_fee_minor, updated_at = now() WHERE id = $1',
      [order.id, subtotal, discount],
    );
    await recordEvent(tx, order.id, 'PENDING', actor.userId, `quantities reduced: ${input.reason}`);
    return publishOrder(ctx, tx, actor, order.id);
  });
}

/** Puts an old order's items back in the cart where they can still be ordered; the rest are named. */
export async function reorder(ctx: Ctx, { orderId }: ParsedInputOf<'order:reorder'>): Promise<ResultOf<'order:reorder'>> {
  shopOf(ctx);
  const order = await ctx.read((r) => loadOrder(r, actorOf(ctx), orderId));
  const skipped: Array<{ productId: string; reason: string }> = [];
  const available: Array<{ productId: string; quantity: number; price: number }> = [];
  for (const item of order.items.filter((i) => i.orderedQuantity > 0)) {
    try {
      const product = await getProduct(ctx, { id: item.productId });
      if (product.stock <= 0) skipped.push({ productId: item.productId, reason: 'out of stock' });
      else available.push({ productId: item.productId, quantity: Math.min(item.orderedQuantity, product.stock), price: product.price });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      skipped.push({ productId: item.productId, reason: 'no longer sold' });
    }
  }
  const cart = await changeCart(ctx, async (tx, shopId) => {
    for (const a of available) await addLine(tx, shopId, a.productId, a.quantity, a.price);
  });
  return { cart, skipped };
}
