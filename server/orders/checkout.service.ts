import type { CartProblem, ErrorCode, Order, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { CheckoutRow, OrderRow, PromotionRow } from '../../db/tables.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { deliveryTarget, priceCart, type PricedGroup } from '../cart/pricing.js';
import { currentCart, lockCart, shopOf, tellCart } from '../cart/cart.service.js';
import { moveStock, type StockMove } from '../catalog/stock.service.js';
import { AppError } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { commissionAt } from '../vendors/vendors.service.js';
import { noticeNewOrders } from './notices.js';
import { loadOrder, toOrder } from './orders.read.js';
import { deadlineValues, scheduleDeadlines } from './deadlines.js';
import { recordEvent } from './workflow.js';

type Target = Awaited<ReturnType<typeof deliveryTarget>>;

/** The answer a blocking problem gets at checkout, most fundamental first. */
const BLOCKING: Array<[CartProblem['code'], Exclude<ErrorCode, 'INTERNAL'>]> = [
  ['VENDOR_UNAVAILABLE', 'CONFLICT'],
  ['PRODUCT_UNAVAILABLE', 'CONFLICT'],
  ['OUT_OF_ZONE', 'OUT_OF_ZONE'],
  ['PRICE_CHANGED', 'CONFLICT'],
  ['BELOW_MIN_QTY', 'MIN_ORDER_NOT_MET'],
  ['MIN_ORDER_NOT_MET', 'MIN_ORDER_NOT_MET'],
  ['OUT_OF_STOCK', 'INSUFFICIENT_STOCK'],
];

function assertCheckoutable(groups: PricedGroup[]): void {
  const problems = groups.flatMap((g) => [
    ...g.view.problems.map((p) => ({ vendorId: g.view.vendor.id, productId: null, ...p })),
    ...g.view.items.flatMap((i) => i.problems.map((p) => ({ vendorId: g.view.vendor.id, productId: i.productId, ...p }))),
  ]);
  for (const [problem, code] of BLOCKING) {
    const first = problems.find((p) => p.code === problem);
    if (first) throw new AppError(code, first.message, { problems });
  }
}

/**
 * Takes one use of every limited promotion the groups chose, or answers those used up meanwhile.
 * The rows are locked in id order, so checkouts sharing coupons queue instead of deadlocking.
 */
async function claimPromotions(ctx: TxCtx, groups: PricedGroup[]): Promise<string[]> {
  const uses = new Map<string, number>();
  for (const g of groups) if (g.promotion) uses.set(g.promotion.id, (uses.get(g.promotion.id) ?? 0) + 1);
  const ids = [...uses.keys()].sort();
  if (ids.length === 0) return [];
  const rows = await ctx.query<Pick<PromotionRow, 'id'> & { left: number | null }>(
    sql`SELECT id, usage_limit - used_count AS left FROM promotions WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`,
  );
  const short = rows.filter((r) => r.left !== null && r.left < uses.get(r.id)!).map((r) => r.id);
  if (short.length) return short;
  for (const [id, n] of uses) await ctx.query(sql`UPDATE promotions SET used_count = used_count + ${n} WHERE id = ${id}`);
  return [];
}

/**
 * Prices the groups being ordered and claims their promotions. A promotion used up meanwhile is left out and the
 * cart priced again, so the shop gets the best promotion still open rather than an error.
 */
async function price(ctx: TxCtx, shopId: string, zoneId: string, vendorIds: string[] | undefined): Promise<PricedGroup[]> {
  const excluded: string[] = [];
  for (;;) {
    const priced = await priceCart(ctx, shopId, zoneId, { excludePromotions: excluded });
    const groups = vendorIds ? priced.groups.filter((g) => vendorIds.includes(g.view.vendor.id)) : priced.groups;
    if (groups.length === 0) throw new AppError('CONFLICT', vendorIds ? 'none of these vendors is in the cart' : 'the cart is empty');
    assertCheckoutable(groups);
    const usedUp = await claimPromotions(ctx, groups);
    if (usedUp.length === 0) return groups;
    excluded.push(...usedUp);
  }
}

/** One order for one vendor group: the order row, its items, its first timeline entry and its promotion's redemption. */
async function insertOrder(ctx: TxCtx, checkoutId: string, target: Target, g: PricedGroup, note: string | null): Promise<string> {
  const v = g.view;
  const { currency } = ctx.deps.config;
  const commission = await commissionAt(ctx, v.vendor.id);
  const { acceptBy, expireAt } = deadlineValues(ctx, v.vendor.id);
  const [order] = (await ctx.query<Pick<OrderRow, 'id' | 'accept_by' | 'expire_at'>>(
    sql`INSERT INTO orders (checkout_id, shop_id, vendor_id, zone_id, address_id, subtotal_minor, discount_minor, delivery_fee_minor, total_minor,
                            currency, commission_bps, promotion_id, note, accept_by, expire_at)
        VALUES (${checkoutId}, ${shopOf(ctx)}, ${v.vendor.id}, ${target.zoneId}, ${target.addressId}, ${v.subtotal}, ${v.discount}, ${v.deliveryFee},
                ${v.total}, ${currency}, ${commission}, ${g.promotion?.id ?? null}, ${note}, ${acceptBy}, ${expireAt}) RETURNING id, accept_by, expire_at`,
  )) as [Pick<OrderRow, 'id' | 'accept_by' | 'expire_at'>];
  const { id } = order;
  await scheduleDeadlines(ctx, order);
  await ctx.query(
    sql`INSERT INTO order_items (order_id, product_id, name_ar, name_en, category_id, unit_price_minor, ordered_quantity, quantity)
        SELECT ${id}, l.product_id, l.name_ar, l.name_en, l.category_id, l.price, l.quantity, l.quantity
          FROM unnest(${g.lines.map((l) => l.productId)}::uuid[], ${g.lines.map((l) => l.nameAr)}::text[], ${g.lines.map((l) => l.nameEn)}::text[],
                      ${g.lines.map((l) => l.categoryId)}::uuid[], ${g.lines.map((l) => l.unitPrice)}::bigint[], ${g.lines.map((l) => l.quantity)}::int[])
               AS l(product_id, name_ar, name_en, category_id, price, quantity)`,
  );
  await recordEvent(ctx, id, 'PENDING', actorOf(ctx).userId, null);
  if (g.promotion) {
    await ctx.query(
      sql`INSERT INTO promotion_redemptions (promotion_id, order_id, shop_id, discount_minor) VALUES (${g.promotion.id}, ${id}, ${shopOf(ctx)}, ${v.discount})`,
    );
  }
  return id;
}

/** The checkout and one order per group, in the groups' order. */
async function insertOrders(ctx: TxCtx, target: Target, groups: PricedGroup[], note: string | null): Promise<{ checkoutId: string; orderIds: string[] }> {
  const [{ id: checkoutId }] = (await ctx.query<Pick<CheckoutRow, 'id'>>(
    sql`INSERT INTO checkouts (shop_id, created_by) VALUES (${shopOf(ctx)}, ${actorOf(ctx).userId}) RETURNING id`,
  )) as [{ id: string }];
  const orderIds: string[] = [];
  for (const g of groups) orderIds.push(await insertOrder(ctx, checkoutId, target, g, note));
  return { checkoutId, orderIds };
}

/** Takes the ordered lines out of the cart; the coupon goes with the last of them. */
async function clearLines(ctx: TxCtx, shopId: string, productIds: string[]): Promise<void> {
  await ctx.query(sql`DELETE FROM cart_items WHERE shop_id = ${shopId} AND product_id = ANY(${productIds}::uuid[])`);
  await ctx.query(sql`UPDATE carts SET coupon_code = NULL WHERE shop_id = ${shopId} AND NOT EXISTS (SELECT 1 FROM cart_items WHERE shop_id = ${shopId})`);
}

/** Tells each vendor (and the zone's admins) of its new order, and answers the orders. */
async function pushOrders(ctx: TxCtx, orderIds: string[]): Promise<Order[]> {
  const orders: Order[] = [];
  for (const id of orderIds) {
    const order = toOrder(await loadOrder(ctx, actorOf(ctx), id));
    await tell(ctx, [rooms.vendor(order.vendorId), ...adminRooms([order.zoneId])], 'order:new', order);
    orders.push(order);
  }
  return orders;
}

/** Conditional decrements: of concurrent checkouts for the last units, exactly the stock there is gets sold. */
async function claimStock(ctx: TxCtx, moves: StockMove[]): Promise<void> {
  await moveStock(ctx, moves);
  await ctx.query(
    sql`UPDATE products p SET sold_count = p.sold_count + l.quantity
          FROM unnest(${moves.map((m) => m.productId)}::uuid[], ${moves.map((m) => -m.delta)}::int[]) AS l(id, quantity) WHERE p.id = l.id`,
  );
}

/**
 * Turns the cart into one order per vendor in one transaction. The RPC layer's idempotency key row is in the
 * same transaction, so a retry returns these orders and a failure leaves nothing behind, not even the key.
 */
export async function checkout(ctx: Ctx, input: ParsedInputOf<'cart:checkout'>): Promise<ResultOf<'cart:checkout'>> {
  const shopId = shopOf(ctx);
  const { userId } = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await lockCart(ctx, shopId);
    const target = await deliveryTarget(ctx, shopId, input.addressId);
    const groups = await price(ctx, shopId, target.zoneId, input.vendorIds);
    const { checkoutId, orderIds } = await insertOrders(ctx, target, groups, input.note ?? null);
    const moves = groups.flatMap((g, k) =>
      g.lines.map((l) => ({ productId: l.productId, delta: -l.quantity, reason: 'ORDER_PLACED', actorId: userId, ref: orderIds[k]! })),
    );
    await clearLines(
      ctx,
      shopId,
      moves.map((m) => m.productId),
    );
    const orders = await pushOrders(ctx, orderIds);
    await noticeNewOrders(ctx, shopId, orders);
    // The cart left behind, for the owner's devices (this one too: its answer is the orders, not the cart).
    await tellCart(ctx, await currentCart(ctx), { exceptCaller: false });
    // Last, because the product rows stay locked until commit and popular products are shared by every checkout.
    await claimStock(ctx, moves);
    return { checkoutId, orders };
  });
}
