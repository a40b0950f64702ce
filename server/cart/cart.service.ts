import type { Cart, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { CartItemRow } from '../../db/tables.js';
import { rooms } from '../auth/actor.js';
import { getProduct } from '../catalog/products.service.js';
import { AppError, notFound } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { readCart } from './pricing.js';

const MAX_QUANTITY = 100_000;

export function shopOf(ctx: Ctx): string {
  const { shopId } = actorOf(ctx);
  if (!shopId) throw new AppError('CONFLICT', 'this account has no shop');
  return shopId;
}

/** The caller's cart as it stands now, priced for the given address (else the default one). */
export function currentCart(ctx: Ctx, addressId?: string): Promise<Cart> {
  return readCart(ctx, shopOf(ctx), ctx.deps.config.currency, addressId);
}

/** Locks the shop's cart row (making it if needed): changes and checkouts of one cart from two devices run one after the other. */
export async function lockCart(ctx: TxCtx, shopId: string): Promise<void> {
  await ctx.query(sql`INSERT INTO carts (shop_id) VALUES (${shopId}) ON CONFLICT (shop_id) DO UPDATE SET updated_at = now()`.prepared());
}

/** Shows the cart on the owner's other devices once the transaction commits; the calling socket has it in its answer. */
export async function tellCart(ctx: TxCtx, cart: Cart, opts: { exceptCaller: boolean }): Promise<void> {
  await tell(ctx, [rooms.user(actorOf(ctx).userId)], 'cart:updated', cart, { except: opts.exceptCaller ? ctx.socketId : null });
}

/** Applies a change to the cart in one transaction, answers the new cart and shows it on the owner's other devices. */
export async function changeCart(ctx: Ctx, change: (ctx: TxCtx, shopId: string) => Promise<void>): Promise<Cart> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (ctx) => {
    // The lock and the change's first statements in one round trip, the lock first: the cart is read once the whole change is answered.
    await Promise.all([lockCart(ctx, shopId), change(ctx, shopId)]);
    const cart = await currentCart(ctx);
    await tellCart(ctx, cart, { exceptCaller: true });
    return cart;
  });
}

/** Puts units of a product into the cart at its current price; answers false, and adds nothing, for a product that is not there. */
export async function addLine(ctx: TxCtx, shopId: string, productId: string, quantity: number): Promise<boolean> {
  const [row] = await ctx.query<Pick<CartItemRow, 'quantity'>>(
    sql`INSERT INTO cart_items (shop_id, product_id, quantity, added_price_minor) SELECT ${shopId}, p.id, ${quantity}, p.price_minor FROM products p WHERE p.id = ${productId}
        ON CONFLICT (shop_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity, added_price_minor = EXCLUDED.added_price_minor
        RETURNING quantity`.prepared(),
  );
  if (row && row.quantity > MAX_QUANTITY) throw new AppError('BAD_REQUEST', `at most ${MAX_QUANTITY} units of one product`);
  return row !== undefined;
}

export const getCart = (ctx: Ctx, input: ParsedInputOf<'cart:get'>): Promise<ResultOf<'cart:get'>> => currentCart(ctx, input.addressId);

/** Only a product the shop can see (orderable, sold in its zone) goes in. */
export async function addToCart(ctx: Ctx, input: ParsedInputOf<'cart:add'>): Promise<ResultOf<'cart:add'>> {
  // The product's read and the line in one round trip: one the shop cannot see is NOT_FOUND, and the line, if any, is rolled back.
  return changeCart(ctx, async (ctx, shopId) => {
    await Promise.all([getProduct(ctx, { id: input.productId }), addLine(ctx, shopId, input.productId, input.quantity)]);
  });
}

export const updateCartLine = (ctx: Ctx, input: ParsedInputOf<'cart:update'>): Promise<ResultOf<'cart:update'>> =>
  changeCart(ctx, async (ctx, shopId) => {
    const [row] = await ctx.query(
      sql`UPDATE cart_items ci SET quantity = ${input.quantity}, added_price_minor = p.price_minor FROM products p
           WHERE ci.shop_id = ${shopId} AND ci.product_id = ${input.productId} AND p.id = ci.product_id RETURNING ci.product_id`,
    );
    if (!row) throw notFound('cart line');
  });

/** Removing a line that is not there is not an error: a retry after a lost answer must succeed. */
export const removeCartLine = (ctx: Ctx, input: ParsedInputOf<'cart:remove'>): Promise<ResultOf<'cart:remove'>> =>
  changeCart(ctx, async (ctx, shopId) => {
    await ctx.query(sql`DELETE FROM cart_items WHERE shop_id = ${shopId} AND product_id = ${input.productId}`);
  });

export const clearCart = (ctx: Ctx): Promise<ResultOf<'cart:clear'>> =>
  changeCart(ctx, async (ctx, shopId) => {
    await Promise.all([
      ctx.query(sql`DELETE FROM cart_items WHERE shop_id = ${shopId}`.prepared()),
      ctx.query(sql`UPDATE carts SET coupon_code = NULL WHERE shop_id = ${shopId}`.prepared()),
    ]);
  });

export const setCoupon = (ctx: Ctx, { code }: ParsedInputOf<'cart:coupon'>): Promise<ResultOf<'cart:coupon'>> =>
  changeCart(ctx, async (ctx, shopId) => {
    if (code !== null) {
      const [promo] = await ctx.query(
        sql`SELECT 1 FROM promotions WHERE lower(coupon_code) = lower(${code}) AND active AND ends_at > now() AND (usage_limit IS NULL OR used_count < usage_limit)`,
      );
      if (!promo) throw notFound('coupon');
    }
    await ctx.query(sql`UPDATE carts SET coupon_code = ${code} WHERE shop_id = ${shopId}`);
  });
