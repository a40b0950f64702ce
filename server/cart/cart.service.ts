import type { Cart, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import { rooms } from '../auth/actor.js';
import { getProduct } from '../catalog/products.service.js';
import { AppError, notFound } from '../errors.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Reader } from '../../db/tx.js';
import { deliveryTarget, priceCart } from './pricing.js';

const MAX_QUANTITY = 100_000;

export function shopOf(ctx: Ctx): string {
  const { shopId } = actorOf(ctx);
  if (!shopId) throw new AppError('CONFLICT', 'this account has no shop');
  return shopId;
}

export async function currentCart(ctx: Ctx, r: Reader, shopId: string, addressId?: string): Promise<Cart> {
  const { zoneId } = await deliveryTarget(r, shopId, addressId);
  return (await priceCart(r, shopId, zoneId, ctx.deps.config.currency)).cart;
}

/** Applies a change to the cart in one transaction, answers the new cart and shows it on the owner's other devices. */
export async function changeCart(ctx: Ctx, change: (tx: Tx, shopId: string) => Promise<void>): Promise<Cart> {
  const shopId = shopOf(ctx);
  const cart = await ctx.tx(async (tx) => {
    // One row per shop, locked: concurrent changes from two devices apply one after the other.
    await tx.query('INSERT INTO carts (shop_id) VALUES ($1) ON CONFLICT (shop_id) DO UPDATE SET updated_at = now()', [shopId]);
    await change(tx, shopId);
    return currentCart(ctx, tx, shopId);
  });
  const others = ctx.deps.io.to(rooms.user(actorOf(ctx).userId));
  (ctx.socketId ? others.except(ctx.socketId) : others).emit('cart:updated', cart);
  return cart;
}

/** Puts units of a product into the cart at the given (current) price. */
export async function addLine(tx: Tx, shopId: string, productId: string, quantity: number, price: number): Promise<void> {
  const [row] = await tx.query<{ quantity: number }>(
    `INSERT INTO cart_items (shop_id, product_id, quantity, added_price_minor) VALUES ($1, $2, $3, $4)
     ON CONFLICT (shop_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity, added_price_minor = EXCLUDED.added_price_minor
     RETURNING quantity`,
    [shopId, productId, quantity, price],
  );
  if (row!.quantity > MAX_QUANTITY) throw new AppError('BAD_REQUEST', `at most ${MAX_QUANTITY} units of one product`);
}

export const getCart = (ctx: Ctx, input: ParsedInputOf<'cart:get'>): Promise<ResultOf<'cart:get'>> =>
  ctx.read((r) => currentCart(ctx, r, shopOf(ctx), input.addressId));

/** Only a product the shop can see (orderable, sold in its zone) goes in. */
export async function addToCart(ctx: Ctx, input: ParsedInputOf<'cart:add'>): Promise<ResultOf<'cart:add'>> {
  const product = await getProduct(ctx, { id: input.productId });
  return changeCart(ctx, (tx, shopId) => addLine(tx, shopId, input.productId, input.quantity, product.price));
}

export const updateCartLine = (ctx: Ctx, input: ParsedInputOf<'cart:update'>): Promise<ResultOf<'cart:update'>> =>
  changeCart(ctx, async (tx, shopId) => {
    const [row] = await tx.query(
      `UPDATE cart_items ci SET quantity = $3, added_price_minor = p.price_minor FROM products p
        WHERE ci.shop_id = $1 AND ci.product_id = $2 AND p.id = ci.product_id RETURNING ci.product_id`,
      [shopId, input.productId, input.quantity],
    );
    if (!row) throw notFound('cart line');
  });

/** Removing a line that is not there is not an error: a retry after a lost answer must succeed. */
export const removeCartLine = (ctx: Ctx, input: ParsedInputOf<'cart:remove'>): Promise<ResultOf<'cart:remove'>> =>
  changeCart(ctx, async (tx, shopId) => {
    await tx.query('DELETE FROM cart_items WHERE shop_id = $1 AND product_id = $2', [shopId, input.productId]);
  });

export const clearCart = (ctx: Ctx): Promise<ResultOf<'cart:clear'>> =>
  changeCart(ctx, async (tx, shopId) => {
    await tx.query('DELETE FROM cart_items WHERE shop_id = $1', [shopId]);
    await tx.query('UPDATE carts SET coupon_code = NULL WHERE shop_id = $1', [shopId]);
  });

export const setCoupon = (ctx: Ctx, { code }: ParsedInputOf<'cart:coupon'>): Promise<ResultOf<'cart:coupon'>> =>
  changeCart(ctx, async (tx, shopId) => {
    if (code !== null) {
      const [promo] = await tx.query(
        'SELECT 1 FROM promotions WHERE lower(coupon_code) = lower($1) AND active AND ends_at > now() AND (usage_limit IS NULL OR used_count < usage_limit)',
        [code],
      );
      if (!promo) throw notFound('coupon');
    }
    await tx.query('UPDATE carts SET coupon_code = $2 WHERE shop_id = $1', [shopId, code]);
  });
