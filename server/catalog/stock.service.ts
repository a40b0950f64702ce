import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { ProductRow, StockHistoryRow } from '../../db/tables.js';
import { AppError, notFound } from '../errors.js';
import { notify, vendorStaff } from '../notifications/notify.js';
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

type Moved = Pick<ProductRow, 'id' | 'vendor_id' | 'name_ar' | 'name_en' | 'stock' | 'low_stock_threshold' | 'low_stock_alerted'>;

/**
 * Whether a move just brought a product to or below its low-stock threshold and staff have not been told since it
 * was last above it. The row is locked by the move until commit, so of two sales at once only one sees the fall.
 * A level that was above the threshold counts even with the flag still set (a write that bypasses moveStock).
 */
export function fellToThreshold(row: Pick<Moved, 'stock' | 'low_stock_threshold' | 'low_stock_alerted'>, delta: number): boolean {
  return row.stock <= row.low_stock_threshold && (!row.low_stock_alerted || row.stock - delta > row.low_stock_threshold);
}

/** Marks the fallen products told and tells each one's vendor staff, once per product. */
async function alertLowStock(ctx: TxCtx, fallen: Moved[]): Promise<void> {
  if (fallen.length === 0) return;
  await ctx.query(sql`UPDATE products SET low_stock_alerted = true WHERE id = ANY(${fallen.map((p) => p.id)}::uuid[])`);
  const staff = new Map<string, string[]>();
  for (const p of fallen) {
    if (!staff.has(p.vendor_id)) staff.set(p.vendor_id, await vendorStaff(ctx, p.vendor_id));
    await notify(ctx, {
      kind: 'stock.low',
      userIds: staff.get(p.vendor_id)!,
      vars: { productAr: p.name_ar, productEn: p.name_en, stock: p.stock, threshold: p.low_stock_threshold },
      link: { type: 'product', id: p.id },
    });
  }
}

/**
 * Moves stock with one conditional update per product, in id order so concurrent multi-product
 * moves never deadlock. A move that would go below zero changes nothing and answers which
 * products fell short. Every move leaves a history row with the level it left.
 */
export async function moveStock(ctx: TxCtx, moves: StockMove[]): Promise<void> {
  const sorted = [...moves].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  const short: Array<{ productId: string; requested: number; available: number }> = [];
  // By product: a product moved twice in one call is told once.
  const fallen = new Map<string, Moved>();
  for (const m of sorted) {
    // Rising above the threshold clears the alert, so the next fall is told again; at or below it, the flag stays as it was.
    const [row] = await ctx.query<Moved>(
      sql`UPDATE products SET stock = stock + ${m.delta}::int, updated_at = now(),
                              low_stock_alerted = low_stock_alerted AND stock + ${m.delta}::int <= low_stock_threshold
           WHERE id = ${m.productId} AND stock + ${m.delta}::int >= 0
           RETURNING id, vendor_id, name_ar, name_en, stock, low_stock_threshold, low_stock_alerted`,
    );
    if (!row) {
      const [p] = await ctx.query<Pick<ProductRow, 'stock'>>(sql`SELECT stock FROM products WHERE id = ${m.productId}`);
      if (!p) throw notFound('product');
      short.push({ productId: m.productId, requested: -m.delta, available: p.stock });
      continue;
    }
    if (fellToThreshold(row, m.delta)) fallen.set(row.id, row);
    await ctx.query(
      sql`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id, ref)
          VALUES (${m.productId}, ${m.delta}, ${row.stock}, ${m.reason}, ${m.actorId}, ${m.ref ?? null})`,
    );
  }
  if (short.length) throw new AppError('INSUFFICIENT_STOCK', 'not enough stock', { products: short });
  await alertLowStock(ctx, [...fallen.values()]);
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
