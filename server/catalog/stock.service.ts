import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { ProductRow, StockHistoryRow } from '../../db/tables.js';
import { AppError, notFound } from '../errors.js';
import { markStockChanged } from '../outbox/outbox.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { loadCatalogProduct } from './products.service.js';

export interface StockMove {
  productId: string;
  delta: number;
  reason: string;
  actorId: string | null;
  ref?: string;
}

/**
 * Moves stock with one conditional update per product, in id order so concurrent multi-product
 * moves never deadlock. A move that would go below zero changes nothing and answers which
 * products fell short. Every move leaves a history row with the level it left.
 */
export async function moveStock(ctx: TxCtx, moves: StockMove[]): Promise<void> {
  const sorted = [...moves].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  const short: Array<{ productId: string; requested: number; available: number }> = [];
  for (const m of sorted) {
    const [row] = await ctx.query<Pick<ProductRow, 'stock'>>(
      sql`UPDATE products SET stock = stock + ${m.delta}::int, updated_at = now() WHERE id = ${m.productId} AND stock + ${m.delta}::int >= 0 RETURNING stock`,
    );
    if (!row) {
      const [p] = await ctx.query<Pick<ProductRow, 'stock'>>(sql`SELECT stock FROM products WHERE id = ${m.productId}`);
      if (!p) throw notFound('product');
      short.push({ productId: m.productId, requested: -m.delta, available: p.stock });
      continue;
    }
    await ctx.query(
      sql`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id, ref)
          VALUES (${m.productId}, ${m.delta}, ${row.stock}, ${m.reason}, ${m.actorId}, ${m.ref ?? null})`,
    );
  }
  if (short.length) throw new AppError('INSUFFICIENT_STOCK', 'not enough stock', { products: short });
  await markStockChanged(
    ctx,
    sorted.map((m) => m.productId),
  );
}

export async function adjustStock(ctx: Ctx, input: ParsedInputOf<'stock:adjust'>): Promise<ResultOf<'stock:adjust'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await loadCatalogProduct(ctx, input.productId, true);
    await moveStock(ctx, [{ productId: input.productId, delta: input.delta, reason: input.reason, actorId: actor.userId }]);
    const [row] = await ctx.query<Pick<ProductRow, 'stock'>>(sql`SELECT stock FROM products WHERE id = ${input.productId}`);
    return { productId: input.productId, stock: row!.stock };
  });
}

export async function stockHistory(ctx: Ctx, input: ParsedInputOf<'stock:history'>): Promise<ResultOf<'stock:history'>> {
  await loadCatalogProduct(ctx, input.productId);
  const rows = await ctx.query<Omit<StockHistoryRow, 'ref'>>(
    sql`SELECT id, product_id, delta, stock_after, reason, actor_id, at FROM stock_history
         WHERE product_id = ${input.productId} AND ${afterCursor(input.cursor, [[sql`id`, 'bigint']])} ORDER BY id DESC LIMIT ${input.limit + 1}`,
  );
  return page(
    rows,
    input.limit,
    (h) => ({
      id: h.id,
      productId: h.product_id,
      delta: h.delta,
      stockAfter: h.stock_after,
      reason: h.reason,
      actorId: h.actor_id,
      at: new Date(h.at).toISOString(),
    }),
    (h) => [String(h.id)],
  );
}
