import type { Cart, CartProblem, ErrorCode, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { runAgain } from '../../db/tx.js';
import type { PromotionRow } from '../../db/tables.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { price as priceRows, type PricingRows } from '../cart/price.js';
import { loadPricing, type PricedGroup } from '../cart/pricing.js';
import { currentCart, lockCart, shopOf, tellCart } from '../cart/cart.service.js';
import { moveStock } from '../catalog/stock.service.js';
import { AppError, notFound } from '../errors.js';
import { vendorStaffIds } from '../notifications/notify.js';
import { holdPushes } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { noticeNewOrders } from './notices.js';
import { toOrder, type LoadedOrder } from './orders.read.js';
import { deadlineValues } from './deadlines.js';

/** Where the orders go: the zone they are priced and delivered for, and the address (null: the shop's own zone). */
type Target = { zoneId: string; addressId: string | null };

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
 * Takes one use of every limited promotion the groups chose, or answers those used up meanwhile (`short`); `usedUp`:
 * those whose last use this took. The rows are locked in id order, so checkouts sharing coupons queue instead of
 * deadlocking. `held`: the rows an earlier claim of this transaction locked (and keeps locked); one of lower id than
 * those would be locked out of order, so the transaction starts again instead, holding none. Once only: the second
 * run gets here only if a second promotion runs out in it, and then locks what it must as it comes.
 */
async function claimPromotions(ctx: TxCtx, groups: PricedGroup[], held: Set<string>): Promise<{ short: string[]; usedUp: string[] }> {
  const uses = new Map<string, number>();
  for (const g of groups) if (g.promotion) uses.set(g.promotion.id, (uses.get(g.promotion.id) ?? 0) + 1);
  const ids = [...uses.keys()].sort();
  if (ids.length === 0) return { short: [], usedUp: [] };
  const highest = [...held].sort().at(-1);
  if (highest && !ctx.rerun && ids.some((id) => !held.has(id) && id < highest)) runAgain();
  for (const id of ids) held.add(id);
  const rows = await ctx.query<Pick<PromotionRow, 'id'> & { left: number | null }>(
    sql`SELECT id, usage_limit - used_count AS left FROM promotions WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`,
  );
  const short = rows.filter((r) => r.left !== null && r.left < uses.get(r.id)!).map((r) => r.id);
  if (short.length) return { short, usedUp: [] };
  await ctx.query(
    sql`UPDATE promotions p SET used_count = p.used_count + u.n FROM unnest(${ids}::uuid[], ${ids.map((id) => uses.get(id)!)}::int[]) AS u(id, n) WHERE p.id = u.id`,
  );
  return { short: [], usedUp: rows.filter((r) => r.left === uses.get(r.id)).map((r) => r.id) };
}

/**
 * Prices the groups being ordered, for the address given (else the default one), from `first` (what `loadPricing`
 * read for it, leaving out the promotions in `excluded`), and claims their promotions. A promotion too short for the
 * groups that chose it is added to `excluded` and the cart priced again, so the shop gets the best promotion still
 * open rather than an error. `excluded` is carried across the transaction's runs: a second run (runAgain) leaves out
 * from the start what the first found short, rather than lock it again ahead of a promotion of lower id (even if a
 * use was given back meanwhile: the shop then gets the next best, which it was about to get anyway). Answers where
 * the orders go, the rows it was priced from, and the promotions whose last use it took.
 */
async function price(
  ctx: TxCtx,
  first: ReturnType<typeof loadPricing>,
  shopId: string,
  addressId: string | undefined,
  vendorIds: string[] | undefined,
  excluded: string[],
): Promise<{ target: Target; rows: PricingRows; groups: PricedGroup[]; usedUp: string[] }> {
  const held = new Set<string>();
  for (let read = first; ; read = loadPricing(ctx, shopId, addressId, { excludePromotions: [...excluded] })) {
    const { pricing: rows, ...target } = await read;
    const priced = priceRows(rows, { zoneId: target.zoneId, currency: ctx.deps.config.currency });
    const groups = vendorIds ? priced.groups.filter((g) => vendorIds.includes(g.view.vendor.id)) : priced.groups;
    if (groups.length === 0) throw new AppError('CONFLICT', vendorIds ? 'none of these vendors is in the cart' : 'the cart is empty');
    assertCheckoutable(groups);
    const claim = await claimPromotions(ctx, groups, held);
    if (claim.short.length === 0) return { target, rows, groups, usedUp: claim.usedUp };
    excluded.push(...claim.short);
  }
}

/** What the orders statement answers per order: the order as ORDER_SELECT would read it, and its vendor's staff. */
type Placed = LoadedOrder & { staff_ids: string[] };

/**
 * In one statement: the checkout, one order per group (its commission rate and deadlines as of now), all their items,
 * first timeline entries and promotion redemptions, and the ordered lines out of the cart (the coupon goes with the
 * last of them). Answers the orders in the groups' order, read from what was written rather than reloaded.
 */
async function insertOrders(ctx: TxCtx, target: Target, groups: PricedGroup[], note: string | null): Promise<Placed[]> {
  const shopId = shopOf(ctx);
  const { userId } = actorOf(ctx);
  const { acceptBy, expireAt } = deadlineValues(ctx, sql`g.vendor_id`);
  const lines = groups.flatMap((g) => g.lines.map((l) => ({ ...l, vendorId: g.view.vendor.id })));
  const productIds = lines.map((l) => l.productId);
  const col = <T>(f: (g: PricedGroup) => T) => groups.map(f);
  const line = <T>(f: (l: (typeof lines)[number]) => T) => lines.map(f);
  const rows = await ctx.query<Placed>(
    sql`
    WITH g AS (
      SELECT * FROM unnest(${col((g) => g.view.vendor.id)}::uuid[], ${col((g) => g.view.subtotal)}::bigint[], ${col((g) => g.view.discount)}::bigint[],
                           ${col((g) => g.view.deliveryFee)}::bigint[], ${col((g) => g.view.total)}::bigint[], ${col((g) => g.promotion?.id ?? null)}::uuid[])
             WITH ORDINALITY AS g(vendor_id, subtotal, discount, fee, total, promotion_id, k)
    ), rate AS (
      SELECT g.vendor_id, (SELECT c.commission_bps FROM vendor_commissions c WHERE c.vendor_id = g.vendor_id AND c.effective_from <= ${new Date()}
                            ORDER BY c.effective_from DESC, c.id DESC LIMIT 1) AS bps FROM g
    ), c AS (
      -- Its deadline: the first of its orders' (server/orders/deadlines.ts), an acceptance one as they are new.
      INSERT INTO checkouts (shop_id, created_by, deadline_at) SELECT ${shopId}, ${userId}, (SELECT min(${acceptBy}) FROM g) RETURNING id
    ), o AS (
      INSERT INTO orders (checkout_id, shop_id, vendor_id, zone_id, address_id, subtotal_minor, discount_minor, delivery_fee_minor, total_minor,
                          currency, commission_bps, promotion_id, note, accept_by, expire_at)
      SELECT c.id, ${shopId}, g.vendor_id, ${target.zoneId}, ${target.addressId}::uuid, g.subtotal, g.discount, g.fee, g.total,
             ${ctx.deps.config.currency}, r.bps, g.promotion_id, ${note}::text, ${acceptBy}, ${expireAt}
        FROM g JOIN rate r ON r.vendor_id = g.vendor_id CROSS JOIN c
       -- A vendor without a rate: no order is written and the checkout fails (below).
       WHERE NOT EXISTS (SELECT 1 FROM rate WHERE bps IS NULL)
       ORDER BY g.k
      RETURNING *
    ), items AS (
      INSERT INTO order_items (order_id, product_id, name_ar, name_en, category_id, unit_price_minor, ordered_quantity, quantity)
      SELECT o.id, l.product_id, l.name_ar, l.name_en, l.category_id, l.price, l.quantity, l.quantity
        FROM unnest(${line((l) => l.vendorId)}::uuid[], ${productIds}::uuid[], ${line((l) => l.nameAr)}::text[], ${line((l) => l.nameEn)}::text[],
                    ${line((l) => l.categoryId)}::uuid[], ${line((l) => l.unitPrice)}::bigint[], ${line((l) => l.quantity)}::int[]) WITH ORDINALITY
             AS l(vendor_id, product_id, name_ar, name_en, category_id, price, quantity, k)
        JOIN o ON o.vendor_id = l.vendor_id ORDER BY l.k
      RETURNING *
    ), events AS (
      INSERT INTO order_events (order_id, status, actor_id, reason) SELECT o.id, 'PENDING', ${userId}::uuid, NULL FROM o ORDER BY o.number
      RETURNING *
    ), redemptions AS (
      INSERT INTO promotion_redemptions (promotion_id, order_id, shop_id, discount_minor)
      SELECT o.promotion_id, o.id, o.shop_id, o.discount_minor FROM o WHERE o.promotion_id IS NOT NULL
    ), cleared AS (
      DELETE FROM cart_items WHERE shop_id = ${shopId} AND product_id = ANY(${productIds}::uuid[])
    ), uncouponed AS (
      -- The statement sees the cart as it was before the DELETE above, hence the lines it takes are left out by hand.
      UPDATE carts SET coupon_code = NULL
       WHERE shop_id = ${shopId} AND NOT EXISTS (SELECT 1 FROM cart_items WHERE shop_id = ${shopId} AND NOT (product_id = ANY(${productIds}::uuid[])))
    )
    SELECT o.id, o.number, o.checkout_id, o.shop_id, o.vendor_id, v.name AS vendor_name, o.zone_id, o.address_id, o.status,
           o.subtotal_minor, o.discount_minor, o.delivery_fee_minor, o.total_minor, o.currency, o.commission_bps, o.promotion_id,
           pr.name_ar AS promotion_name_ar, pr.name_en AS promotion_name_en, pr.coupon_code, o.note, o.driver_id, o.delivery_code, o.code_failures, o.eta_at,
           o.delivered_at, o.created_at, o.accept_by, o.expire_at, o.created_at::text AS created_key,
           coalesce((SELECT json_agg(json_build_object('productId', i.product_id, 'nameAr', i.name_ar, 'nameEn', i.name_en, 'categoryId', i.category_id,
                      'unitPrice', i.unit_price_minor, 'quantity', i.quantity, 'orderedQuantity', i.ordered_quantity) ORDER BY i.name_en, i.product_id)
                       FROM items i WHERE i.order_id = o.id), '[]') AS items,
           coalesce((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'by', e.actor_id, 'reason', e.reason) ORDER BY e.id)
                       FROM events e WHERE e.order_id = o.id), '[]') AS timeline,
           ${vendorStaffIds(sql`o.vendor_id`)} AS staff_ids, s.owner_id AS shop_owner_id, s.name AS shop_name
      FROM o JOIN vendors v ON v.id = o.vendor_id LEFT JOIN promotions pr ON pr.id = o.promotion_id JOIN shops s ON s.id = o.shop_id
     ORDER BY o.number`.prepared(),
  );
  if (rows.length === 0) throw notFound('commission rate');
  const byVendor = new Map(rows.map((r) => [r.vendor_id, r]));
  return groups.map((g) => byVendor.get(g.view.vendor.id)!);
}

/**
 * The cart left behind, priced from the rows this checkout read: its other lines, and the promotions still open
 * (one whose last use this checkout took is not). No one else changed the lines meanwhile: the cart row is locked.
 */
function cartLeft(rows: PricingRows, ordered: Set<string>, usedUp: string[], zoneId: string, currency: string): Cart {
  const lines = rows.lines.filter((l) => !ordered.has(l.product_id));
  const rules = rows.rules.filter((r) => !usedUp.includes(r.id));
  return priceRows({ ...rows, lines, rules, couponCode: lines.length ? rows.couponCode : null }, { zoneId, currency }).cart;
}

/**
 * Turns the cart into one order per vendor in one transaction. The RPC layer's idempotency key row is in the
 * same transaction, so a retry returns these orders and a failure leaves nothing behind, not even the key.
 * Set-based: the target and pricing reads are one statement, the orders and everything they carry (with the
 * checkout's first deadline) one, the notifications one and the stock one, whatever the number of vendors and lines;
 * the `order:new` and `notification:new` pushes, the deliveries with their job and the key's result are held and
 * written together just before COMMIT (Tx.hold): eleven statements with BEGIN, its plan mode and COMMIT, in five
 * round trips — BEGIN, the plan mode, the session check and the key's claim; the cart lock and the pricing read; the
 * orders; the notifications; the stock, the held writes and COMMIT (test/checkout-statements.test.ts). The stock goes
 * with the COMMIT (Tx.atCommit): a checkout that falls short, or brings a product to its low-stock threshold, runs
 * again with the stock answered (moveStock).
 */
export async function checkout(ctx: Ctx, input: ParsedInputOf<'cart:checkout'>): Promise<ResultOf<'cart:checkout'>> {
  const shopId = shopOf(ctx);
  const { userId } = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const excluded = ctx.carried<string[]>('checkout:short-promotions', () => []); // see price
    // Sent together, in this order: the cart row's lock, then the read pricing starts from, which runs once it holds.
    const locked = lockCart(ctx, shopId);
    const first = loadPricing(ctx, shopId, input.addressId, { excludePromotions: [...excluded] });
    first.catch(() => undefined); // awaited by price, unless the lock failed first
    await locked;
    const { target, rows, groups, usedUp } = await price(ctx, first, shopId, input.addressId, input.vendorIds, excluded);
    const placed = await insertOrders(ctx, target, groups, input.note ?? null);
    const orders = placed.map(toOrder);
    // Each vendor (and the zone's admins) hears of its new order.
    holdPushes(
      ctx,
      'order:new',
      orders.map((o) => ({ rooms: [rooms.vendor(o.vendorId), ...adminRooms([o.zoneId])], data: o })),
    );
    const moves = groups.flatMap((g, k) =>
      g.lines.map((l) => ({ productId: l.productId, delta: -l.quantity, reason: 'ORDER_PLACED', actorId: userId, ref: orders[k]!.id })),
    );
    // The cart left behind, for the owner's devices (this one too: its answer is the orders, not the cart). It is shown for the
    // default address, which is what was priced unless the checkout named another.
    const left =
      input.addressId === undefined
        ? Promise.resolve(cartLeft(rows, new Set(moves.map((m) => m.productId)), usedUp, target.zoneId, ctx.deps.config.currency))
        : currentCart(ctx);
    // The notifications and the cart left sent together; the stock with the COMMIT, because the product rows stay
    // locked until commit and popular products are shared by every checkout; conditional decrements: of concurrent
    // checkouts for the last units, exactly the stock there is gets sold.
    await Promise.all([
      noticeNewOrders(
        ctx,
        placed[0]!.shop_name,
        placed.map((p, i) => ({ order: orders[i]!, staff: p.staff_ids })),
      ),
      left.then((cart) => tellCart(ctx, cart, { exceptCaller: false })),
      moveStock(ctx, moves, { sold: true, atCommit: true }),
    ]);
    return { checkoutId: orders[0]!.checkoutId, orders };
  });
}
