import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import type { Deps } from '../deps.js';
import { AppError, notFound } from '../errors.js';
import { markStockChanged } from '../outbox/outbox.js';
import { decodeCursor, page } from '../pagination.js';
import { actorOf, type Ctx } from '../rpc/context.js';
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
export async function moveStock(deps: Pick<Deps, 'db' | 'sequencer'>, tx: Tx, moves: StockMove[]): Promise<void> {
  const sorted = [...moves].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  const short: Array<{ productId: string; requested: number; available: number }> = [];
  for (const m of sorted) {
    const [row] = await tx.query<{ stock: number }>(
      'UPDATE products SET stock = stock + $2, updated_at = now() WHERE id = $1 AND stock + $2 >= 0 RETURNING stock',
      [m.productId, m.delta],
    );
    if (!row) {
      const [p] = await tx.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [m.productId]);
      if (!p) throw notFound('product');
      short.push({ productId: m.productId, requested: -m.delta, available: p.stock });
      continue;
    }
    await tx.query('INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id, ref) VALUES ($1, $2, $3, $4, $5, $6)', [
      m.productId,
      m.delta,
      row.stock,
      m.reason,
      m.actorId,
      m.ref ?? null,
    ]);
  }
  if (short.length) throw new AppError('INSUFFICIENT_STOCK', 'not enough stock', { products: short });
  await markStockChanged(
    deps,
    tx,
    sorted.map((m) => m.productId),
  );
}

export async function adjustStock(ctx: Ctx, input: ParsedInputOf<'stock:adjust'>): Promise<ResultOf<'stock:adjust'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    await loadCatalogProduct(tx, actor, input.productId, true);
    await moveStock(ctx.deps, tx, [{ productId: input.productId, delta: input.delta, reason: input.reason, actorId: actor.userId }]);
    const [row] = await tx.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [input.productId]);
    return { productId: input.productId, stock: row!.stock };
  });
}

export async function stockHistory(ctx: Ctx, input: ParsedInputOf<'stock:history'>): Promise<ResultOf<'stock:history'>> {
  const actor = actorOf(ctx);
  return ctx.read(async (r) => {
    await loadCatalogProduct(r, actor, input.productId);
    const before = input.cursor ? Number(decodeCursor(input.cursor, ['bigint'])[0]) : Number.MAX_SAFE_INTEGER;
    const rows = await r.query<{ id: number; product_id: string; delta: number; stock_after: number; reason: string; actor_id: string | null; at: Date }>(
      'SELECT id, product_id, delta, stock_after, reason, actor_id, at FROM stock_history WHERE product_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
      [input.productId, before, input.limit + 1],
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
  });
}
