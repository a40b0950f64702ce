import type { CartProblem, ErrorCode, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { deliveryTarget, priceCart, type PricedGroup } from '../cart/pricing.js';
import { currentCart, shopOf } from '../cart/cart.service.js';
import { moveStock } from '../catalog/stock.service.js';
import { AppError } from '../errors.js';
import { push } from '../outbox/outbox.js';
import { actorOf, createCtx, type Ctx } from '../rpc/context.js';
import { commissionAt } from '../vendors/vendors.service.js';
import { loadOrder, toOrder } from './orders.read.js';
import { recordEvent } from './workflow.js';

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
async function claimPromotions(tx: Tx, groups: PricedGroup[]): Promise<string[]> {
  const uses = new Map<string, number>();
  for (const g of groups) if (g.promotion) uses.set(g.promotion.id, (uses.get(g.promotion.id) ?? 0) + 1);
  const ids = [...uses.keys()].sort();
  if (ids.length === 0) return [];
  const rows = await tx.query<{ id: string; left: number | null }>(
    'SELECT id, usage_limit - used_count AS left FROM promotions WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  const short = rows.filter((r) => r.left !== null && r.left < uses.get(r.id)!).map((r) => r.id);
  if (short.length) return short;
  for (const [id, n] of uses) await tx.query('UPDATE promotions SET used_count = used_count + $2 WHERE id = $1', [id, n]);
  return [];
}

/**
 * Turns the cart into one order per vendor in one transaction. The RPC layer's idempotency key row is in the
 * same transaction, so a retry returns these orders and a failure leaves nothing behind, not even the key.
 */
export async function checkout(ctx: Ctx, input: ParsedInputOf<'cart:checkout'>): Promise<ResultOf<'cart:checkout'>> {
  const actor = actorOf(ctx);
  const shopId = shopOf(ctx);
  const { currency } = ctx.deps.config;
  return ctx.tx(async (tx) => {
    // The cart row lock makes two checkouts of one cart (two devices) run one after the other.
    await tx.query('INSERT INTO carts (shop_id) VALUES ($1) ON CONFLICT (shop_id) DO UPDATE SET updated_at = now()', [shopId]);
    const target = await deliveryTarget(tx, shopId, input.addressId);
    const excluded: string[] = [];
    let groups: PricedGroup[];
    for (;;) {
      const priced = await priceCart(tx, shopId, target.zoneId, currency, { excludePromotions: excluded });
      groups = input.vendorIds ? priced.groups.filter((g) => input.vendorIds!.includes(g.view.vendor.id)) : priced.groups;
      if (groups.length === 0) throw new AppError('CONFLICT', input.vendorIds ? 'none of these vendors is in the cart' : 'the cart is empty');
      assertCheckoutable(groups);
      const usedUp = await claimPromotions(tx, groups);
      if (usedUp.length === 0) break;
      excluded.push(...usedUp);
    }

    const [{ id: checkoutId }] = (await tx.query<{ id: string }>('INSERT INTO checkouts (shop_id, created_by) VALUES ($1, $2) RETURNING id', [
      shopId,
      actor.userId,
    ])) as [{ id: string }];
    const orderIds: string[] = [];
    const moves = [];
    for (const g of groups) {
      const v = g.view;
      const [{ id }] = (await tx.query<{ id: string }>(
        `INSERT INTO orders (checkout_id, shop_id, vendor_id, zone_id, address_id, subtotal_minor, discount_minor, delivery_fee_minor, total_minor,
                             currency, commission_bps, promotion_id, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
        [
          checkoutId,
          shopId,
          v.vendor.id,
          target.zoneId,
          target.addressId,
          v.subtotal,
          v.discount,
          v.deliveryFee,
          v.total,
          currency,
          await commissionAt(tx, v.vendor.id),
          g.promotion?.id ?? null,
          input.note ?? null,
        ],
      )) as [{ id: string }];
      orderIds.push(id);
      await tx.query(
        `INSERT INTO order_items (order_id, product_id, name_ar, name_en, category_id, unit_price_minor, ordered_quantity, quantity)
         SELECT $1, l.product_id, l.name_ar, l.name_en, l.category_id, l.price, l.quantity, l.quantity
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::bigint[], $7::int[]) AS l(product_id, name_ar, name_en, category_id, price, quantity)`,
        [
          id,
          g.lines.map((l) => l.productId),
          g.lines.map((l) => l.nameAr),
          g.lines.map((l) => l.nameEn),
          g.lines.map((l) => l.categoryId),
          g.lines.map((l) => l.unitPrice),
          g.lines.map((l) => l.quantity),
        ],
      );
      await recordEvent(tx, id, 'PENDING', actor.userId, null);
      if (g.promotion) {
        await tx.query('INSERT INTO promotion_redemptions (promotion_id, order_id, shop_id, discount_minor) VALUES ($1, $2, $3, $4)', [
          g.promotion.id,
          id,
          shopId,
          v.discount,
        ]);
      }
      moves.push(...g.lines.map((l) => ({ productId: l.productId, delta: -l.quantity, reason: 'ORDER_PLACED', actorId: actor.userId, ref: id })));
    }
    const ordered = moves.map((m) => m.productId);
    await tx.query('DELETE FROM cart_items WHERE shop_id = $1 AND product_id = ANY($2::uuid[])', [shopId, ordered]);
    await tx.query('UPDATE carts SET coupon_code = NULL WHERE shop_id = $1 AND NOT EXISTS (SELECT 1 FROM cart_items WHERE shop_id = $1)', [shopId]);
    const orders = [];
    for (const id of orderIds) {
      const order = toOrder(await loadOrder(tx, actor, id));
      await push(ctx.deps, tx, [rooms.vendor(order.vendorId), ...adminRooms([order.zoneId])], 'order:new', order);
      orders.push(order);
    }
    // Last, because the product rows stay locked until commit and popular products are shared by every checkout.
    // Conditional decrements: of concurrent checkouts for the last units, exactly the stock there is gets sold.
    await moveStock(tx, moves);
    await tx.query('UPDATE products p SET sold_count = p.sold_count + l.quantity FROM unnest($1::uuid[], $2::int[]) AS l(id, quantity) WHERE p.id = l.id', [
      ordered,
      moves.map((m) => -m.delta),
    ]);
    tx.afterCommit(async () => {
      const cart = await createCtx(ctx).read((r) => currentCart(ctx, r, shopId));
      ctx.deps.io.to(rooms.user(actor.userId)).emit('cart:updated', cart);
    });
    return { checkoutId, orders };
  });
}
